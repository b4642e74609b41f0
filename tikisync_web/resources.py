"""Where our templates and static files are: inside the installed package (a wheel carries them
as tikisync_web/templates and tikisync_web/static), else in the checkout (an editable install,
or running from the source tree)."""
import os
from importlib import resources

CHECKOUT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def folder(name):
    """The directory holding `name` ("templates" or "static") as a filesystem path."""
    packaged = resources.files(__package__) / name
    if isinstance(packaged, os.PathLike) and packaged.is_dir():
        return os.fspath(packaged)
    return os.path.join(CHECKOUT, name)

"""tikisync-web: Tiki tracker synchronization as a Flask app and plugin."""
from .app import create_app
from .extension import TikiSync

__version__ = "0.1.0"
__all__ = ["TikiSync", "create_app", "__version__"]

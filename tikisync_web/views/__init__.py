"""The UI: one blueprint, routes split by page."""
from . import (  # noqa: F401
    admin,
    clone,
    credentials,
    dashboard,
    drift,
    fields,
    items,
    jobs,
    login,  # importing registers the routes
    resolve,
    sync_tab,
    trackers,
)
from .blueprint import bp


def make_blueprint(root=None):
    return bp

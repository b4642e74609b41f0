"""The UI: one blueprint, routes split by page."""
from . import (admin, clone, credentials, dashboard, drift, fields, items, jobs,  # noqa: F401
               login, resolve, sync_tab, trackers)  # importing registers the routes
from .blueprint import bp


def make_blueprint(root=None):
    return bp

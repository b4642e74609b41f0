"""The UI: one blueprint, routes split by concern."""
from . import (admin, auth, clone, credentials, dashboard, fields, items, jobs,  # noqa: F401
               resolve, sync, trackers)  # importing registers the routes
from .blueprint import bp


def make_blueprint(root=None):
    return bp

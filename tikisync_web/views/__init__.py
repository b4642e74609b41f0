"""The UI: one blueprint, routes split by concern."""
from . import admin, auth, dashboard, fields, items, trackers  # noqa: F401  (register routes)
from .blueprint import bp


def make_blueprint(root=None):
    return bp

"""The UI: one blueprint, routes split by page."""
# Importing a module registers its routes (and labels.py its template filters) on bp.
from . import (  # noqa: F401
    admin,
    clone,
    credentials,
    dashboard,
    drift,
    fields,
    items,
    jobs,
    labels,
    login,
    resolve,
    sync_tab,
    trackers,
)
from .blueprint import bp


def make_blueprint(root=None):
    return bp

"""The UI: one blueprint, routes split by page."""
from flask import Blueprint

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
    schedules,
    sync_tab,
    trackers,
)
from .blueprint import bp


def make_blueprint() -> Blueprint:
    """The UI blueprint (one per process: its routes are registered at import)."""
    return bp

"""Site settings stored in the database (Tiki's preferences)."""
from .db import write_transaction
from .models import Setting

REMOTE_SYNC = "tracker_remote_sync"
DEFAULTS = {REMOTE_SYNC: "y"}


def get(key):
    row = Setting.get_or_none(Setting.key == key)
    return row.value if row is not None else DEFAULTS.get(key, "")


def put(key, value):
    with write_transaction():
        updated = Setting.update(value=value).where(Setting.key == key).execute()
        if not updated and not Setting.select().where(Setting.key == key).exists():
            Setting.create(key=key, value=value)


def sync_enabled():
    return get(REMOTE_SYNC) == "y"


SYNC_DISABLED_MESSAGE = (
    "Synchronization of remote trackers is switched off; an admin can switch it on in Settings."
)

"""Indexes for sorting a large tracker by a field's value (issue 17), made on demand.

The item list sorts by a field through an expression over the item's JSON values
(`expression`). Without an index the database reads every value of the tracker and sorts
them all to show 20 (about a second at 1,000,000 items). So the first time a tracker of more
than MIN_ITEMS items is sorted by a field, a partial index is made on exactly that expression
and the id, for that tracker's rows only:

    CREATE INDEX tikisync_sort_<tracker>_<field>_<t|n><crc> ON item (<expression>, id)
        WHERE tracker_id = <tracker>

and list_items names the tracker by the same literal, so the planner walks the index for
ORDER BY ... LIMIT in either direction. That first sort waits for the index to be built (a few
seconds at 1,000,000 items); if the database is busy (a reload writing), the list is sorted
the plain way this time and the index is made by a later sort. Only trackers somebody sorted
carry such indexes: a fresh clone's reload maintains none. They are dropped with their field
or tracker (`drop`).

MariaDB has no index on an expression (its functional indexes need generated columns): the
sort there reads the tracker's rows, as before. A permName other than letters, digits and
underscores is sorted the plain way too (no literal JSON path to build from it).
"""
import logging
import re
import threading
import weakref
import zlib

import peewee as pw

from . import db as tdb
from .db import database
from .models import Item

log = logging.getLogger(__name__)

MIN_ITEMS = 10_000  # smaller trackers sort fast enough without an index
PREFIX = "tikisync_sort_"
LOCK_WAIT_MS = 1000  # how long the first sort waits for a writer before sorting the plain way
_SIMPLE = re.compile(r"^[A-Za-z0-9_]{1,100}$")
_NUMBER = r"^\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)\s*$"

_made = weakref.WeakKeyDictionary()  # database -> index names known to exist (this process)
_lock = threading.Lock()


def expression(perm, numeric):
    """The SQL text list_items orders by (and the index is made on), or None where no index
    can serve it (MariaDB, an unusual permName). Numbers and dates: junk and empty values are
    NULL, never an error."""
    if tdb.is_mysql() or not _SIMPLE.match(perm):
        return None
    if tdb.is_sqlite():
        value = f"json_extract(\"values\", '$.\"{perm}\"')"
        return f"CAST(NULLIF({value}, '') AS REAL)" if numeric else value
    value = f"(\"values\" ->> '{perm}')"
    if numeric:
        return f"(CASE WHEN {value} ~ '{_NUMBER}' THEN CAST({value} AS NUMERIC) END)"
    return value


def index_name(tracker_id, field, numeric):
    """Names the field by id (a field made again gets a new index) and its permName and kind
    (a changed permName or type gets a new one: the old one is never used, dropped with it)."""
    crc = zlib.crc32(f"{field.perm_name}/{numeric}".encode()) & 0xFFFFFF
    return f"{PREFIX}{int(tracker_id)}_{int(field.id)}_{'n' if numeric else 't'}{crc:06x}"


def ensure(tracker_id, field, numeric, rows):
    """Make the tracker's index for sorting by `field` when it has more than MIN_ITEMS `rows`
    and none exists yet; True when the index is there."""
    sql = expression(field.perm_name, numeric)
    if sql is None:
        return False
    name = index_name(tracker_id, field, numeric)
    known = _made.setdefault(database.obj, set())
    if name in known:
        return True
    if rows <= MIN_ITEMS:  # a small list: not even a look for one
        return False
    if name in _existing(f"{PREFIX}{int(tracker_id)}_"):
        known.add(name)
        return True
    with _lock:  # one build per process; another process's build: IF NOT EXISTS / the catch
        try:
            _create(name, sql, tracker_id)
        except pw.DatabaseError as exc:
            log.warning("tikisync-web: sort index %s not made now (%s); sorted the plain way",
                     name, exc)
            return name in _existing(name)
    known.add(name)
    return True


def _create(name, sql, tracker_id):
    table = Item._meta.table_name
    statement = (f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ({sql}, id) '
                 f"WHERE tracker_id = {int(tracker_id)}")
    if tdb.is_sqlite():
        conn = database.connection()
        configured = conn.execute("PRAGMA busy_timeout").fetchone()[0]
        conn.execute(f"PRAGMA busy_timeout = {LOCK_WAIT_MS}")
        try:
            with database.atomic("IMMEDIATE"):
                database.execute_sql(statement)
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(configured)}")
        return
    with database.atomic():  # writes to the item table wait while it is built
        database.execute_sql(f"SET LOCAL lock_timeout = {LOCK_WAIT_MS}")
        database.execute_sql(statement)
    database.execute_sql(f'ANALYZE "{table}"')  # the new expression's statistics; writes go on


def _existing(prefix):
    if tdb.is_sqlite():
        rows = database.execute_sql("SELECT name FROM sqlite_master WHERE type = 'index' "
                                    "AND tbl_name = ?", (Item._meta.table_name,))
    elif tdb.is_mysql():
        return set()
    else:
        rows = database.execute_sql("SELECT indexname FROM pg_indexes WHERE tablename = %s",
                                    (Item._meta.table_name,))
    return {row[0] for row in rows if row[0].startswith(prefix)}


def drop(tracker_id, field_id=None):
    """Drop the sort indexes of a tracker (deleted), or of one of its fields (deleted)."""
    if tdb.is_mysql():
        return
    prefix = f"{PREFIX}{int(tracker_id)}_" + (f"{int(field_id)}_" if field_id else "")
    for name in sorted(_existing(prefix)):
        database.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
        _made.get(database.obj, set()).discard(name)

"""The full-text index out of a reload's hot path (issue 17), correct at every moment.

SQLite (FTS5 trigram table, dbobjects.py): keeping it current costs about 25 µs per item
written, more than the rest of a fresh clone's reload. So a reload that adds items first sets
its tracker's `search_pending_from` to the next item id, inside its transaction: the index's
triggers then leave that tracker's items from that id up alone, and after the commit `fill`
indexes them in chunks of CHUNK ids, each chunk moving the mark on in its own short write
transaction (edits wait for one chunk, not for the whole fill). Until the mark is gone a
search also scans the pending items' text (item_search.in_search_text), so no result is missing.
A process killed between the commit and the end of the fill leaves the mark: searches stay
right and the next reload of the tracker (or `fill` from anywhere) finishes it.

PostgreSQL (pg_trgm GIN index, about 100 µs per item here): the reload writes its new items
with no search text (NULL, which the index leaves out: dbobjects.py), and `fill` makes it in SQL
from their jsonb values, CHUNK items per transaction; a search also scans the NULL ones
(item_search.in_search_text; a partial index finds them), and an edit meanwhile writes its own.
The reload's transaction also raises `gin_pending_list_limit`, so what GIN does get goes to
its pending list, merged after the commit (`gin_clean_pending_list`). MariaDB has no index.
"""
from __future__ import annotations

import logging

import peewee as pw

from .. import dbobjects
from ..db import database, write_transaction
from ..models import Item, Tracker
from . import bulk

log = logging.getLogger(__name__)

CHUNK = 50_000  # items indexed per write transaction of the fill (1-2 s on SQLite)
PG_PENDING_KIB = 2_000_000  # gin_pending_list_limit (KiB) in a reload: about 2 GB


def text_now() -> bool:
    """False when a reload writes its new items' search text NULL, for `fill` (PostgreSQL)."""
    return not isinstance(database.obj, pw.PostgresqlDatabase)


def begin(tracker) -> None:
    """Inside the reload's transaction, before it adds items: their indexing waits for `fill`."""
    obj = database.obj
    if isinstance(obj, pw.SqliteDatabase):
        if not dbobjects.search_ready(obj):
            return
        t, i = bulk.columns(Tracker), bulk.columns(Item)
        # Ids are given above every id in use, so every item added from now on is pending.
        database.execute_sql(
            f"UPDATE {t} SET {t.search_pending_from} = (SELECT COALESCE(MAX({i.id}), 0) + 1 "
            f"FROM {i}) WHERE {t.id} = ? AND {t.search_pending_from} IS NULL", (tracker.id,))
    elif isinstance(obj, pw.PostgresqlDatabase):
        database.execute_sql(f"SET LOCAL gin_pending_list_limit = {PG_PENDING_KIB}")


def pending_from(tracker) -> int | None:
    """The first item id of `tracker` not in the index yet (SQLite), or None."""
    if not isinstance(database.obj, pw.SqliteDatabase):
        return None
    return (Tracker.select(Tracker.search_pending_from).where(Tracker.id == tracker.id)
            .scalar())


def fill(tracker, progress=None) -> int:
    """Index what `begin` left out; returns the number of items indexed. Safe to call at any
    time, from any process, and again after it was interrupted."""
    obj = database.obj
    if isinstance(obj, pw.PostgresqlDatabase):
        done = _pg_fill(tracker, progress)
        _pg_clean()
        return done
    if not isinstance(obj, pw.SqliteDatabase):
        return 0
    i, fts = bulk.columns(Item), f'"{dbobjects.FTS_TABLE}"'
    done = 0
    while True:
        with write_transaction():
            mark = pending_from(tracker)
            if mark is None:
                return done
            # The last id of the next chunk (None: the rest is under CHUNK items).
            row = bulk.select(f"SELECT {i.id} FROM {i} WHERE {i.tracker} = ? AND {i.id} >= ? "
                              f"ORDER BY {i.id} LIMIT 1 OFFSET {CHUNK - 1}", [tracker.id, mark])
            last = row[0][0] if row else None
            upto = "" if last is None else f" AND {i.id} <= {int(last)}"
            cursor = database.cursor()
            cursor.execute(f"INSERT INTO {fts}(rowid, search_text) SELECT {i.id}, "
                           f"{i.search_text} FROM {i} WHERE {i.tracker} = ? AND {i.id} >= ?"
                           f"{upto}", [tracker.id, mark])
            done += max(cursor.rowcount, 0)
            Tracker.update(search_pending_from=None if last is None else last + 1).where(
                Tracker.id == tracker.id).execute()
        if progress is not None:
            progress.step(message=f"Indexed {done} items for search")


def _pg_fill(tracker, progress):
    i, done = bulk.columns(Item), 0
    text_sql = i.values.join(dbobjects.PG_SEARCH_TEXT)
    while True:
        with write_transaction():
            row = bulk.select(f"SELECT {i.id} FROM {i} WHERE {i.tracker} = %s AND "
                              f"{i.search_text} IS NULL ORDER BY {i.id} LIMIT 1 "
                              f"OFFSET {CHUNK - 1}", [tracker.id])
            last = row[0][0] if row else None
            upto = "" if last is None else f" AND {i.id} <= {int(last)}"
            cursor = database.cursor()
            cursor.execute(f"UPDATE {i} SET {i.search_text} = {text_sql} WHERE {i.tracker} = %s "
                           f"AND {i.search_text} IS NULL{upto}", [tracker.id])
            done += max(cursor.rowcount, 0)
        if progress is not None:
            progress.step(message=f"Indexed {done} items for search")
        if last is None:
            return done


def _pg_clean():
    """Merge the GIN pending list into the index (PostgreSQL 9.6+); if this user may not, the
    next autovacuum does it, and searches read the list meanwhile."""
    try:
        with database.atomic():
            database.execute_sql("SELECT gin_clean_pending_list(%s::regclass)",
                                 (dbobjects.PG_SEARCH_INDEX,))
    except pw.DatabaseError as exc:  # no index (pg_trgm missing) or not its owner
        log.info("tikisync-web: the search index's pending list is left to autovacuum (%s)",
                 exc)

"""Database objects the models cannot declare (issue 17), made with a new schema and by
migration 17 on an existing one:

* triggers that move `Tracker.items_epoch` on whenever the positions of a tracker's items in
  itemId order can change: an item deleted, or its status or tracker changed. Our master
  remembers at which itemId Tiki's offset pages start (master/positions.py) under that epoch,
  so a remembered position is never used after the list moved. Inserting never moves it: ids
  are given by the database, always above every id in use;
* the full-text index of what the item list's search box looks into (Item.search_text):
  SQLite an FTS5 table with the trigram tokenizer (substring matches, as LIKE '%word%'),
  kept current by triggers on the item table; PostgreSQL a pg_trgm GIN index, which its
  planner uses for the same ILIKE '%word%'; MariaDB none (its FULLTEXT matches words, not
  substrings; the search there stays a scan of the tracker's rows);
* PostgreSQL and MariaDB: an index on (tracker_id, id), so a seek `tracker_id = ? AND id > ?`
  in id order is one index range (SQLite's index on tracker_id already ends with the rowid;
  MariaDB's does too, but its optimizer prefers reading the tracker's entries from the start
  when most ids are above the one sought, so the seek names this index there);
* SQLite: partial indexes of the items changed here and of the baselines a master moved, so
  a clone's status reads its edits rather than its items (sync/status.py; migration 21).
"""
import logging
import weakref

import peewee as pw

from . import models as m

log = logging.getLogger(__name__)

TRIGGER_DELETE = "tikisync_item_moved_del"
TRIGGER_UPDATE = "tikisync_item_moved_upd"
PG_FUNCTION = "tikisync_item_moved"
SEEK_INDEX = "tikisync_item_tracker_id_id"


def _names():
    return m.Item._meta.table_name, m.Tracker._meta.table_name


def _sqlite(db):
    item, tracker = _names()
    db.execute_sql(
        f'CREATE TRIGGER IF NOT EXISTS "{TRIGGER_DELETE}" AFTER DELETE ON "{item}" BEGIN '
        f'UPDATE "{tracker}" SET items_epoch = items_epoch + 1 WHERE id = OLD.tracker_id; END')
    db.execute_sql(
        f'CREATE TRIGGER IF NOT EXISTS "{TRIGGER_UPDATE}" AFTER UPDATE OF status, tracker_id '
        f'ON "{item}" WHEN OLD.status IS NOT NEW.status OR OLD.tracker_id IS NOT '
        f'NEW.tracker_id BEGIN UPDATE "{tracker}" SET items_epoch = items_epoch + 1 '
        f'WHERE id IN (OLD.tracker_id, NEW.tracker_id); END')


FTS_TABLE = "tikisync_item_fts"
PG_SEARCH_INDEX = "tikisync_item_search_trgm"


def _sqlite_fts(db):
    item, tracker = _names()
    exists = db.execute_sql("SELECT COUNT(*) FROM sqlite_master WHERE name = ?",
                            (FTS_TABLE,)).fetchone()[0]
    if not exists:
        try:
            db.execute_sql(
                f'CREATE VIRTUAL TABLE "{FTS_TABLE}" USING fts5(search_text, '
                f"content='{item}', content_rowid='id', tokenize='trigram')")
        except pw.OperationalError:  # a SQLite without FTS5 or its trigram tokenizer (< 3.34)
            return
    # An item of a tracker whose index is pending from an id at or below its own is not in
    # the index: no trigger touches it (an FTS5 'delete' of a row it does not hold would
    # corrupt it); sync/search_index.py indexes it as it then is. Before migration 19 (no
    # column yet) every item is indexed.
    marked = "search_pending_from" in {c.name for c in db.get_columns(tracker)}

    def indexed(row):
        if not marked:
            return "1"
        return (f'NOT EXISTS (SELECT 1 FROM "{tracker}" WHERE id = {row}.tracker_id AND '
                f"search_pending_from <= {row}.id)")

    add = f'INSERT INTO "{FTS_TABLE}"(rowid, search_text) SELECT NEW.id, NEW.search_text'
    drop = (f'INSERT INTO "{FTS_TABLE}"("{FTS_TABLE}", rowid, search_text) '
            "SELECT 'delete', OLD.id, OLD.search_text")
    for name, event, body in (
            ("ai", "AFTER INSERT", f"{add} WHERE {indexed('NEW')};"),
            ("ad", "AFTER DELETE", f"{drop} WHERE {indexed('OLD')};"),
            ("au", "AFTER UPDATE OF search_text",
             f"{drop} WHERE {indexed('OLD')}; {add} WHERE {indexed('NEW')};")):
        db.execute_sql(f'DROP TRIGGER IF EXISTS "{FTS_TABLE}_{name}"')
        db.execute_sql(f'CREATE TRIGGER "{FTS_TABLE}_{name}" {event} ON "{item}" '
                       f"BEGIN {body} END")
    if marked:  # a tracker deleted by a foreign key's cascade: its pending items go first,
        # while the mark that keeps them out of the index is still there to be read
        db.execute_sql(f'DROP TRIGGER IF EXISTS "{FTS_TABLE}_td"')
        db.execute_sql(
            f'CREATE TRIGGER "{FTS_TABLE}_td" BEFORE DELETE ON "{tracker}" '
            f"WHEN OLD.search_pending_from IS NOT NULL BEGIN DELETE FROM \"{item}\" "
            f"WHERE tracker_id = OLD.id AND id >= OLD.search_pending_from; END")
    if not exists:  # the rows already there (an upgraded database)
        db.execute_sql(f'INSERT INTO "{FTS_TABLE}"("{FTS_TABLE}") VALUES (\'rebuild\')')


def _postgresql_fts(db):
    item = m.Item._meta.table_name
    try:
        with db.atomic():
            db.execute_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except pw.DatabaseError:  # not installed, or not ours to install: the search scans
        return
    # Without the rows whose search text a reload left NULL: GIN would keep an entry for
    # each (a NULL is indexed too), which costs a reload of 1,000,000 items some 150 MB of WAL
    # (issue 17). A search's LIKE on the column implies it is not NULL, so the index serves
    # it as before. Before migration 20 the index held every row: made again.
    made = db.execute_sql("SELECT indexdef FROM pg_indexes WHERE schemaname = "
                          "current_schema() AND indexname = %s", (PG_SEARCH_INDEX,)).fetchone()
    if made is not None and "IS NOT NULL" not in made[0]:
        db.execute_sql(f'DROP INDEX "{PG_SEARCH_INDEX}"')
    db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{PG_SEARCH_INDEX}" ON "{item}" '
                   "USING gin (search_text gin_trgm_ops) WHERE search_text IS NOT NULL")


def _postgresql_pending(db):
    """The items a reload wrote with no search text yet (NULL), found without a scan."""
    item = m.Item._meta.table_name
    db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{PG_PENDING_INDEX}" ON "{item}" '
                   "(tracker_id, id) WHERE search_text IS NULL")


PG_PENDING_INDEX = "tikisync_item_search_pending"

# What a clone's status reads (sync/status.py classify), found without walking the tracker:
# its items changed here, and the baselines the master moved away from. SQLite only: its
# query names them (INDEXED BY) and repeats their WHERE clauses; PostgreSQL's planner takes
# `hash <> base_hash` for nearly every row and would not use the first; MariaDB has no
# partial indexes.
CHANGED_INDEX = "tikisync_item_changed_here"
CHANGED_WHERE = "hash <> base_hash"
MOVED_INDEX = "tikisync_baseline_moved"
MOVED_WHERE = "theirs_status IS NOT NULL OR deleted_on_master"


def _changed(db):
    item, baseline = m.Item._meta.table_name, m.Baseline._meta.table_name
    db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{CHANGED_INDEX}" ON "{item}" '
                   f"(tracker_id, id) WHERE {CHANGED_WHERE}")
    db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{MOVED_INDEX}" ON "{baseline}" '
                   f"(item_id) WHERE {MOVED_WHERE}")


# PostgreSQL's items.search_text of a jsonb column of values, for the items whose search text
# a reload left NULL: the non-empty values, lower-cased, capped at items.SEARCH_TEXT_MAX (in
# the order jsonb keeps them: a word never spans two values, so a search finds the same items).
PG_SEARCH_TEXT = ("LEFT(LOWER(COALESCE((SELECT string_agg(e.value, ' ') FROM jsonb_each_text(",
                  ") e WHERE e.value <> ''), '')), 16000)")


def pg_search_text(values):
    """PG_SEARCH_TEXT of `values` (a column) as a peewee expression."""
    head, tail = PG_SEARCH_TEXT
    return pw.NodeList((pw.SQL(head), values, pw.SQL(tail)), glue="")


def pending_scan(words):
    """(SQL, params) selecting the ids of items not in the SQLite index yet (their tracker's
    `search_pending_from` is at or below them, sync/search_index.py) whose search text holds
    every word: nothing, after reading the few tracker rows, when no index is pending."""
    item, tracker = _names()
    likes = ["%" + w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
             for w in words]
    held = " AND ".join(["p.search_text LIKE ? ESCAPE '\\'"] * len(words))
    # CROSS JOIN: SQLite reads the tracker rows first (not every item) whatever its statistics.
    return (f'SELECT p.id FROM "{tracker}" pt CROSS JOIN "{item}" p WHERE '
            f"pt.search_pending_from IS NOT NULL AND p.tracker_id = pt.id AND "
            f"p.id >= pt.search_pending_from AND {held}", likes)


_SEARCH_READY = weakref.WeakKeyDictionary()  # database -> search_ready's answer


def search_ready(db):
    """True when this database has the full-text table that items.list_items matches in
    (SQLite only: PostgreSQL's index serves the plain ILIKE). Asked once per database
    (migrations.upgrade asks at start-up), so a page's queries stay the same few."""
    db = getattr(db, "obj", None) or db
    if db not in _SEARCH_READY:
        _SEARCH_READY[db] = isinstance(db, pw.SqliteDatabase) and bool(db.execute_sql(
            "SELECT COUNT(*) FROM sqlite_master WHERE name = ?", (FTS_TABLE,)).fetchone()[0])
    return _SEARCH_READY[db]


def _postgresql(db):
    item, tracker = _names()
    db.execute_sql(
        f'CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ '
        f'BEGIN IF TG_OP = \'DELETE\' THEN '
        f'UPDATE "{tracker}" SET items_epoch = items_epoch + 1 '
        f'WHERE id IN (SELECT DISTINCT tracker_id FROM moved_items); RETURN NULL; END IF; '
        f'UPDATE "{tracker}" SET items_epoch = items_epoch + 1 '
        f'WHERE id IN (OLD.tracker_id, NEW.tracker_id); RETURN NULL; END $$')
    # Deletions once per statement (a reload removes thousands of items in a few statements).
    db.execute_sql(f'DROP TRIGGER IF EXISTS "{TRIGGER_DELETE}" ON "{item}"')
    db.execute_sql(
        f'CREATE TRIGGER "{TRIGGER_DELETE}" AFTER DELETE ON "{item}" REFERENCING OLD TABLE AS '
        f'moved_items FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()')
    db.execute_sql(f'DROP TRIGGER IF EXISTS "{TRIGGER_UPDATE}" ON "{item}"')
    db.execute_sql(
        f'CREATE TRIGGER "{TRIGGER_UPDATE}" AFTER UPDATE OF status, tracker_id ON "{item}" '
        f'FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.tracker_id IS '
        f'DISTINCT FROM NEW.tracker_id) EXECUTE FUNCTION {PG_FUNCTION}()')
    db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{SEEK_INDEX}" ON "{item}" (tracker_id, id)')


def _mysql(db):
    item, tracker = _names()
    # Before the triggers: positions_tracked() (the triggers) implies the index.
    if SEEK_INDEX not in {index.name for index in db.get_indexes(item)}:
        db.execute_sql(f"CREATE INDEX `{SEEK_INDEX}` ON `{item}` (tracker_id, id)")
    db.execute_sql(f"DROP TRIGGER IF EXISTS `{TRIGGER_DELETE}`")
    db.execute_sql(
        f"CREATE TRIGGER `{TRIGGER_DELETE}` AFTER DELETE ON `{item}` FOR EACH ROW "
        f"UPDATE `{tracker}` SET items_epoch = items_epoch + 1 WHERE id = OLD.tracker_id")
    db.execute_sql(f"DROP TRIGGER IF EXISTS `{TRIGGER_UPDATE}`")
    db.execute_sql(
        f"CREATE TRIGGER `{TRIGGER_UPDATE}` AFTER UPDATE ON `{item}` FOR EACH ROW "
        f"UPDATE `{tracker}` SET items_epoch = items_epoch + 1 "
        f"WHERE id IN (OLD.tracker_id, NEW.tracker_id) AND NOT (OLD.status <=> NEW.status "
        f"AND OLD.tracker_id <=> NEW.tracker_id)")


def install(db):
    """Create (or re-create) the triggers and indexes above; idempotent."""
    db = getattr(db, "obj", None) or db  # the DatabaseProxy's database
    if isinstance(db, pw.SqliteDatabase):
        _sqlite(db)
        _sqlite_fts(db)
        _changed(db)
    elif isinstance(db, pw.PostgresqlDatabase):
        _postgresql(db)
        _postgresql_fts(db)
        _postgresql_pending(db)
    else:
        try:
            _mysql(db)
        except pw.DatabaseError as exc:  # no TRIGGER privilege, or binary logging forbids it
            log.warning("tikisync-web: the item position triggers could not be made (%s); "
                        "deep offsets of the master are read the plain way", exc)
    _SEARCH_READY.pop(db, None)  # asked again after the change
    _TRACKED.pop(db, None)


_TRACKED = weakref.WeakKeyDictionary()  # database -> positions_tracked's answer


def positions_tracked(db):
    """True when both epoch triggers exist (a database whose owner could not create triggers
    answers deep offsets the plain way). Asked once per database, as search_ready."""
    db = getattr(db, "obj", None) or db
    if db not in _TRACKED:
        _TRACKED[db] = _triggers_present(db)
    return _TRACKED[db]


def _triggers_present(db):
    wanted = (TRIGGER_DELETE, TRIGGER_UPDATE)
    marks = ", ".join([db.param] * len(wanted))
    if isinstance(db, pw.SqliteDatabase):
        sql = f"SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ({marks})"
    elif isinstance(db, pw.PostgresqlDatabase):
        sql = f"SELECT COUNT(*) FROM pg_trigger WHERE tgname IN ({marks})"
    else:
        sql = ("SELECT COUNT(*) FROM information_schema.triggers WHERE "
               f"trigger_schema = DATABASE() AND trigger_name IN ({marks})")
    return db.execute_sql(sql, wanted).fetchone()[0] == len(wanted)

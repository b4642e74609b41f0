"""Database objects the models cannot declare (issue 17), made with a new schema and by
migration 17 on an existing one:

* triggers that move `Tracker.items_epoch` on whenever the positions of a tracker's items in
  itemId order can change: an item deleted, or its status or tracker changed. Our master
  remembers at which itemId Tiki's offset pages start (master/positions.py) under that epoch,
  so a remembered position is never used after the list moved. Inserting never moves it: ids
  are given by the database, always above every id in use;
* PostgreSQL and MariaDB: an index on (tracker_id, id), so a seek `tracker_id = ? AND id > ?`
  in id order is one index range (SQLite's index on tracker_id already ends with the rowid;
  MariaDB's does too, but its optimizer prefers reading the tracker's entries from the start
  when most ids are above the one sought, so the seek names this index there).
"""
import peewee as pw

from . import models as m

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
    elif isinstance(db, pw.PostgresqlDatabase):
        _postgresql(db)
    else:
        _mysql(db)


def positions_tracked(db):
    """True when both epoch triggers exist (a database whose owner could not create triggers
    answers deep offsets the plain way)."""
    db = getattr(db, "obj", None) or db
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

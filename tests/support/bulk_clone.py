"""A large clone made by the database (issue 17's shape tests): items as a reload leaves them,
and some of them changed here (and on the master) in a couple of statements, not one by one.

    tracker = reloaded_clone(app, fake_master)          # a real clone of the fake master
    synced_items(tracker, 70_000)                       # 70,000 more items, each in sync
    changed_by_sql(tracker, 10)                         # one in ten changed here
    changed_by_sql(tracker, 10, '{"title": "Theirs"}')  # ... and on the master: conflicts
"""
import peewee as pw

from tests.support import seed
from tikisync_web import db as tdb
from tikisync_web.db import database
from tikisync_web.models import Baseline, Item

FIRST_GENERATED = 1_000_000  # remote ids of the items made by the database


def synced_items(tracker, count):
    """`count` more items of the clone, as a reload leaves them (each in sync), made by the
    database in one statement."""
    seed.generated_items(tracker, count)
    Item.update(remote_id=Item.id + FIRST_GENERATED, base_hash=Item.hash).where(
        Item.tracker == tracker, Item.remote_id.is_null()).execute()


def every(n, rest=0):
    """The items whose id leaves `rest` divided by `n` (SQLite's MOD() gives a REAL)."""
    left = pw.Expression(Item.id, "%", n) if tdb.is_sqlite() else pw.fn.MOD(Item.id, n)
    return left == rest


def json_value(text):
    """JSON text as a value for a JSON column (PostgreSQL's is jsonb)."""
    server = not tdb.is_sqlite() and not tdb.is_mysql()
    return pw.Cast(pw.Value(text), "jsonb") if server else pw.Value(text)


def changed_by_sql(tracker, step, theirs=None):
    """One in `step` of the generated items changed here, in two statements: the Baseline
    row holds the base (every field empty), the base hash moves away from the item's. With
    `theirs` (JSON text), the master holds those values: a conflict on each of those fields.
    Returns how many items changed."""
    chosen = ((Item.tracker == tracker) & (Item.remote_id > FIRST_GENERATED) & every(step))
    Baseline.insert_from(
        Item.select(Item.id, json_value("{}"), Item.status, pw.Value("base"), pw.Value(0),
                    pw.Value(False), json_value(theirs) if theirs else pw.SQL("NULL"),
                    pw.Value("o") if theirs else pw.SQL("NULL")).where(chosen),
        fields=[Baseline.item, Baseline.values, Baseline.status, Baseline.hash,
                Baseline.fetched_at, Baseline.deleted_on_master, Baseline.theirs,
                Baseline.theirs_status]).execute()
    Item.update(base_hash="base").where(chosen).execute()
    return Item.select().where(chosen).count()



def analyzed():
    """PostgreSQL: planner statistics of the tables just filled, as autovacuum soon makes
    (without them its plans of a few hundred rows are a toss-up)."""
    if not tdb.is_sqlite() and not tdb.is_mysql():
        for model in (Item, Baseline):
            database.execute_sql(f'ANALYZE "{model._meta.table_name}"')

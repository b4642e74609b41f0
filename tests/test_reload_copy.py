"""PostgreSQL's reload sends its new rows with COPY from a thread of its own (sync/bulk.py's
background_copy, issue 17): the reload prepares the next batch while the server stores the
last one. What a user relies on stays: one statement per batch however long the tracker, every
row there at the commit, and a failure anywhere (a COPY the server refuses, a page the master
does not send) leaves the tracker as it was, after which a reload brings everything. The rows
whose search text waits for the fill are kept out of the trigram index (migration 20)."""
import threading

import psycopg
import pytest

from tests.support import querycost
from tests.support.sync import client, connect, make_clone
from tikisync_web import db as tdb
from tikisync_web import dbobjects
from tikisync_web import items as item_svc
from tikisync_web.db import database
from tikisync_web.models import Item, Tracker
from tikisync_web.remote import errors as remote_errors
from tikisync_web.sync import bulk, search_index
from tikisync_web.sync import reload as reload_mod


@pytest.fixture
def postgres(db):
    if tdb.is_sqlite() or tdb.is_mysql():
        pytest.skip("PostgreSQL only: the others write rows with INSERT, on the reload's thread")


@pytest.fixture
def fresh(app, db, fake_master):
    """A clone of the fake master's tracker, never reloaded, with 40 items on the master."""
    for n in range(37):  # the fake master holds 3 to start with
        fake_master.add_item(1, {"title": f"Okapi {n}", "amount": str(n)})
    connect(app, fake_master)
    return make_clone(app, fake_master)


def reload(app, tracker, master, **kw):
    with client(app, master.url) as c:
        return reload_mod.reload(tracker, c, username="test", batch=5, page_size=10, **kw)


class Statements:
    """Every statement sent to PostgreSQL (execute, executemany, COPY), with its thread."""

    def __init__(self, monkeypatch):
        self.sent = []
        for name in ("execute", "executemany", "copy"):
            original = getattr(psycopg.Cursor, name)
            monkeypatch.setattr(psycopg.Cursor, name, self._counted(original))

    def _counted(self, original):
        def counted(cursor, query, *args, **kwargs):
            self.sent.append((str(query).split(None, 1)[0].upper(), threading.get_ident()))
            return original(cursor, query, *args, **kwargs)
        return counted

    def kinds(self):
        return [kind for kind, _ in self.sent]


def test_a_first_reload_sends_one_copy_per_batch_from_its_own_thread(
        app, postgres, fresh, fake_master, monkeypatch):
    sent = Statements(monkeypatch)
    counts = reload(app, fresh, fake_master)
    assert counts["added"] == 40
    copies = [thread for kind, thread in sent.sent if kind == "COPY"]
    # 40 items in batches of 5: 8 COPYs, none from the reload's thread, and nothing else per
    # batch: the statements before and after the pages are the same few for any length.
    assert len(copies) == 8
    assert threading.get_ident() not in copies
    others = len(sent.kinds()) - len(copies)
    for n in range(40):
        fake_master.add_item(1, {"title": f"Tapir {n}"})
    again = make_clone(app, fake_master)
    sent.sent.clear()
    assert reload(app, again, fake_master)["added"] == 80
    assert sent.kinds().count("COPY") == 16 and len(sent.kinds()) - 16 == others
    stored = {i.remote_id: i.values["title"] for i in Item.select().where(Item.tracker == again)}
    assert stored == {rid: item["fields"]["title"] for rid, item in fake_master.items.items()
                      if item["trackerId"] == 1}


def test_a_copy_the_server_refuses_leaves_the_tracker_empty_and_the_next_reload_works(
        app, postgres, fresh, fake_master, monkeypatch):
    copy_rows, calls = bulk._copy_rows, []

    def third_refused(connection, sql, rows):
        calls.append(threading.get_ident())
        if len(calls) == 3:  # a status too long for its column: the server refuses the COPY
            first = list(rows[0])
            first[reload_mod.INSERTED.index("status")] = "xx"
            rows = [tuple(first)] + list(rows[1:])
        return copy_rows(connection, sql, rows)

    monkeypatch.setattr(bulk, "_copy_rows", third_refused)
    with pytest.raises(psycopg.errors.StringDataRightTruncation):
        reload(app, fresh, fake_master)
    assert threading.get_ident() not in calls
    assert Item.select().where(Item.tracker == fresh).count() == 0
    assert Tracker.get_by_id(fresh.id).last_reload_at is None
    monkeypatch.undo()
    assert reload(app, fresh, fake_master)["added"] == 40
    assert Item.select().where(Item.tracker == fresh).count() == 40


def test_a_page_the_master_fails_while_copies_wait_leaves_the_tracker_empty(
        app, fresh, fake_master, monkeypatch):
    copy_rows, sent = bulk._copy_rows, threading.Event()

    def slow(connection, sql, rows):  # the master's failure comes while a COPY waits
        sent.set()
        return copy_rows(connection, sql, rows)

    monkeypatch.setattr(bulk, "_copy_rows", slow)
    fake_master.settings.fail_pages = {3}
    fake_master.settings.fail_status = 500
    fake_master.page_count = 0
    with pytest.raises(remote_errors.RemoteError):
        reload(app, fresh, fake_master)
    if not (tdb.is_sqlite() or tdb.is_mysql()):
        assert sent.is_set()  # some rows had been handed over before the failure
    assert Item.select().where(Item.tracker == fresh).count() == 0
    fake_master.settings.fail_pages = set()
    assert reload(app, fresh, fake_master)["added"] == 40


def test_the_rows_waiting_for_their_search_text_stay_out_of_the_trigram_index(
        app, postgres, fresh, fake_master, monkeypatch):
    """GIN keeps an entry even for a NULL; the index leaves those rows out (migration 20
    makes it again on an older database), a search still finds them, and the search's LIKE
    is still the index's."""
    item = Item._meta.table_name
    database.execute_sql(f'DROP INDEX "{dbobjects.PG_SEARCH_INDEX}"')  # as before migration 20
    database.execute_sql(f'CREATE INDEX "{dbobjects.PG_SEARCH_INDEX}" ON "{item}" '
                         "USING gin (search_text gin_trgm_ops)")
    dbobjects.install(database)
    made = database.execute_sql("SELECT indexdef FROM pg_indexes WHERE indexname = %s",
                                (dbobjects.PG_SEARCH_INDEX,)).fetchone()[0]
    assert made.endswith("WHERE (search_text IS NOT NULL)"), made
    reload(app, fresh, fake_master)  # indexed
    for n in range(12):
        fake_master.add_item(1, {"title": f"Tapir {n}"})
    monkeypatch.setattr(search_index, "fill", lambda *a, **kw: 0)
    other = make_clone(app, fake_master)
    reload(app, other, fake_master)  # waiting for its search text
    assert Item.select().where(Item.tracker == other, Item.search_text.is_null()).count() == 52
    rows, total = item_svc.list_items(other, other.ordered_fields(), q="tapir")
    assert total == 12 and {row.values["title"] for row in rows} == {
        f"Tapir {n}" for n in range(12)}
    database.execute_sql("SET enable_seqscan = off")
    try:  # the search's own condition on the indexed rows is the index's
        plan = querycost.plan(f'SELECT id FROM "{item}" WHERE search_text LIKE %s', ["%tapir%"])
    finally:
        database.execute_sql("SET enable_seqscan = on")
    assert dbobjects.PG_SEARCH_INDEX in plan, plan

"""Status of a clone with many edits on both sides (issue 17): check_remote + classify run the
same statements whatever the tracker's size and however many items the master changed within
a page, the SELECTs among them do no more work on a tracker ten times larger (counted at the
database's cursor; the work as tests/support/querycost counts it), and their lists are right:
conflicts, merges, status changes, deletions on the master, items new here -- as the item
page judges each item."""
from contextlib import contextmanager

import pytest

from tests.support import querycost
from tests.support.sync import client, connect, make_clone
from tikisync_web import db as tdb
from tikisync_web import dbobjects
from tikisync_web import items as item_svc
from tikisync_web.db import database
from tikisync_web.models import Baseline, Item
from tikisync_web.sync import reload as reload_mod
from tikisync_web.sync import status as status_mod

T0 = 1_700_000_000  # the master's clock when its items were made; reload an hour later


class _Counted:
    """A DB-API cursor that records what it is asked to run (peewee's and bulk.py's alike)."""

    def __init__(self, cursor, found):
        self._cursor, self._found = cursor, found

    def execute(self, sql, params=()):
        self._found.append((sql, tuple(params or ())))
        return self._cursor.execute(sql, params)

    def executemany(self, sql, rows):
        self._found.append((sql, ()))
        return self._cursor.executemany(sql, rows)

    def copy(self, sql, *args, **kwargs):
        self._found.append((sql, ()))
        return self._cursor.copy(sql, *args, **kwargs)

    def __iter__(self):
        return iter(self._cursor)

    def __getattr__(self, name):
        return getattr(self._cursor, name)


@contextmanager
def statements(monkeypatch):
    """Yields a list of (sql, params) of every statement run in the block, on any backend."""
    found, real = [], database.obj.cursor
    with monkeypatch.context() as patch:
        patch.setattr(database.obj, "cursor", lambda *a, **k: _Counted(real(*a, **k), found))
        yield found


def master_of(make_master, size):
    """A master (lastModif on its items, as ours) with `size` items made at T0."""
    master = make_master(items=[], with_times=True, clock=T0)
    for n in range(size):
        master.add_item(1, {"title": f"item {n}", "amount": str(n), "priority": "low"})
    return master


def clone_of(app, master):
    """The master's tracker cloned and reloaded an hour after its items were made."""
    master.settings.clock = T0 + 3600
    connect(app, master)
    tracker = make_clone(app, master)
    with client(app, master.url) as c:
        reload_mod.reload(tracker, c)
    master.settings.clock = T0 + 7200  # what changes on the master now is in the window
    return tracker


def edit_here(tracker, remote_id, values=None, status=None):
    item = Item.get(Item.tracker == tracker, Item.remote_id == remote_id)
    item_svc.update_item(item, values or {}, status=status, username="t")
    return item.id


def edit_there(master, remote_id, values=None, status=None):
    item = master.items[remote_id]
    item["fields"].update(values or {})
    if status is not None:
        item["status"] = status
    item["lastModif"] = master.now()


def edit_both(tracker, master, first, local, remote):
    """`local` items from remote id `first` edited here (amount), the first tenth of them on
    the master too on the same field (conflicts), the next tenth on another (merged), and
    `remote` other items on the master only."""
    for k in range(local):
        edit_here(tracker, first + k, {"amount": str(900000 + k)})
    for k in range(local // 10):
        edit_there(master, first + k, {"amount": str(700000 + k)})
    for k in range(local // 10, local // 5):
        edit_there(master, first + k, {"priority": "high"})
    for k in range(remote):
        edit_there(master, first + local + k, {"title": f"changed there {k}"})


def settled():
    """PostgreSQL: planner statistics of the item and baseline tables, as autovacuum makes
    them after a reload (without them it takes a tracker for ten rows)."""
    if not (tdb.is_sqlite() or tdb.is_mysql()):
        for model in (Item, Baseline):
            database.execute_sql(f'ANALYZE "{model._meta.table_name}"')


def status_of(app, tracker, master):
    with client(app, master.url) as c:
        checked = status_mod.check_remote(tracker, c)
    return checked, status_mod.classify(tracker)


def measured(app, tracker, master, monkeypatch):
    with statements(monkeypatch) as found:
        checked, lists = status_of(app, tracker, master)
    return found, checked, lists


def test_status_runs_the_same_statements_on_a_tracker_ten_times_larger(app, db, make_master,
                                                                       monkeypatch):
    small_master, large_master = master_of(make_master, 300), master_of(make_master, 3000)
    small, large = clone_of(app, small_master), clone_of(app, large_master)
    edit_both(small, small_master, 100, 30, 30)
    edit_both(large, large_master, 1000, 30, 30)
    settled()
    few, few_checked, few_lists = measured(app, small, small_master, monkeypatch)
    many, many_checked, many_lists = measured(app, large, large_master, monkeypatch)
    assert few_checked == many_checked == {"checked": 36, "changed_on_master": 36}
    assert [len(few_lists[k]) for k in few_lists] == [len(many_lists[k]) for k in many_lists]
    assert (len(few_lists["conflicts"]), len(few_lists["modified"])) == (3, 27)
    assert len(many) == len(few), [sql for sql, _ in many]
    # The SELECTs step over the edits, not over the tracker's items: ten times the items,
    # about the same work (a walk of the tracker would be about ten times as much).
    work_few, work_many = querycost.cost(few), querycost.cost(many)
    assert work_many < 1.5 * work_few, (work_few, work_many)


def test_status_statements_do_not_grow_with_the_masters_edits_in_a_page(app, db, make_master,
                                                                        monkeypatch):
    """Items the master changed that were their own base get their Baseline rows a page at a
    time: 400 of them cost the statements 20 do."""
    masters = [master_of(make_master, 1000) for _ in range(2)]
    trackers = [clone_of(app, m) for m in masters]
    edit_both(trackers[0], masters[0], 1, 10, 20)
    edit_both(trackers[1], masters[1], 1, 10, 400)
    few, few_checked, _ = measured(app, trackers[0], masters[0], monkeypatch)
    many, many_checked, _ = measured(app, trackers[1], masters[1], monkeypatch)
    assert (few_checked["changed_on_master"], many_checked["changed_on_master"]) == (22, 402)
    assert len(many) == len(few), [sql for sql, _ in many]
    assert Baseline.select().join(Item).where(Item.tracker == trackers[1],
                                              Baseline.theirs.is_null(False)).count() == 402


@pytest.fixture
def busy(app, db, make_master):
    """A 1,500-item clone after a day of work on both sides, then a reload (for the
    deletions) and more edits on the master, checked by status. Returns what each item
    should be."""
    master = master_of(make_master, 1500)
    tracker = clone_of(app, master)
    expect = {}
    for k in range(1, 121):  # edited here; every third of them on the master too
        item_id = edit_here(tracker, k, {"amount": str(5000 + k)})
        expect[item_id] = "modified"
        if k % 3 == 0:  # same field, another value
            edit_there(master, k, {"amount": str(6000 + k)})
            expect[item_id] = "conflict"
        elif k % 3 == 1:  # another field: merged, still modified here
            edit_there(master, k, {"title": f"theirs {k}"})
    for k in range(121, 141):  # status here, another status there: conflict
        expect[edit_here(tracker, k, status="c")] = "conflict"
        edit_there(master, k, status="p")
    for k in range(141, 161):  # the same change on both sides: in sync
        edit_here(tracker, k, {"priority": "medium"})
        edit_there(master, k, {"priority": "medium"})
    for k in range(161, 181):  # edited here, then deleted on the master
        expect[edit_here(tracker, k, {"title": f"mine {k}"})] = "deleted_on_master"
        master.delete_item(k)
    for k in range(181, 191):  # deleted on the master, untouched here: gone at the reload
        master.delete_item(k)
    master.settings.clock = T0 + 9000
    with client(app, master.url) as c:
        reload_mod.reload(tracker, c)
    master.settings.clock = T0 + 10800
    for k in range(200, 1400):  # more than a page of changes on the master only, after it
        edit_there(master, k, {"title": f"later {k}"}, status="p" if k % 2 else None)
    for k in range(1, 6):
        item = item_svc.create_item(tracker, {"title": f"new here {k}"}, username="t")
        expect[item.id] = "new"
    return tracker, master, expect


def test_many_edits_on_both_sides_are_classified_as_the_item_page_judges_them(app, busy):
    tracker, master, expect = busy
    checked, lists = status_of(app, tracker, master)
    assert checked["changed_on_master"] == 1200
    found = {i: state for state, ids in (("new", lists["new"]), ("modified", lists["modified"]),
                                         ("conflict", lists["conflicts"]),
                                         ("deleted_on_master", lists["deleted_on_master"]))
             for i in ids}
    assert found == expect
    for key in lists:
        assert lists[key] == sorted(lists[key])
    # The item page's judgement, item by item (status.item_state), agrees everywhere.
    for item in Item.select().where(Item.tracker == tracker):
        assert status_mod.item_state(item, tracker).state == expect.get(item.id, "in_sync"), \
            item.remote_id


def test_the_masters_values_are_kept_beside_each_base(app, busy):
    """Where the master moved an item that was its own base, its row holds the item's values
    as the base and the master's as theirs; a second check finds the same and adds nothing."""
    tracker, master, _ = busy
    status_of(app, tracker, master)
    rows = {item.remote_id: item for item in
            Item.select(Item, Baseline).join(Baseline).where(Item.tracker == tracker,
                                                              Item.remote_id >= 200)}
    assert len(rows) == 1200
    for remote_id, item in rows.items():
        base = item.baseline
        assert (base.values, base.status, base.hash) == (item.values, item.status,
                                                         item.base_hash)
        theirs = master.items[remote_id]
        assert base.theirs == {p: theirs["fields"][p] for p in base.theirs}
        assert base.theirs["title"] == f"later {remote_id}"
        assert base.theirs_status == theirs["status"]
        assert base.remote_modified == theirs["lastModif"]
    before = Baseline.select().count()
    checked, lists = status_of(app, tracker, master)
    assert checked["changed_on_master"] == 1200 and Baseline.select().count() == before
    assert lists == status_mod.classify(tracker)


def test_sqlite_status_of_a_tracker_reads_none_of_another_trackers_edits_here(app, db, make_master,
                                                                         monkeypatch):
    """SQLite reads the tracker's own edits and what the masters moved through two partial
    indexes: 600 edits here of another tracker (Baseline rows that stay, as after a push)
    leave the work of its status as it was. PostgreSQL and MariaDB lead with the whole
    Baseline table; SQLite still reads what other trackers' masters moved until a reload
    takes it."""
    if not tdb.is_sqlite():
        pytest.skip("SQLite's partial indexes; the others read every baseline")
    small_master, large_master = master_of(make_master, 300), master_of(make_master, 3000)
    small, large = clone_of(app, small_master), clone_of(app, large_master)
    edit_both(small, small_master, 100, 30, 30)
    before, _, lists = measured(app, small, small_master, monkeypatch)
    work_before = querycost.cost(moved_items_query(before))  # replayed now, before the edits
    edit_both(large, large_master, 1, 600, 0)  # baselines that stay (as after a push)
    with statements(monkeypatch) as after:
        assert status_mod.classify(small) == lists
    moved = moved_items_query(after)
    assert querycost.cost(moved) <= work_before + 50, (work_before, querycost.cost(moved))
    sql, params = moved[0]
    assert dbobjects.CHANGED_INDEX in querycost.plan(sql, params)


def moved_items_query(found):
    """classify's SELECT of the items that moved (it reads the Baseline table)."""
    moved = [s for s in querycost.selects(found) if "tikisync_baseline" in s[0]
             and "hash" in s[0] and "theirs" in s[0] and "remote_id" not in s[0]]
    assert len(moved) == 1, moved
    return moved

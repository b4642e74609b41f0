"""Our master at a million items (issue 17): Tiki's offset pages of list_items are answered
from remembered itemId positions (master/positions.py), so a page at the end of a tracker
costs what a page at its start costs, and the answers stay exactly those of plain offset
paging (tiki-protocol §11) when items are deleted or change status in between.

Shapes, not timings: the database's own count of the work (tests/support/querycost.py),
with a small tracker and a small grid."""
import pytest

from tests.support import querycost, seed
from tests.support.master_api import TikiA, basic
from tikisync_web import db as tdb
from tikisync_web import dbobjects
from tikisync_web import items as svc
from tikisync_web.db import database
from tikisync_web.master import positions
from tikisync_web.models import Item, Tracker

GRID = 200
SIZE = 3000  # items of the tracker read, in two runs with another tracker's between them
OTHER = 500  # the other tracker's items


@pytest.fixture
def deep(app, users, monkeypatch):
    monkeypatch.setattr(positions, "GRID", GRID)
    with database.connection_context():
        tracker = seed.make_tracker("Deep")
        other = seed.make_tracker("Other")
        seed.generated_items(tracker, SIZE // 2)
        seed.generated_items(other, OTHER)
        seed.generated_items(tracker, SIZE // 2)
        if not (tdb.is_sqlite() or tdb.is_mysql()):  # planner statistics, as autovacuum makes
            database.execute_sql(f"ANALYZE {Item._meta.table_name}")
    client = app.test_client()
    client.send_csrf = False
    return tracker, TikiA(client, basic("viewer"))


def expected_ids(tracker, status=None):
    """Every id of the tracker in id order, straight from the table."""
    with database.connection_context():
        query = Item.select(Item.id).where(Item.tracker == tracker.id)
        if status:
            query = query.where(Item.status == status)
        return [row[0] for row in query.order_by(Item.id).tuples()]


def page(tiki, tracker, offset, size=20, **args):
    answer = tiki.json("list_items", trackerId=tracker.id, offset=offset, maxRecords=size, **args)
    return [item["itemId"] for item in answer["result"]]


def read_all(tiki, tracker, size, **args):
    return [item["itemId"] for item in
            tiki.load_all("list_items", per_page=size, trackerId=tracker.id, **args)]


def page_cost(tiki, tracker, offset, size=20):
    with querycost.recorded() as statements:
        ids = page(tiki, tracker, offset, size)
    return querycost.cost(querycost.selects(statements, Item._meta.table_name)), ids


def test_pages_are_those_of_plain_offset_paging_in_any_order(deep):
    tracker, tiki = deep
    ids = expected_ids(tracker)
    assert len(ids) == SIZE
    assert read_all(tiki, tracker, 20) == ids  # Tiki's own loader: offset 0, 20, 40, ...
    assert read_all(tiki, tracker, 333) == ids
    # Any offset, cold or near a remembered one, before or after the end.
    for offset in (2999, 1234, 0, 1, 199, 200, 201, 2600, 777, 2980, 3000, 5000):
        assert page(tiki, tracker, offset, 25) == ids[offset:offset + 25], offset
    assert page(tiki, tracker, 50, -1) == ids[50:]  # maxRecords -1: all from the offset on
    assert page(tiki, tracker, 400, 0) == []


def test_deletions_and_status_changes_move_every_remembered_position(deep):
    tracker, tiki = deep
    assert read_all(tiki, tracker, 20) == expected_ids(tracker)  # positions remembered
    assert page(tiki, tracker, 2500, 10) == expected_ids(tracker)[2500:2510]
    with database.connection_context():
        first = Item.get_by_id(expected_ids(tracker)[5])
        svc.delete_item(first)  # one item early in the list: every later position moves
        Item.delete().where(Item.id.in_(expected_ids(tracker)[100:110])).execute()  # in bulk
    ids = expected_ids(tracker)
    assert len(ids) == SIZE - 11
    for offset in (20, 2500, 2960, 1000):
        assert page(tiki, tracker, offset, 10) == ids[offset:offset + 10], offset
    assert read_all(tiki, tracker, 20) == ids

    # A status change moves the positions of that status's list, whoever makes it.
    assert read_all(tiki, tracker, 50, status="o") == ids
    with database.connection_context():
        svc.update_item(Item.get_by_id(ids[3]), {}, status="c", username="test")
        Item.update(status="p").where(Item.id.in_(ids[200:230])).execute()
    open_ids = expected_ids(tracker, "o")
    assert len(open_ids) == len(ids) - 31
    for offset in (0, 40, 1500, 2900):
        assert page(tiki, tracker, offset, 10, status="o") == open_ids[offset:offset + 10]
    assert read_all(tiki, tracker, 50, status="o") == open_ids
    assert read_all(tiki, tracker, 7, status="p") == expected_ids(tracker, "p")


def test_every_deletion_moves_the_epoch_through_the_database(deep):
    """The epoch is the database's (triggers), not the code's: a write no Python path knows
    about moves it too, and an insert does not."""
    tracker, _ = deep

    def epoch():
        with database.connection_context():
            return Tracker.get_by_id(tracker.id).items_epoch

    start = epoch()
    with database.connection_context():
        assert positions.positions_tracked(database.obj)
        seed.generated_items(tracker, 10)
    assert epoch() == start  # appended items move no position
    with database.connection_context():
        database.execute_sql(f"DELETE FROM {Item._meta.table_name} WHERE id = "
                             f"{expected_ids(tracker)[-1]}")
    assert epoch() != start
    moved = epoch()
    with database.connection_context():
        Item.update(modified=1).where(Item.tracker == tracker.id).execute()
    assert epoch() == moved  # other columns move no position


def test_a_page_at_the_end_costs_what_a_page_at_the_start_costs(deep):
    tracker, tiki = deep
    ids = expected_ids(tracker)
    first, got = page_cost(tiki, tracker, 0)
    assert got == ids[:20]
    # A client reading page after page: each page starts where the last one ended.
    for offset in range(20, SIZE, 20):
        page(tiki, tracker, offset)
    with querycost.recorded() as statements:
        assert page(tiki, tracker, SIZE - 20) == ids[-20:]
    (read,) = querycost.selects(statements, Item._meta.table_name)
    last = querycost.cost([read])
    assert last <= first * 1.25 + 50, (first, last)
    with database.connection_context():
        assert seeks(querycost.plan(*read)), querycost.plan(*read)
    # A cold deep offset walks the grid once (each hop no longer than GRID rows), then any
    # deep page costs at most a grid step more than the first.
    tiki.client.application.extensions.pop("tikisync_master_positions")  # a new process
    cold_offset = SIZE - 37
    with querycost.recorded() as statements:
        assert page(tiki, tracker, cold_offset) == ids[cold_offset:cold_offset + 20]
    step = grid_step_cost(tiki, tracker)
    hops = querycost.selects(statements, Item._meta.table_name)
    assert len(hops) > SIZE // GRID // 2  # it did walk the grid
    with database.connection_context():
        plans = [querycost.plan(*hop) for hop in hops]
    # Each hop steps over GRID of the tracker's items; PostgreSQL's planner may walk the
    # primary key instead and pass the other tracker's 500 items on the way: never more.
    bound = step * (GRID + OTHER) / GRID * 1.25 + 50
    assert max(querycost.cost([hop]) for hop in hops) <= bound, (
        [querycost.cost([hop]) for hop in hops], step, plans)
    warm, _ = page_cost(tiki, tracker, SIZE - 63)
    assert warm <= bound + first * 1.25, (warm, step, first)


def seeks(plan):
    """The plan starts an index range at an id (not at the tracker's first entry)."""
    return ("rowid>?" in plan or "id>?" in plan  # SQLite
            or "id > " in plan  # PostgreSQL's Index Cond
            or " range " in plan)  # MariaDB's access type


def grid_step_cost(tiki, tracker):
    """What stepping over one grid step of rows costs, read at the start of the list."""
    with querycost.recorded() as statements:
        page(tiki, tracker, 0, GRID)
    return querycost.cost(querycost.selects(statements, Item._meta.table_name))


def test_modified_since_reads_only_the_changed_rows_through_an_index(deep):
    tracker, tiki = deep
    ids = expected_ids(tracker)
    with database.connection_context():
        Item.update(modified=2_000_000_000).where(Item.id.in_(ids[::300])).execute()
    with querycost.recorded() as statements:
        answer = tiki.json("list_items", trackerId=tracker.id, offset=0, maxRecords=100,
                           modifiedSince=1_999_999_999)
    assert [item["itemId"] for item in answer["result"]] == ids[::300]
    reads = querycost.selects(statements, Item._meta.table_name)
    assert len(reads) == 1
    changed_cost = querycost.cost(reads)
    full_cost, _ = page_cost(tiki, tracker, 0, 100)
    assert changed_cost * 3 < full_cost, (changed_cost, full_cost)  # 10 rows, not 3,000
    with database.connection_context():
        assert "modified" in querycost.plan(*reads[0])


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_item_list_pages_in_id_order_seek_too(deep, direction):
    """The item list (sort by id, either way, maybe one status) uses the same positions: the
    same rows as plain paging, and its last page costs what its first does."""
    tracker, _ = deep
    memory = positions.Memory()
    with database.connection_context():
        Item.update(status="c").where(Item.id.in_(expected_ids(tracker)[::5])).execute()
        tracker = Tracker.get_by_id(tracker.id)  # the epoch the triggers moved on

        def listed(page, status="", with_memory=True):
            rows, total = svc.list_items(tracker, [], status=status, direction=direction,
                                         page=page, per_page=20,
                                         positions=memory if with_memory else None)
            return [row.id for row in rows], total

        for status in ("", "o"):
            count = listed(1, status, False)[1]
            last = -(-count // 20)
            for page in (1, 2, last // 2, last - 1, last):
                assert listed(page, status) == listed(page, status, False), (status, page)
        with querycost.recorded() as statements:
            listed(1)
        first = querycost.cost(querycost.selects(statements, Item._meta.table_name))
        listed(last - 1)  # a reader going through the pages
        with querycost.recorded() as statements:
            listed(last)
        deepest = querycost.cost(querycost.selects(statements, Item._meta.table_name))
    # Both include the count of the tracker's items (the same at any page).
    assert deepest <= first * 1.25 + 50, (first, deepest, [
        (querycost.cost([st]), st) for st in querycost.selects(statements)])


def test_without_the_triggers_pages_are_read_the_plain_way(deep):
    """A database whose owner could not make the triggers (MariaDB without the TRIGGER
    privilege) answers every page the plain way, and rightly."""
    tracker, tiki = deep
    item = Item._meta.table_name
    with database.connection_context():
        for name in (dbobjects.TRIGGER_DELETE, dbobjects.TRIGGER_UPDATE):
            on = "" if tdb.is_sqlite() or tdb.is_mysql() else f' ON "{item}"'
            database.execute_sql(f"DROP TRIGGER {name}{on}")
        dbobjects._TRACKED.clear()
    try:
        with database.connection_context():
            assert not dbobjects.positions_tracked(database)
            Item.delete().where(Item.id.in_(expected_ids(tracker)[10:20])).execute()
        with querycost.recorded() as statements:
            assert read_all(tiki, tracker, 100) == expected_ids(tracker)
        assert not any(" > " in sql for sql, _ in querycost.selects(statements, item))
    finally:
        with database.connection_context():
            dbobjects.install(database)  # the next tests share a server database

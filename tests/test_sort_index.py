"""Browsing a large tracker (issue 17): a sort by a field walks an index made for that tracker
and field on first use (sortindex.py), and gives the same pages as sorting the values in
Python; it is dropped with its field or tracker. A search counts at most COUNT_CAP matches,
says "more than", and finds the same items as filtering in Python. The list's count is
remembered (SQLite) and stays right."""
import random
import time

import pytest

from tests.support import querycost, seed
from tests.support.pages import soup, url
from tikisync_web import db as tdb
from tikisync_web import items as svc
from tikisync_web import sortindex
from tikisync_web.db import database
from tikisync_web.master import positions
from tikisync_web.models import Field, Item, Tracker

FIELDS = [
    ("title", "Title", "t", {}, False),
    ("amount", "Amount", "n", {}, False),
    ("due", "Due", "j", {"datetime": "d"}, False),
]
COUNT = 300


def is_postgresql():
    return not tdb.is_sqlite() and not tdb.is_mysql()
PER_PAGE = 20


def values(n):
    """Duplicates (ties go by id), empty values, missing keys and junk numbers."""
    rnd = random.Random(n)
    found = {}
    title = rnd.choice(["alpha", "beta", "gamma", "delta", "", None])
    if title is not None:
        found["title"] = title + (str(rnd.randrange(5)) if title else "")
    amount = rnd.choice(["", "abc", "-5", "3.5", "10", "9", "0", str(rnd.randrange(1000)), None])
    if amount is not None:
        found["amount"] = amount
    found["due"] = rnd.choice(["", str(1_700_000_000 + 86400 * rnd.randrange(50))])
    return found


def _sql_value(raw, numeric):
    """What the database sorts by: NULL for a missing or empty number and, on PostgreSQL,
    for junk (SQLite and MariaDB read junk such as "abc" as 0)."""
    if raw is None:
        return None
    if not numeric:
        return raw
    if raw == "":
        return None
    try:
        return float(raw)
    except ValueError:
        return None if is_postgresql() else 0.0


def python_sorted(items, perm, numeric, direction):
    nulls_last = is_postgresql()  # PostgreSQL puts NULL after every value, the others before

    def key(item):
        value = _sql_value(item.values.get(perm), numeric)
        return ((1 if nulls_last else 0, 0) if value is None else (0 if nulls_last else 1, value),
                item.id)

    ordered = sorted(items, key=key)
    return ordered[::-1] if direction == "desc" else ordered


@pytest.fixture
def tracker(db, monkeypatch):
    monkeypatch.setattr(sortindex, "MIN_ITEMS", 100)  # a few hundred items count as large
    for name in sort_indexes():  # a server database emptied of rows keeps earlier tests' ones
        database.execute_sql(f'DROP INDEX "{name}"')
    made = seed.make_tracker("Sorted", FIELDS)
    seed.bulk_items(made, COUNT, make_values=values)
    return made


def page_ids(tracker, page=1, **args):
    rows, total = svc.list_items(tracker, tracker.ordered_fields(), page=page,
                                 per_page=PER_PAGE, **args)
    return [row.id for row in rows], total


@pytest.mark.parametrize("perm,numeric", [("title", False), ("amount", True), ("due", True)])
@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_a_sort_by_a_field_gives_the_pages_python_would(tracker, perm, numeric, direction):
    expected = [item.id for item in python_sorted(
        list(Item.select().where(Item.tracker == tracker)), perm, numeric, direction)]
    for page in (1, 2, COUNT // PER_PAGE):
        ids, total = page_ids(tracker, page, sort=perm, direction=direction)
        assert total == COUNT and total.exact
        assert ids == expected[(page - 1) * PER_PAGE:page * PER_PAGE], page
    # The same with a status filter: the index serves the tracker's rows, the filter applies.
    expected_open = [i for i in expected if i % 3]
    Item.update(status="c").where(Item.id.in_([i for i in expected if i % 3 == 0])).execute()
    ids, total = page_ids(tracker, 2, sort=perm, direction=direction, status="o")
    assert ids == expected_open[PER_PAGE:2 * PER_PAGE] and total == len(expected_open)


def sort_indexes():
    return sorted(sortindex._existing(sortindex.PREFIX))


def test_the_index_is_made_on_first_sort_and_used(tracker):
    if tdb.is_mysql():
        page_ids(tracker, sort="amount")
        assert sort_indexes() == []  # MariaDB: no index on an expression, the sort reads rows
        return
    small = seed.make_tracker("Small", FIELDS)
    seed.bulk_items(small, 50, make_values=values)
    page_ids(small, sort="amount")
    assert sort_indexes() == []  # a small tracker sorts without one
    assert page_ids(tracker, sort="id")[0]
    assert sort_indexes() == []  # nor is one made before a sort by the field
    page_ids(tracker, sort="amount", direction="desc")
    amount = Field.get(Field.tracker == tracker, Field.perm_name == "amount")
    name = sortindex.index_name(tracker.id, amount, True)
    assert sort_indexes() == [name]
    with querycost.recorded() as statements:
        page_ids(tracker, 2, sort="amount", direction="desc")
    page = [s for s in querycost.selects(statements, Item._meta.table_name)
            if "ORDER BY" in s[0]]
    assert len(page) == 1
    if is_postgresql():  # let the planner choose (SQLite is told to use it)
        _usable_by_every_snapshot(name)
        database.execute_sql("SET enable_seqscan = off")  # 300 rows: a scan would do as well
    try:
        plan = querycost.plan(*page[0])
    finally:
        if is_postgresql():
            database.execute_sql("SET enable_seqscan = on")
    assert name in plan and "temp b-tree" not in plan and " sort " not in f" {plan} ", plan


def _usable_by_every_snapshot(name, seconds=20):
    """PostgreSQL: an index made over rows that HOT updates left (a reload's) is kept from
    the planner until no transaction of the server is older than the one that made it
    (pg_index.indcheckxmin). Another session's open transaction (a benchmark's reload on the
    same server) would hold it back: wait for them, a bounded time, and say who if not."""
    check = ("SELECT NOT i.indcheckxmin OR i.xmin::text::bigint < "
             "(pg_snapshot_xmin(pg_current_snapshot())::text::bigint %% 4294967296) "
             "FROM pg_index i WHERE i.indexrelid = %s::regclass")
    deadline = time.monotonic() + seconds
    while not database.execute_sql(check, (f'"{name}"',)).fetchone()[0]:
        if time.monotonic() > deadline:
            older = database.execute_sql(
                "SELECT datname, pid, state, left(query, 80) FROM pg_stat_activity "
                "WHERE backend_xmin IS NOT NULL AND pid <> pg_backend_pid()").fetchall()
            pytest.fail(f"the sort index waits for older transactions to end: {older}")
        time.sleep(0.2)


def test_sort_indexes_go_with_their_field_and_tracker(app, client, auth, tracker):
    if tdb.is_mysql():
        pytest.skip("MariaDB: no sort index (README)")
    other = seed.make_tracker("Other", FIELDS)
    seed.bulk_items(other, 150, make_values=values)
    for made in (tracker, other):
        page_ids(made, sort="title")
        page_ids(made, sort="due")
    assert len(sort_indexes()) == 4
    auth.login("admin")
    due = Field.get(Field.tracker == tracker, Field.perm_name == "due")
    assert client.post(url(app, "tikisync.field_delete", field_id=due.id)).status_code == 303
    left = sort_indexes()
    assert len(left) == 3 and sortindex.index_name(tracker.id, due, True) not in left
    assert client.post(url(app, "tikisync.tracker_delete",
                           tracker_id=tracker.id)).status_code == 303
    assert all(name.startswith(f"{sortindex.PREFIX}{other.id}_") for name in sort_indexes())
    assert len(sort_indexes()) == 2
    # Sorting the other tracker still works (its indexes are there, and used).
    ids, _ = page_ids(other, sort="title", direction="desc")
    expected = [i.id for i in python_sorted(list(Item.select().where(Item.tracker == other)),
                                            "title", False, "desc")]
    assert ids == expected[:PER_PAGE]


def python_search(tracker, words, status=""):
    items = Item.select().where(Item.tracker == tracker).order_by(Item.id)
    return [i.id for i in items if all(w in i.search_text for w in words)
            and (not status or i.status == status)]


def test_a_search_counts_up_to_a_cap_and_finds_what_python_does(tracker, monkeypatch):
    monkeypatch.setattr(svc, "COUNT_CAP", 50)
    everything = python_search(tracker, ["a"])
    assert len(everything) > 100
    for q, words in (("alpha", ["alpha"]), ("ALPHA 3", ["alpha", "3"]), ("ta", ["ta"]),
                     ("a", ["a"]), ("eta 2", ["eta", "2"]), ("zebra", ["zebra"])):
        expected = python_search(tracker, words)
        for direction in ("asc", "desc"):
            order = expected if direction == "asc" else expected[::-1]
            for page in (1, 2, 4):
                ids, total = page_ids(tracker, page, q=q, direction=direction)
                assert ids == order[(page - 1) * PER_PAGE:page * PER_PAGE], (q, direction, page)
                bound = max(50, page * PER_PAGE)
                if len(expected) > bound:
                    assert not total.exact and total == bound, (q, total)
                else:
                    assert total.exact and total == len(expected), (q, total)
    # The sync-state filter's condition and a status still apply.
    everything = python_search(tracker, [""])
    Item.update(status="p").where(Item.id.in_([i for i in everything if i % 4 == 0])).execute()
    expected = python_search(tracker, ["alpha"], status="p")
    assert page_ids(tracker, q="alpha", status="p")[0] == expected[:PER_PAGE]
    keep = python_search(tracker, ["beta"])[::2]
    assert page_ids(tracker, q="beta", where=Item.id.in_(keep))[0] == keep[:PER_PAGE]
    assert page_ids(tracker, q="beta", where=Item.id.not_in(keep))[0] == [
        i for i in python_search(tracker, ["beta"]) if i not in keep][:PER_PAGE]


def test_a_capped_count_reads_a_bounded_number_of_rows(db, monkeypatch):
    """A word in every item: counting it in a tracker 4 times larger costs about the same."""
    monkeypatch.setattr(svc, "COUNT_CAP", 200)
    small, large = seed.make_tracker("Small"), seed.make_tracker("Large")
    seed.generated_items(small, 1000)
    seed.generated_items(large, 4000)
    if is_postgresql():
        database.execute_sql(f'ANALYZE "{Item._meta.table_name}"')
    costs = {}
    for made in (small, large):
        with querycost.recorded() as statements:
            ids, total = page_ids(made, 3, q="item")
        assert not total.exact and total == 200
        assert len(ids) == PER_PAGE
        costs[made.name] = querycost.cost(statements)
    with querycost.recorded() as full:
        Item.select().where(Item.tracker == large, Item.search_text.contains("item")).count()
    assert costs["Large"] < costs["Small"] * 1.5, costs
    assert costs["Large"] * 3 < querycost.cost(full), (costs, querycost.cost(full))


def test_the_list_says_more_than_when_it_stopped_counting(app, client, auth, db, monkeypatch):
    monkeypatch.setattr(svc, "COUNT_CAP", 100)
    tracker = seed.make_tracker("Many")
    seed.generated_items(tracker, 500)
    auth.login("viewer")
    page = soup(client.get(url(app, "tikisync.items", tracker_id=tracker.id, q="item")))
    assert page.select_one(".ts-count").get_text(strip=True) == "Items 1–20 of more than 100"
    nav = page.select_one("nav.ts-pages")
    assert nav.find("a", rel="next") and not nav.find("a", rel="last")
    assert "of more than 5" in nav.get_text(" ", strip=True)
    page = soup(client.get(url(app, "tikisync.items", tracker_id=tracker.id, q="item",
                               page=7)))
    assert page.select_one(".ts-count").get_text(strip=True) == "Items 121–140 of more than 140"
    titles = [tr.find_all("td")[1].get_text(strip=True) for tr in page.select("tbody tr")]
    assert titles[0] == "item 000120" and titles[-1] == "item 000139"
    page = soup(client.get(url(app, "tikisync.items", tracker_id=tracker.id, q="item 00012")))
    # 000012 and 000120-000129: counted to the end, an exact total
    assert page.select_one(".ts-count").get_text(strip=True) == "Items 1–11 of 11"


def test_a_sorted_search_reads_its_matches_not_the_whole_index(db, monkeypatch):
    """SQLite is told to walk a sort index, except for a search: it then finds the few
    matches in the full-text index and sorts them."""
    monkeypatch.setattr(sortindex, "MIN_ITEMS", 100)
    big = seed.make_tracker("Big")
    seed.generated_items(big, 4000)
    if is_postgresql():
        database.execute_sql(f'ANALYZE "{Item._meta.table_name}"')
    page_ids(big, sort="amount")  # makes the index
    with querycost.recorded() as statements:
        ids, total = page_ids(big, q="item 001234", sort="amount", direction="desc")
    assert [Item.get_by_id(i).values["title"] for i in ids] == ["item 001234"] and total == 1
    if not tdb.is_sqlite():
        return  # the planner weighs the index against the search itself (SQLite is told)
    with querycost.recorded() as whole:
        list(Item.select(Item.id, Item.values).where(Item.tracker == big).tuples())
    assert querycost.cost(statements) * 5 < querycost.cost(whole), (
        querycost.cost(statements), querycost.cost(whole))


def test_the_item_count_remembered_follows_new_deleted_and_changed_items(db):
    """On SQLite the list counts only the ids above its last count (positions.Memory.count);
    what it shows stays right after items are added, deleted or change status."""
    tracker = seed.make_tracker("Counted")
    seed.generated_items(tracker, 3000)
    memory = positions.Memory()

    def total(status=""):
        fresh = Tracker.get_by_id(tracker.id)  # its epoch, as a request reads it
        return svc.list_items(fresh, fresh.ordered_fields(), status=status, per_page=20,
                              positions=memory)[1]

    assert total() == 3000
    with querycost.recorded() as again:
        assert total() == 3000
    if tdb.is_sqlite():
        with querycost.recorded() as plain:
            Item.select().where(Item.tracker == tracker).count()
        counts = [s for s in querycost.selects(again) if "COUNT(" in s[0].upper()]
        assert querycost.cost(counts) * 20 < querycost.cost(plain)
    first = seed.add_item(tracker, title="new one")
    seed.add_item(tracker, title="new two")
    assert total() == 3002
    svc.delete_item(first, "t")
    assert total() == 3001
    svc.update_item(Item.get(Item.tracker == tracker), {}, status="c", username="t")
    assert (total(), total("o"), total("c")) == (3001, 3000, 1)
    svc.create_item(Tracker.get_by_id(tracker.id), {"title": "third"}, username="t")
    assert (total(), total("o")) == (3002, 3001)


def test_a_first_sort_while_a_writer_holds_the_table_sorts_the_plain_way(app, tracker):
    """A reload writing when the first sort comes: the sort waits a second at most, shows
    the right page without an index, and a later sort makes it."""
    if tdb.is_mysql():
        pytest.skip("MariaDB: no sort index (README)")
    other = tdb.open_database(app.config["TIKISYNC_DATABASE"])
    other.connect()
    try:
        other.execute_sql("BEGIN IMMEDIATE" if tdb.is_sqlite() else "BEGIN")
        other.execute_sql(  # a row written and not committed, as a reload's
            f'UPDATE "{Item._meta.table_name}" SET status = status WHERE id = '
            f"{Item.select(Item.id).where(Item.tracker == tracker).first().id}")
        ids, _ = page_ids(tracker, sort="title")
        assert sort_indexes() == []
    finally:
        other.execute_sql("ROLLBACK")
        other.close()
    expected = [i.id for i in python_sorted(list(Item.select().where(Item.tracker == tracker)),
                                            "title", False, "asc")]
    assert ids == expected[:PER_PAGE]
    assert page_ids(tracker, sort="title")[0] == ids
    assert len(sort_indexes()) == 1

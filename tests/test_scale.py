"""A 100,000-item tracker: its item list renders one page with the same few queries as a
100-item tracker, and no query reads the items without a LIMIT (a query count, not a timing)."""
import pytest
from playhouse.test_utils import count_queries

from tests.support import seed
from tests.support.apps import Auth, make_app, make_user
from tests.support.databases import module_db_url
from tests.support.pages import soup, url
from tikisync_web.db import database
from tikisync_web.master import positions
from tikisync_web.models import Item

LARGE = 100_000


class World:
    """One app for the module: a 100-item and a 100,000-item tracker with the same fields."""

    def __init__(self, app):
        self.app = app
        self.small = seed.make_tracker("Small")
        self.large = seed.make_tracker("Large")
        seed.generated_items(self.small, 100)
        seed.generated_items(self.large, LARGE)  # made by the database: about a second
        with database.connection_context():
            self.viewer = make_user("viewer", "viewer")

    def client(self):
        client = self.app.test_client()
        Auth(client, {"viewer": self.viewer}).become("viewer")
        return client


@pytest.fixture(scope="module")
def world(tmp_path_factory, server_db_url):
    folder = tmp_path_factory.mktemp("scale")
    app = make_app(module_db_url(folder, server_db_url), folder)
    yield World(app)
    # The next module clears tables row by row: leave it no 100,000 rows to delete.
    from tikisync_web import db as tdb

    with database.connection_context():
        if tdb.is_mysql():
            database.execute_sql("SET FOREIGN_KEY_CHECKS=0")
            database.execute_sql(f"TRUNCATE TABLE `{Item._meta.table_name}`")
            database.execute_sql("SET FOREIGN_KEY_CHECKS=1")
        elif not tdb.is_sqlite():
            database.execute_sql(f'TRUNCATE "{Item._meta.table_name}" CASCADE')
    if not database.is_closed():
        database.close()


def render(world, tracker, args, headers=None):
    client = world.client()
    with count_queries() as counter:
        response = client.get(url(world.app, "tikisync.items", tracker_id=tracker.id, **args),
                              headers=headers or {})
    assert response.status_code == 200
    return soup(response), counter.get_queries()


def sql_of(record):
    return record.msg[0] if isinstance(record.msg, tuple) else str(record.msg)


def unbounded_item_reads(queries):
    """SELECTs of the item table that neither count nor stop at a page (LIMIT)."""
    table = Item._meta.table_name
    return [sql_of(q) for q in queries
            if sql_of(q).lstrip().upper().startswith("SELECT") and table in sql_of(q)
            and "COUNT(" not in sql_of(q).upper() and " LIMIT " not in sql_of(q).upper()]


LISTS = [
    {},
    {"page": 3},
    {"page": 4},  # the fragment test below goes deep into the big tracker instead
    {"sort": "amount", "dir": "desc"},
    {"sort": "due"},
    {"sort": "title", "page": 2},
    {"sort": "modified", "dir": "desc"},
    {"q": "item 0000", "status": "o"},
    {"status": "p"},
]


@pytest.mark.parametrize("args", LISTS, ids=lambda a: "&".join(f"{k}={v}" for k, v in a.items())
                         or "plain")
def test_a_page_of_a_huge_tracker_costs_what_a_page_of_a_small_one_does(world, args):
    if args.get("sort") in ("amount", "due", "title"):
        # The first sort of a large tracker by a field makes its index (sortindex.py), once.
        render(world, world.large, args)
    _, queries_small = render(world, world.small, args)
    page, queries_large = render(world, world.large, args)
    assert len(queries_large) == len(queries_small) <= 6
    assert unbounded_item_reads(queries_large) == []
    rows = page.select("#item-table tbody tr")
    if args.get("status") == "p":
        assert rows == []
        return
    assert len(rows) == 20  # it really is a page of the big tracker
    if "q" not in args:
        assert page.select_one(".ts-count").get_text(strip=True).endswith(f"of {LARGE}")


def test_a_deep_page_of_the_htmx_fragment_is_bounded_too(world):
    headers = {"HX-Request": "true", "HX-Target": "item-table"}
    _, queries_small = render(world, world.small, {"page": 4}, headers)
    # The first deep page of a process walks the grid of remembered positions once, in hops
    # of at most positions.GRID index entries (master/positions.py); from then on a page
    # costs the same few queries wherever it is.
    _, walk = render(world, world.large, {"page": 4000}, headers)
    assert len(walk) <= len(queries_small) + 80_000 // positions.GRID
    page, queries_large = render(world, world.large, {"page": 4000}, headers)
    assert len(queries_large) == len(queries_small)
    assert unbounded_item_reads(queries_large) == []
    assert page.select_one(".ts-count").get_text(strip=True) == f"Items 79981–80000 of {LARGE}"
    titles = [tr.find_all("td")[1].get_text(strip=True) for tr in page.select("tbody tr")]
    assert titles[0] == "item 079980" and titles[-1] == "item 079999"


def test_numbers_of_a_huge_tracker_sort_as_numbers(world):
    page, _ = render(world, world.large, {"sort": "amount", "dir": "desc"})
    amounts = [tr.find_all("td")[3].get_text(strip=True) for tr in page.select("tbody tr")]
    assert amounts == ["996"] * 20  # as text, "996" would lose to nothing, but 99 < 996 < 9960
    page, _ = render(world, world.large, {"sort": "amount", "page": 5})
    assert [tr.find_all("td")[3].get_text(strip=True) for tr in page.select("tbody tr")] == [
        "0"] * 20


def test_search_in_a_huge_tracker(world):
    page, queries = render(world, world.large, {"q": "item 099998"})
    assert [tr.find_all("td")[1].get_text(strip=True) for tr in page.select("tbody tr")] == [
        "item 099998"]
    assert unbounded_item_reads(queries) == []


def test_the_dashboard_counts_without_loading_items(world):
    client = world.client()
    with count_queries() as counter:
        page = soup(client.get(url(world.app, "tikisync.dashboard")))
    item_queries = [sql_of(q) for q in counter.get_queries()
                    if Item._meta.table_name in sql_of(q)]
    assert len(item_queries) == 1 and "GROUP BY" in item_queries[0].upper()
    counts = {tr.find("a").get_text(strip=True): tr.find_all("td")[1].get_text(strip=True)
              for tr in page.select("tbody tr")}
    assert counts == {"Large": str(LARGE), "Small": "100"}

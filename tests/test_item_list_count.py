"""The item list's count (issue 17): after the first page, a page counts only the items above
the last count's (master/positions.py, Memory.count), on SQLite and on PostgreSQL, and stays
right when PostgreSQL commits ids out of order (a long transaction's below a later one's)."""
import pytest

from tests.support import querycost, seed
from tests.support.databases import BACKEND
from tests.support.pages import soup, url
from tikisync_web import items as item_svc
from tikisync_web.db import open_database
from tikisync_web.models import Item

SIZE = 500


@pytest.fixture
def tracker(app, db, users):
    made = seed.make_tracker("Counted")
    seed.generated_items(made, SIZE)
    return made


def listed(app, client, tracker, **args):
    """(the list's "Items a–b of N" line, the SELECTs that count the item table)."""
    with querycost.recorded() as statements:
        page = soup(client.get(url(app, "tikisync.items", tracker_id=tracker.id, **args)))
    counts = [sql for sql, _ in querycost.selects(statements, Item._meta.table_name)
              if "COUNT(" in sql.upper()]
    return page.select_one(".ts-count").get_text(strip=True), counts


@pytest.mark.skipif(BACKEND == "mariadb", reason="MariaDB counts every time (positions.py)")
def test_a_later_page_counts_only_the_items_added_since(app, client, auth, tracker):
    auth.login("viewer")
    line, counts = listed(app, client, tracker)
    assert line == f"Items 1–20 of {SIZE}" and len(counts) == 1
    line, counts = listed(app, client, tracker, page=2)
    assert line == f"Items 21–40 of {SIZE}"
    assert len(counts) == 1 and '"id" > ' in counts[0]  # not over the whole tracker
    item_svc.create_item(tracker, {"title": "One more"})
    line, counts = listed(app, client, tracker, page=3)
    assert line == f"Items 41–60 of {SIZE + 1}" and '"id" > ' in counts[0]


@pytest.mark.skipif(BACKEND != "postgresql", reason="ids that commit out of order: PostgreSQL")
def test_ids_committed_out_of_order_are_counted(app, client, auth, tracker, db_url):
    """A transaction holding an id below a later committed one (a reload's, under an edit's)
    is counted once it commits: no count is remembered while such a transaction runs."""
    auth.login("viewer")
    assert listed(app, client, tracker)[0].endswith(f"of {SIZE}")
    other = open_database(db_url)
    other.connect()
    try:
        other.execute_sql("BEGIN")
        other.execute_sql(f'INSERT INTO "{Item._meta.table_name}" (tracker_id, status, values, '
                          f"search_text, hash, created, modified, created_by, modified_by) "
                          f"VALUES (%s, 'o', '{{}}', '', '', 0, 0, '', '')", (tracker.id,))
        assert listed(app, client, tracker, page=2)[0].endswith(f"of {SIZE}")
        item_svc.create_item(tracker, {"title": "After it"})  # a higher id, committed first
        assert listed(app, client, tracker, page=3)[0].endswith(f"of {SIZE + 1}")
        other.execute_sql("COMMIT")
    finally:
        other.close()
    for page in (4, 5):
        assert listed(app, client, tracker, page=page)[0].endswith(f"of {SIZE + 2}")
    assert Item.select().where(Item.tracker == tracker).count() == SIZE + 2

"""The page header counts the items waiting to be resolved across every clone, on every page,
for those who can resolve them (admins), and links to where that is done."""
import pytest
from playhouse.test_utils import count_queries

from tests.support import querycost
from tests.support.bulk_clone import FIRST_GENERATED, analyzed, changed_by_sql, synced_items
from tests.support.pages import soup, url
from tests.support.sync import (
    check_master,
    conflict,
    edit_here,
    edit_on_master,
    make_clone,
    reloaded_clone,
)
from tests.support.sync import client as sync_client
from tikisync_web import items as item_svc
from tikisync_web.models import Baseline, Item
from tikisync_web.sync import item_states
from tikisync_web.sync import reload as reload_mod


@pytest.fixture
def clone(app, db, fake_master, users):
    return reloaded_clone(app, fake_master)


def conflict_on(app, tracker, master, remote_id):
    return conflict(app, tracker, master, remote_id, {"title": "Mine"}, {"title": "Theirs"})


def badge(response):
    return soup(response).find("header").find(id="conflict-badge")


def test_admins_see_the_count_on_every_page_and_reach_the_conflicts(app, client, auth, clone,
                                                                    fake_master):
    auth.login("admin")
    assert badge(client.get(url(app, "tikisync.dashboard"))) is None  # nothing to resolve
    conflict_on(app, clone, fake_master, 1)
    for endpoint, values in (("tikisync.dashboard", {}), ("tikisync.credentials", {}),
                             ("tikisync.items", {"tracker_id": clone.id})):
        shown = badge(client.get(url(app, endpoint, **values)))
        assert shown.get_text(strip=True) == "1 conflict to resolve"
    assert shown["href"] == url(app, "tikisync.sync", tracker_id=clone.id,
                                _anchor="sync-conflicts")
    conflict_on(app, clone, fake_master, 2)
    assert badge(client.get(url(app, "tikisync.dashboard"))).get_text(strip=True) == \
        "2 conflicts to resolve"


def test_roles_that_cannot_resolve_see_no_badge(app, client, auth, clone, fake_master):
    conflict_on(app, clone, fake_master, 1)
    for role in ("editor", "viewer"):
        auth.login(role)
        assert badge(client.get(url(app, "tikisync.dashboard"))) is None


def page_queries(app, client, endpoint="tikisync.credentials"):
    with count_queries() as counter:
        response = client.get(url(app, endpoint))
    assert response.status_code == 200
    return len(counter.get_queries()), badge(response)


def test_the_badge_costs_the_same_queries_however_many_clones(app, client, auth, clone,
                                                              fake_master):
    auth.login("admin")
    conflict_on(app, clone, fake_master, 1)
    one, shown = page_queries(app, client)
    assert shown.get_text(strip=True) == "1 conflict to resolve"
    for _ in range(3):
        more = make_clone(app, fake_master)
        with sync_client(app, fake_master.url) as c:
            reload_mod.reload(more, c)
    four, shown = page_queries(app, client)
    assert four == one and shown.get_text(strip=True) == "1 conflict to resolve"
    item_svc.update_item(Item.get(Item.tracker == more, Item.remote_id == 2), {"title": "Mine"})
    edit_on_master(fake_master, 2, {"title": "Theirs"})
    check_master(app, more, fake_master)
    four, shown = page_queries(app, client)
    assert four == one and shown.get_text(strip=True) == "2 conflicts to resolve"


def test_the_badge_moves_with_the_very_edit_or_reload_that_changes_it(app, client, auth, clone,
                                                                     fake_master):
    auth.login("admin")
    edit_on_master(fake_master, 1, {"title": "Theirs"})
    edit_on_master(fake_master, 3, {"title": "Theirs too"})
    check_master(app, clone, fake_master)
    edit_here(3, {"amount": "5"})  # a field the master left alone: merges, nothing to resolve
    assert page_queries(app, client)[1] is None
    edit_here(1, {"title": "Mine"})
    assert page_queries(app, client)[1].get_text(strip=True) == "1 conflict to resolve"
    edit_here(2, {"amount": "9"})
    fake_master.delete_item(2)
    with sync_client(app, fake_master.url) as c:
        reload_mod.reload(clone, c)  # deleted there, changed here: to resolve
    assert page_queries(app, client)[1].get_text(strip=True) == "2 conflicts to resolve"
    edit_here(1, {"title": "Theirs"})  # the same value as the master's now
    assert page_queries(app, client)[1].get_text(strip=True) == "1 conflict to resolve"


def test_the_badge_reads_the_items_changed_both_sides_not_the_clone(app, client, auth, clone):
    """30 conflicts among 300 items or among 3,000: the badge costs the same."""
    auth.login("admin")
    costs = {}
    for size in (300, 3000):
        Baseline.delete().execute()
        Item.delete().where(Item.remote_id > FIRST_GENERATED).execute()
        synced_items(clone, size)
        changed = changed_by_sql(clone, size // 30, theirs='{"title": "Theirs"}')
        analyzed()
        with querycost.recorded() as statements:
            shown = badge(client.get(url(app, "tikisync.credentials")))
        assert shown.get_text(strip=True) == f"{changed} conflicts to resolve"
        with item_states.led_by_changes():  # replayed as the app ran them
            costs[size] = querycost.cost(querycost.selects(statements,
                                                           Baseline._meta.table_name))
    assert costs[3000] <= costs[300] * 1.5, costs

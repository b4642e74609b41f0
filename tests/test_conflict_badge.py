"""The page header counts the items waiting to be resolved across every clone, on every page,
for those who can resolve them (admins), and links to where that is done."""
import pytest

from tests.support.pages import soup, url
from tests.support.sync import client, connect, make_clone
from tikisync_web import items as item_svc
from tikisync_web.models import Item
from tikisync_web.sync import reload as reload_mod
from tikisync_web.sync import status


@pytest.fixture
def clone(app, db, fake_master, users):
    connect(app, fake_master)
    tracker = make_clone(app, fake_master)
    with client(app, fake_master.url) as c:
        reload_mod.reload(tracker, c)
    return tracker


def conflict_on(app, tracker, master, remote_id):
    item = Item.get(Item.remote_id == remote_id)
    item_svc.update_item(item, {"title": "Mine"}, username="t")
    master.items[remote_id]["fields"]["title"] = "Theirs"
    with client(app, master.url) as c:
        status.check_remote(tracker, c)
    return item


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

"""The page header counts the items waiting to be resolved across every clone, on every page,
for those who can resolve them (admins), and links to where that is done."""
import pytest

from tests.support.pages import soup, url
from tests.support.sync import conflict, reloaded_clone


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

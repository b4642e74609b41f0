"""Every role sees where a clone's items stand: a Sync column and filter in the item list (new,
modified, in conflict, deleted on the master, in sync), and a banner on the item page saying
what happens to an edit made here, with the way out for those who may take it."""
import pytest

from tests.support import seed
from tests.support.pages import soup, url
from tests.support.sync import conflict, edit_here, reloaded_clone
from tikisync_web import items as item_svc
from tikisync_web.models import Item


@pytest.fixture
def clone(app, db, fake_master, users):
    """A reloaded clone with one item added here, one edited here and one in conflict."""
    tracker = reloaded_clone(app, fake_master)
    new = item_svc.create_item(tracker, {"title": "Made here"}, username="editor")
    edited = edit_here(2, {"amount": "77"}, username="editor")
    clash = conflict(app, tracker, fake_master, 1, {"title": "Mine"}, {"title": "Theirs"},
                     username="editor")
    tracker.ids = {"new": new.id, "modified": edited.id, "conflict": clash.id}
    return tracker


def states_listed(page):
    table = page.find(id="item-table")
    heads = [th.get_text(strip=True) for th in table.find("thead")("th")]
    column = heads.index("Sync")
    return {int(tr.find("td").get_text(strip=True)): tr("td")[column].get_text(strip=True)
            for tr in table.find("tbody")("tr")}


@pytest.mark.parametrize("role", ["viewer", "editor", "admin"])
def test_item_list_shows_each_items_sync_state_to_every_role(app, client, auth, clone, role):
    auth.login(role)
    page = soup(client.get(url(app, "tikisync.items", tracker_id=clone.id)))
    listed = states_listed(page)
    assert listed[clone.ids["new"]] == "new here"
    assert listed[clone.ids["modified"]] == "modified here"
    assert listed[clone.ids["conflict"]] == "in conflict"
    others = set(listed) - set(clone.ids.values())
    assert others and {listed[i] for i in others} == {"in sync"}


def test_item_list_filters_by_sync_state(app, client, auth, clone):
    auth.login("editor")
    options = soup(client.get(url(app, "tikisync.items", tracker_id=clone.id))).find(
        id="item-state")("option")
    assert [o.get_text() for o in options] == ["any", "new here", "modified here", "in conflict",
                                               "deleted on the master", "in sync"]
    conflicts = soup(client.get(url(app, "tikisync.items", tracker_id=clone.id,
                                    state="conflict")))
    assert states_listed(conflicts) == {clone.ids["conflict"]: "in conflict"}
    assert conflicts.find(id="item-state").find("option", selected=True)["value"] == "conflict"
    synced = states_listed(soup(client.get(url(app, "tikisync.items", tracker_id=clone.id,
                                               state="in_sync"))))
    assert synced and set(synced.values()) == {"in sync"}
    none = soup(client.get(url(app, "tikisync.items", tracker_id=clone.id,
                               state="deleted_on_master")))
    assert "No items match this search" in none.find(id="item-table").get_text()


def test_an_editor_learns_on_the_item_page_that_the_edit_conflicted(app, client, auth, clone):
    auth.login("editor")
    page = soup(client.get(url(app, "tikisync.item", item_id=clone.ids["conflict"])))
    banner = page.find(id="item-sync-state")
    text = banner.get_text(" ", strip=True)
    assert banner["data-state"] == "conflict"
    assert "In conflict" in text and "Title" in text  # the field's label
    assert "not pushed until the conflict is resolved" in text
    assert "Ask an administrator" in text and banner.find("a") is None
    auth.login("admin")
    banner = soup(client.get(url(app, "tikisync.item", item_id=clone.ids["conflict"]))).find(
        id="item-sync-state")
    assert banner.find("a", string="Resolve…")["href"] == url(
        app, "tikisync.item_resolve", item_id=clone.ids["conflict"])


def test_item_page_says_what_the_next_push_does(app, client, auth, clone, fake_master):
    auth.login("editor")
    modified = soup(client.get(url(app, "tikisync.item", item_id=clone.ids["modified"])))
    assert "the next push sends Amount" in modified.find(id="item-sync-state").get_text(" ")
    link = modified.find("dt", string="On the master").find_next("dd").find("a")
    assert link["href"].startswith(fake_master.url) and link["href"].endswith("itemId=2")
    new = soup(client.get(url(app, "tikisync.item", item_id=clone.ids["new"])))
    assert "creates it on the master" in new.find(id="item-sync-state").get_text(" ")
    synced = Item.select().where(Item.tracker == clone, Item.id.not_in(
        list(clone.ids.values()))).first()
    page = soup(client.get(url(app, "tikisync.item", item_id=synced.id)))
    assert page.find(id="item-sync-state")["data-state"] == "in_sync"


def test_local_trackers_have_no_sync_state(app, client, auth, db, users):
    auth.login("editor")
    tracker = seed.make_tracker()
    item = seed.add_item(tracker, title="Local only")
    page = soup(client.get(url(app, "tikisync.items", tracker_id=tracker.id)))
    assert page.find(id="item-state") is None
    assert "Sync" not in [th.get_text(strip=True) for th in page.find("thead")("th")]
    assert soup(client.get(url(app, "tikisync.item", item_id=item.id))).find(
        id="item-sync-state") is None

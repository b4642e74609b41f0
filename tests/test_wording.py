"""Words a user reads: plurals and articles right, field labels rather than permNames, and the
house error page (not Werkzeug's) for an address that matches nothing."""
from tests.support.pages import soup, url
from tests.support.sync import client, connect, make_clone
from tikisync_web import items as item_svc
from tikisync_web.accounts import with_article
from tikisync_web.models import Item
from tikisync_web.sync import reload as reload_mod


def test_roles_take_the_right_article(app, client, auth):
    assert [with_article(r) for r in ("admin", "editor", "viewer")] == \
        ["an admin", "an editor", "a viewer"]
    auth.login("editor")
    refused = client.get(url(app, "tikisync.users"))
    assert refused.status_code == 403
    assert "you are signed in as an editor" in soup(refused).find(class_="ts-msg").get_text()


def test_a_page_that_does_not_exist_is_the_house_error_page(app, client, auth):
    auth.login("viewer")
    missing = client.get("/no/such/page")
    assert missing.status_code == 404
    page = soup(missing)
    assert page.find(class_="tikisync") is not None  # our layout and stylesheet
    assert page.find("h1").get_text(strip=True) == "Not found"
    assert page.find("a", string="Back to the trackers")["href"] == url(app, "tikisync.dashboard")
    assert "Werkzeug" not in missing.get_data(as_text=True)


def test_push_preview_of_one_item_reads_in_the_singular_with_labels(app, client, auth, db,
                                                                    users, fake_master):
    connect(app, fake_master)
    tracker = make_clone(app, fake_master)
    with client_of(app, fake_master) as c:
        reload_mod.reload(tracker, c)
    item_svc.update_item(Item.get(Item.remote_id == 2), {"amount": "77", "priority": "high"},
                         username="t")
    auth.login("admin")
    page = soup(client.get(url(app, "tikisync.push_preview", tracker_id=tracker.id)))
    assert page.find("button", string="Push this item")
    assert "This item will be sent" in page.get_text(" ")
    assert "These 1 items" not in page.get_text(" ")
    fields = [tr("td")[-3].get_text(strip=True) for tr in page.find(id="push-plan").tbody("tr")]
    assert fields == ["Amount", "Priority"]  # labels, not permNames
    item_svc.create_item(tracker, {"title": "Made here"}, username="t")
    two = soup(client.get(url(app, "tikisync.push_preview", tracker_id=tracker.id)))
    assert two.find("button", string="Push these 2 items")


def client_of(app, master):
    return client(app, master.url)


def test_item_history_names_fields_by_label(app, client, auth, db, users, fake_master):
    from tikisync_web.models import ItemHistory

    connect(app, fake_master)
    tracker = make_clone(app, fake_master)
    with client_of(app, fake_master) as c:
        reload_mod.reload(tracker, c)
    item = Item.get(Item.remote_id == 1)
    ItemHistory.create(item=item, side="master", action="overwrite", perm_name="amount",
                       old_value="12.5", new_value="99", username="t")
    auth.login("editor")
    page = soup(client.get(url(app, "tikisync.item_history", item_id=item.id)))
    assert page.find("tbody").find_all("td")[2].get_text(strip=True) == "Amount"
    entry = ItemHistory.get(ItemHistory.item == item)
    restored = client.post(url(app, "tikisync.history_restore", entry_id=entry.id),
                           follow_redirects=True)
    assert "Amount restored to “12.5”" in soup(restored).find(id="tikisync-messages").get_text()

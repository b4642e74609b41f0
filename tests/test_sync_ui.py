"""The synchronization tab over HTTP: lists, jobs, preview and push, resolve, history."""
import pytest

from tests.support.pages import soup, url
from tests.support.sync import conflict, edit_here, reloaded_clone
from tikisync_web import items as item_svc
from tikisync_web import jobs, settings
from tikisync_web.models import Item, Job
from tikisync_web.views.labels import ago


@pytest.fixture
def clone(app, db, fake_master, users):
    return reloaded_clone(app, fake_master)


def local(remote_id):
    return Item.get(Item.remote_id == remote_id)


def section(page, key):
    return page.find(id=f"sync-{key}")


def listed(page, key):
    return [int(box["value"]) for box in section(page, key).find_all("input", {"name": "items"})] \
        or [int(a.text.split("#")[1]) for a in section(page, key).find_all("a")
            if a.text.startswith("local #")]


def test_tab_shows_source_last_reload_and_four_lists(app, client, auth, clone, fake_master):
    auth.login("admin")
    new = item_svc.create_item(clone, {"title": "Made here"}, username="t")
    edited = edit_here(1, {"amount": "5"})
    page = soup(client.get(url(app, "tikisync.sync", tracker_id=clone.id)))
    text = page.find(class_="ts-sync-source").get_text(" ", strip=True)
    assert fake_master.url in text and "last reloaded just now" in text
    assert listed(page, "new") == [new.id]
    assert listed(page, "modified") == [edited.id]
    assert section(page, "conflicts").find(class_="ts-count-badge").text == "0"
    remote_link = section(page, "modified").find("a", string=f"remote #{edited.remote_id}")
    assert remote_link["href"].startswith(fake_master.url)


def test_last_reload_reads_in_words():
    now = 1_700_000_000
    assert ago(None) == "never"
    assert ago(now - 30, now=now) == "just now"
    assert ago(now - 60, now=now) == "1 minute ago"
    assert ago(now - 3 * 3600 - 59, now=now) == "3 hours ago"
    assert ago(now - 2 * 86400, now=now) == "2 days ago"
    assert ago(now + 60, now=now) == "just now"  # the master's clock a little ahead

def test_reload_button_runs_a_job_and_a_second_is_refused(app, client, auth, clone, fake_master):
    auth.login("admin")
    busy = jobs.enqueue("reload", tracker=clone, runner="worker")  # one already queued
    response = client.post(url(app, "tikisync.tracker_reload", tracker_id=clone.id))
    assert response.status_code == 303
    page = soup(client.get(url(app, "tikisync.sync", tracker_id=clone.id)))
    assert "already queued" in page.find(id="tikisync-messages").text
    hx = client.post(url(app, "tikisync.tracker_reload", tracker_id=clone.id),
                     headers={"HX-Request": "true", "HX-Target": "sync-job"})
    assert hx.status_code == 409 and soup(hx).find(id=f"job-{busy.id}")
    Job.update(state="done", lock_key=None).where(Job.id == busy.id).execute()
    fake_master.items[1]["fields"]["title"] = "From the master"
    done = client.post(url(app, "tikisync.tracker_reload", tracker_id=clone.id))
    job = Job.select().order_by(Job.id.desc()).get()
    assert done.headers["Location"].endswith(url(app, "tikisync.job", job_id=job.id))
    assert job.state == "done" and job.result["updated"] == 1  # inline runner in tests
    assert local(1).values["title"] == "From the master"


def test_preview_then_push_runs_that_plan(app, client, auth, clone, fake_master):
    auth.login("admin")
    edited = edit_here(2, {"amount": "77"})
    preview = client.get(url(app, "tikisync.push_preview", tracker_id=clone.id,
                             items=[edited.id]))
    plan = soup(preview).find(id="push-plan")
    cells = [td.get_text(strip=True) for td in plan.find("tbody").find_all("td")]
    assert "Amount" in cells and "3" in cells and "77" in cells  # old and new values, by label
    form = soup(preview).find("form", action=url(app, "tikisync.tracker_push", tracker_id=clone.id))
    data = {i["name"]: i["value"] for i in form.find_all("input", type="hidden")}
    item_svc.update_item(local(2), {"amount": "78"}, username="t")  # changed after the preview
    again = client.post(form["action"], data=data)
    assert again.status_code == 303 and "push" in again.headers["Location"]
    assert fake_master.items[2]["fields"]["amount"] == "3"  # nothing was sent
    preview = client.get(url(app, "tikisync.push_preview", tracker_id=clone.id, items=[edited.id]))
    form = soup(preview).find("form", action=url(app, "tikisync.tracker_push", tracker_id=clone.id))
    data = {i["name"]: i["value"] for i in form.find_all("input", type="hidden")}
    pushed = client.post(form["action"], data=data)
    assert pushed.status_code == 303
    assert fake_master.items[2]["fields"]["amount"] == "78"


def test_resolve_view_per_field_and_history_restore(app, client, auth, clone, fake_master):
    auth.login("admin")
    mine = conflict(app, clone, fake_master, 1, {"title": "Mine", "amount": "1"},
                    {"title": "Theirs", "amount": "2"})
    view = client.get(url(app, "tikisync.item_resolve", item_id=mine.id))
    rows = {tr["data-perm"]: [td.get_text(strip=True) for td in tr.find_all("td")]
            for tr in soup(view).find(id="three-way").find("tbody").find_all("tr")}
    assert rows["title"][:3] == ["First item", "Mine", "Theirs"]
    assert "conflict" in soup(view).find("tr", {"data-perm": "title"}).get_text()
    incomplete = client.post(url(app, "tikisync.item_resolve", item_id=mine.id),
                             data={"choice-title": "mine"})
    assert incomplete.status_code == 422 and "amount" in soup(incomplete).find(role="alert").text
    done = client.post(url(app, "tikisync.item_resolve", item_id=mine.id),
                       data={"choice-title": "mine", "choice-amount": "value",
                             "value-amount": "3"})
    assert done.status_code == 303
    resolved = Item.get_by_id(mine.id)
    assert (resolved.values["title"], resolved.values["amount"]) == ("Mine", "3")
    from tikisync_web.models import ItemHistory

    entry = ItemHistory.get(ItemHistory.item == mine, ItemHistory.perm_name == "amount")
    history = soup(client.get(url(app, "tikisync.item_history", item_id=mine.id)))
    restore = history.find("form", action=url(app, "tikisync.history_restore", entry_id=entry.id))
    assert "1" in restore.find_parent("tr").get_text()
    assert client.post(restore["action"]).status_code == 303
    assert Item.get_by_id(mine.id).values["amount"] == "1"


def test_roles_and_switch(app, client, auth, clone):
    auth.login("editor")
    assert client.get(url(app, "tikisync.sync", tracker_id=clone.id)).status_code == 403
    auth.logout()
    auth.login("admin")
    settings.put(settings.REMOTE_SYNC, "n")
    refused = client.get(url(app, "tikisync.sync", tracker_id=clone.id))
    assert refused.status_code == 403
    assert settings.SYNC_DISABLED_MESSAGE in soup(refused).get_text()
    assert client.post(url(app, "tikisync.tracker_reload", tracker_id=clone.id)).status_code == 403
    assert Job.select().count() == 0


def test_local_tracker_has_no_sync_tab(app, client, auth, db, users):
    from tikisync_web.models import Tracker

    auth.login("admin")
    tracker = Tracker.create(name="Local")
    page = soup(client.get(url(app, "tikisync.items", tracker_id=tracker.id)))
    assert not page.find("a", href=url(app, "tikisync.sync", tracker_id=tracker.id))
    assert client.get(url(app, "tikisync.sync", tracker_id=tracker.id)).status_code == 404

"""The dashboard, the admins' home: per clone, the last reload in words, the local work by
state linking to that list, the schema-drift flag, the last failure in plain words with what to
do, and the actions inline; it refreshes itself when a job ends and polls nothing while idle."""
import time

import pytest

from tests.support.pages import soup, url
from tests.support.sync import client, connect, make_clone
from tikisync_web import items as item_svc
from tikisync_web.models import Item, Job
from tikisync_web.sync import reload as reload_mod
from tikisync_web.sync import status

FRAGMENT = {"HX-Request": "true", "HX-Target": "dashboard-trackers"}


@pytest.fixture
def clone(app, db, fake_master, users):
    """A reloaded clone: one item added here, one edited here, one in conflict."""
    connect(app, fake_master)
    tracker = make_clone(app, fake_master)
    with client(app, fake_master.url) as c:
        reload_mod.reload(tracker, c)
    item_svc.create_item(tracker, {"title": "Made here"}, username="t")
    item_svc.update_item(Item.get(Item.remote_id == 2), {"amount": "77"}, username="t")
    item_svc.update_item(Item.get(Item.remote_id == 1), {"title": "Mine"}, username="t")
    fake_master.items[1]["fields"]["title"] = "Theirs"
    with client(app, fake_master.url) as c:
        status.check_remote(tracker, c)
    return tracker


def row_of(page, tracker):
    return page.find(id=f"tracker-{tracker.id}")


@pytest.mark.parametrize("role", ["viewer", "admin"])
def test_local_work_by_state_links_to_each_list(app, client, auth, clone, role):
    auth.login(role)
    row = row_of(soup(client.get(url(app, "tikisync.dashboard"))), clone)
    links = {a["data-state"]: a for a in row.find(class_="ts-local-work")("a")}
    assert {s: a.get_text(strip=True) for s, a in links.items()} == {
        "new": "1 new", "modified": "1 modified", "conflict": "1 in conflict"}
    assert links["conflict"]["href"] == url(app, "tikisync.items", tracker_id=clone.id,
                                            state="conflict")
    assert "just now" in row.get_text(" ")  # the last reload, in words


def test_admins_get_the_actions_inline(app, client, auth, clone):
    auth.login("admin")
    row = row_of(soup(client.get(url(app, "tikisync.dashboard"))), clone)
    buttons = {b.get_text(strip=True) for b in row("button")}
    assert buttons == {"Reload", "Check the master"}
    assert row.find("a", string="Preview a push")["href"] == url(app, "tikisync.push_preview",
                                                                  tracker_id=clone.id)
    assert row.find("a", string="Sync tab")["href"] == url(app, "tikisync.sync",
                                                            tracker_id=clone.id)
    auth.login("viewer")
    assert row_of(soup(client.get(url(app, "tikisync.dashboard"))), clone).find("button") is None


def test_the_last_failure_is_said_with_what_to_do(app, client, auth, clone):
    now = time.time()
    failed = Job.create(kind="reload", tracker=clone, state="failed", username="admin",
                        error="The master answered 401 Unauthorized: check the token.",
                        started=now - 3, finished=now)
    auth.login("admin")
    row = row_of(soup(client.get(url(app, "tikisync.dashboard"))), clone)
    said = row.find(class_="ts-last-error")
    assert "Reload from source failed just now: The master answered 401" in \
        said.get_text(" ", strip=True)
    assert said.find("a", string="credential")["href"] == url(app, "tikisync.credentials")
    assert said.find("a")["href"] == url(app, "tikisync.job", job_id=failed.id)


def test_schema_drift_is_flagged(app, client, auth, clone, fake_master):
    fake_master.fields[1].append({"fieldId": 99, "name": "Extra", "permName": "extra",
                                  "type": "t", "position": 990, "options": "{}"})
    auth.login("admin")
    assert client.post(url(app, "tikisync.tracker_reload", tracker_id=clone.id)).status_code \
        == 303
    flag = row_of(soup(client.get(url(app, "tikisync.dashboard"))), clone).find(
        attrs={"data-drift": True})
    assert flag["href"] == url(app, "tikisync.tracker_drift", tracker_id=clone.id)


def test_refreshes_itself_when_a_job_ends_and_polls_nothing_while_idle(app, client, auth,
                                                                       clone):
    auth.login("admin")
    page = soup(client.get(url(app, "tikisync.dashboard")))
    box = page.find(id="dashboard-trackers")
    assert box["hx-trigger"] == "tikisync:job-finished from:body"
    badge = page.find(id="conflict-badge-slot")
    assert badge["hx-trigger"] == "tikisync:job-finished from:body"
    polling = [e for e in page.find_all(attrs={"hx-trigger": True})
               if "load" in e["hx-trigger"] or "every" in e["hx-trigger"]]
    assert polling == []  # nothing runs: nothing polls
    fragment = client.get(url(app, "tikisync.dashboard"), headers=FRAGMENT)
    part = soup(fragment)
    assert part.find("header") is None and part.find(id="dashboard-trackers") is not None
    again = client.get(url(app, "tikisync.dashboard"),
                       headers={"HX-Request": "true", "HX-Target": "conflict-badge-slot"})
    assert soup(again).find(id="conflict-badge").get_text(strip=True) == "1 conflict to resolve"

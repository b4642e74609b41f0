"""A new item whose insert reply is lost is adopted by the next push, never inserted twice —
on a Tiki 24+ master too, which reads an empty date back as "now"."""
import pytest

from tests.support.fake_master import DEFAULT_FIELDS
from tests.support.sync import client, connect, make_clone
from tikisync_web import items as item_svc
from tikisync_web.models import Item, PushIntent
from tikisync_web.sync import push as push_mod
from tikisync_web.sync import reload as reload_mod

FIELDS = DEFAULT_FIELDS + [{"fieldId": 6, "name": "Due", "permName": "due", "type": "f",
                            "options": '{"datetime":"d"}'}]


@pytest.fixture
def tiki24(app, db, make_master):
    """A Tiki 24-like master (an empty date reads as now), cloned and reloaded."""
    master = make_master(fields=FIELDS, empty_dates_now=True)
    app.config.update(TIKISYNC_HTTP_BACKOFF=0)
    connect(app, master)
    tracker = make_clone(app, master)
    with client(app, master.url) as c:
        reload_mod.reload(tracker, c)
    return master, tracker


def push(app, tracker, master):
    plan = push_mod.plan_push(tracker)
    with client(app, master.url) as c:
        return push_mod.push(tracker, c, plan, username="t")


def copies(master, title):
    return [i for i in master.tracker_items(1) if i["fields"]["title"] == title]


@pytest.mark.parametrize("fault", ["500_applied", "cut_before", "cut_mid", "truncated",
                                   "stall", "malformed", "not_list", "html", "500"])
def test_insert_whose_reply_is_lost_is_adopted_once(app, tiki24, fault):
    master, tracker = tiki24
    mine = item_svc.create_item(tracker, {"title": f"lost {fault}", "amount": "4"},
                                username="t")
    if fault == "stall":  # the insert's answer comes after the client gave up
        app.config["TIKISYNC_HTTP_TIMEOUT"] = 1
    master.faults.arm(fault, on="insert_item", stall=2.5)
    first = push(app, tracker, master)
    master.faults.clear()
    app.config["TIKISYNC_HTTP_TIMEOUT"] = 30
    second = push(app, tracker, master)
    on_master = copies(master, f"lost {fault}")
    assert len(on_master) == 1, (first, second)
    remote_id = on_master[0]["itemId"]
    assert Item.get_by_id(mine.id).remote_id == remote_id
    pushed = first["pushed"] + second["pushed"]
    assert [p["remote_id"] for p in pushed] == [remote_id] and second["failed"] == []
    assert push(app, tracker, master) == {"pushed": [], "failed": [], "skipped": []}


def test_failed_read_back_after_the_insert_is_adopted_not_inserted_again(app, tiki24):
    master, tracker = tiki24
    mine = item_svc.create_item(tracker, {"title": "read back fails"}, username="t")
    master.faults.arm("500", on="list_items", at={1, 2, 3, 4})  # the read-back and its retries
    first = push(app, tracker, master)
    assert [f["id"] for f in first["failed"]] == [mine.id]
    assert "could not be read back" in first["failed"][0]["error"]
    assert "the next push adopts it" in first["failed"][0]["error"]
    master.faults.clear()
    second = push(app, tracker, master)
    on_master = copies(master, "read back fails")
    assert len(on_master) == 1
    assert second["pushed"] == [{"id": mine.id, "remote_id": on_master[0]["itemId"],
                                 "kind": "new", "fields": ["title"], "adopted": True}]
    assert PushIntent.get(PushIntent.item == mine.id).outcome == "adopted"

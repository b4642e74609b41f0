"""Before each write the push compares with the item as the master holds it, whatever the
master's clock did since the last reload (a step back hides a newer edit from modifiedSince)."""
import pytest

from tests.support.sync import client, connect, make_clone
from tikisync_web import items as item_svc
from tikisync_web.models import Item
from tikisync_web.sync import push as push_mod
from tikisync_web.sync import reload as reload_mod
from tikisync_web.sync import status as status_mod


@pytest.fixture(params=["tiki", "ours"])
def synced(request, app, db, make_master):
    """A master like a Tiki (no itemId filter) or like ours (filters, sends lastModif)."""
    ours = request.param == "ours"
    master = make_master(item_id_filter=ours, with_times=ours)
    connect(app, master)
    tracker = make_clone(app, master)
    with client(app, master.url) as c:
        reload_mod.reload(tracker, c)
    return master, tracker


def push(app, tracker, master):
    plan = push_mod.plan_push(tracker)
    with client(app, master.url) as c:
        return push_mod.push(tracker, c, plan, username="t")


@pytest.mark.parametrize("step", [-3600, -300, 3600])
def test_a_master_edit_after_its_clock_stepped_is_never_overwritten(app, synced, step):
    master, tracker = synced
    master.settings.clock_offset = step
    master.items[2]["fields"]["title"] = "Theirs, after the clock step"
    master.items[2]["lastModif"] = master.now()
    mine = Item.get(Item.remote_id == 2)
    item_svc.update_item(mine, {"title": "Mine"}, username="t")
    result = push(app, tracker, master)
    assert result["skipped"] == [{"id": mine.id, "reason": "conflict"}]
    assert master.items[2]["fields"]["title"] == "Theirs, after the clock step"
    assert status_mod.classify(tracker)["conflicts"] == [mine.id]


def test_an_update_the_master_rejected_with_a_200_says_so(app, synced):
    master, tracker = synced
    master.settings.reject_updates = "Amount: the value is not a number"
    master.items[1]["lastModif"] -= 3600  # untouched since long before the push
    mine = Item.get(Item.remote_id == 1)
    item_svc.update_item(mine, {"amount": "77"}, username="t")
    result = push(app, tracker, master)
    [failed] = result["failed"]
    assert failed["id"] == mine.id
    assert "the master rejected it" in failed["error"]
    assert "Amount: the value is not a number" in failed["error"]
    assert "could not be read back" not in failed["error"]
    assert Item.get_by_id(mine.id).values["amount"] == "77"  # kept here
    assert status_mod.classify(tracker)["modified"] == [mine.id]
    master.settings.reject_updates = None
    again = push(app, tracker, master)
    assert [p["id"] for p in again["pushed"]] == [mine.id] and master.items[1]["fields"][
        "amount"] == "77"

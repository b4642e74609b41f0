"""A push of hundreds of edits converges in one step, even while the master's list moves
under its paged reads (its own updates, other people's edits)."""
import pytest

from tests.support.sync import client, connect, make_clone
from tikisync_web import items as item_svc
from tikisync_web.models import Item
from tikisync_web.sync import push as push_mod
from tikisync_web.sync import reload as reload_mod
from tikisync_web.sync import status as status_mod


@pytest.fixture(params=["ordered", "unordered"])
def big(request, app, db, make_master):
    """A Tiki-like master (no itemId filter, at most 40 rows a page) with 260 items made an
    hour ago, cloned and reloaded."""
    master = make_master(items=[("o", {"title": f"item {n}", "amount": str(n)})
                                for n in range(260)],
                         unordered=request.param == "unordered", max_records_cap=40)
    for item in master.items.values():
        item["lastModif"] = item["created"] = master.now() - 3600
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


def edit_locally(tracker, count):
    rows = Item.select().where(Item.tracker == tracker).order_by(Item.id).limit(count)
    for item in rows:
        item_svc.update_item(item, {"amount": f"{item.values['amount']}.5"}, username="t")


def test_two_hundred_edits_converge_in_one_push(app, big):
    master, tracker = big
    edit_locally(tracker, 200)
    result = push(app, tracker, master)
    assert result["failed"] == [] and len(result["pushed"]) == 200
    assert sum(i["fields"]["amount"].endswith(".5") for i in master.tracker_items(1)) == 200
    assert status_mod.classify(tracker)["modified"] == []


def test_edits_on_the_master_during_the_paged_reads_fail_nothing(app, big):
    master, tracker = big
    edit_locally(tracker, 120)
    others = iter(range(200, 260))

    def someone_edits(stage, action, number):
        if stage == "before" and action == "list_items":
            for _ in range(8):
                n = next(others, None)
                if n is not None:
                    with master.lock:
                        item = master.items[n + 1]
                        item["fields"]["title"] = f"edited there {n}"
                        item["lastModif"] = master.now()

    master.faults.hook = someone_edits
    result = push(app, tracker, master)
    assert result["failed"] == [] and len(result["pushed"]) == 120

"""Reload while the master changes: items deleted there during the reload never take live
items with them here; a second reload converges to what the master holds."""
import pytest

from tests.support.sync import client, connect, make_clone
from tikisync_web.models import Item
from tikisync_web.sync import reload as reload_mod


@pytest.fixture(params=[{}, {"item_id_filter": True, "with_times": True}],
                ids=["tiki", "ours"])
def moving(request, app, db, make_master):
    master = make_master(items=[("o", {"title": f"item {n}"}) for n in range(60)],
                         max_records_cap=10, **request.param)
    app.config.update(TIKISYNC_HTTP_BACKOFF=0)
    connect(app, master)
    tracker = make_clone(app, master)
    with client(app, master.url) as c:
        reload_mod.reload(tracker, c, page_size=10)
    return master, tracker


def reload(app, tracker, master):
    with client(app, master.url) as c:
        return reload_mod.reload(tracker, c, page_size=10)


def local_ids(tracker):
    return {i.remote_id for i in Item.select().where(Item.tracker == tracker)}


def test_deletes_on_the_master_during_a_reload_take_no_live_item(app, moving):
    master, tracker = moving
    gone = [1, 2, 3, 4, 5, 6, 7, 8]

    def delete_early_items(stage, action, number):
        # Once the first pages are read, items before the offset disappear: every later
        # page starts further on, and a reader counting on offsets skips live items.
        if stage == "before" and action == "list_items" and \
                master.faults.seen["list_items"] == 3:
            for item_id in gone:
                master.delete_item(item_id)

    master.faults.clear()  # requests are counted from here
    master.faults.hook = delete_early_items
    reload(app, tracker, master)
    master.faults.hook = None
    live = {i["itemId"] for i in master.tracker_items(1)}
    assert live <= local_ids(tracker)  # nothing live was deleted here
    counts = reload(app, tracker, master)  # the next reload converges
    assert local_ids(tracker) == live and counts["deleted"] == len(gone)

"""Clone and reload against the fake master over loopback HTTP."""
import pytest

from tests.support.sync import client, connect, make_clone, tracker_state
from tikisync_web import items as item_svc
from tikisync_web.models import Baseline, Item
from tikisync_web.remote import errors as remote_errors
from tikisync_web.sync import reload as reload_mod
from tikisync_web.sync import status as status_mod


@pytest.fixture
def clone_of(app, db, fake_master):
    connect(app, fake_master)
    tracker = make_clone(app, fake_master)
    return tracker


def do_reload(app, tracker, master, **kw):
    with client(app, master.url) as c:
        return reload_mod.reload(tracker, c, username="test", **kw)


def values_by_remote(tracker):
    return {i.remote_id: i.values for i in Item.select().where(Item.tracker == tracker)}


def test_first_reload_copies_every_item_as_its_own_base(app, clone_of, fake_master):
    counts = do_reload(app, clone_of, fake_master)
    assert counts["fetched"] == 3 and counts["added"] == 3 and counts["items"] == 3
    local = values_by_remote(clone_of)
    for remote in fake_master.tracker_items(1):
        assert local[remote["itemId"]]["title"] == remote["fields"]["title"]
        assert "number" not in local[remote["itemId"]]  # auto-increment was not cloned
    # Each copy is its own base: its base hash is its hash, and no Baseline row is written.
    copies = list(Item.select().where(Item.tracker == clone_of))
    assert all(i.base_hash == i.hash for i in copies) and Baseline.select().count() == 0
    assert status_mod.classify(clone_of) == {"new": [], "modified": [], "conflicts": [],
                                             "deleted_on_master": []}


def test_second_reload_keeps_ids_and_changes_nothing(app, clone_of, fake_master):
    do_reload(app, clone_of, fake_master)
    before = tracker_state(clone_of)[:2]
    counts = do_reload(app, clone_of, fake_master)
    assert counts["added"] == counts["updated"] == counts["deleted"] == 0
    assert counts["unchanged"] == 3
    assert tracker_state(clone_of)[:2] == before


def test_remote_edit_reaches_unmodified_item_with_same_local_id(app, clone_of, fake_master):
    do_reload(app, clone_of, fake_master)
    local_id = Item.get(Item.remote_id == 1).id
    fake_master.items[1]["fields"]["title"] = "Changed on master"
    counts = do_reload(app, clone_of, fake_master)
    assert counts["updated"] == 1
    item = Item.get(Item.remote_id == 1)
    assert item.id == local_id and item.values["title"] == "Changed on master"


def test_local_new_and_modified_items_survive(app, clone_of, fake_master):
    do_reload(app, clone_of, fake_master)
    new = item_svc.create_item(clone_of, {"title": "Made here"}, username="test")
    mine = Item.get(Item.remote_id == 2)
    item_svc.update_item(mine, {"amount": "222"}, username="test")
    fake_master.items[2]["fields"]["title"] = "Second item (remote edit)"
    counts = do_reload(app, clone_of, fake_master)
    assert counts["kept_local_new"] == 1 and counts["kept_local_modified"] == 1
    assert Item.get_by_id(new.id).values["title"] == "Made here"
    merged = Item.get_by_id(mine.id)
    assert merged.values["amount"] == "222"  # ours, kept
    assert merged.values["title"] == "Second item (remote edit)"  # theirs, merged in
    lists = status_mod.classify(clone_of)
    assert lists["new"] == [new.id] and lists["modified"] == [mine.id]


def test_same_field_changed_on_both_sides_is_a_conflict(app, clone_of, fake_master):
    do_reload(app, clone_of, fake_master)
    mine = Item.get(Item.remote_id == 1)
    item_svc.update_item(mine, {"title": "Mine"}, username="test")
    fake_master.items[1]["fields"]["title"] = "Theirs"
    do_reload(app, clone_of, fake_master)
    assert Item.get_by_id(mine.id).values["title"] == "Mine"
    assert status_mod.classify(clone_of)["conflicts"] == [mine.id]
    base = Baseline.get(Baseline.item == mine)
    assert base.values["title"] == "First item" and base.theirs["title"] == "Theirs"


def test_remote_deletions_both_ways(app, clone_of, fake_master):
    do_reload(app, clone_of, fake_master)
    edited = Item.get(Item.remote_id == 3)
    item_svc.update_item(edited, {"amount": "1"}, username="test")
    untouched_id = Item.get(Item.remote_id == 2).id
    del fake_master.items[2], fake_master.items[3]
    counts = do_reload(app, clone_of, fake_master)
    assert counts["deleted"] == 1 and counts["deleted_on_master"] == 1
    assert Item.get_or_none(Item.id == untouched_id) is None
    assert Item.get_by_id(edited.id).values["amount"] == "1"
    assert status_mod.classify(clone_of)["deleted_on_master"] == [edited.id]


@pytest.mark.parametrize("switch", [
    {"fail_pages": {3}, "fail_status": 500},
    {"html_login": True},
    {"truncate_json": True},
])
def test_failure_mid_reload_leaves_tracker_exactly_as_before(app, clone_of, fake_master, switch):
    for n in range(10):
        fake_master.add_item(1, {"title": f"extra {n}"})
    do_reload(app, clone_of, fake_master)
    item_svc.update_item(Item.get(Item.remote_id == 1), {"title": "local edit"}, username="t")
    for n in range(30):
        fake_master.add_item(1, {"title": f"more {n}"})
    fake_master.items[2]["fields"]["title"] = "remote edit"
    before = tracker_state(clone_of)
    for key, value in switch.items():
        setattr(fake_master.settings, key, value)
    fake_master.page_count = 0
    with pytest.raises(remote_errors.RemoteError):
        do_reload(app, clone_of, fake_master, batch=5, page_size=5)
    assert tracker_state(clone_of) == before


def test_timeout_leaves_tracker_as_before(app, clone_of, fake_master):
    do_reload(app, clone_of, fake_master)
    before = tracker_state(clone_of)
    fake_master.items[1]["fields"]["title"] = "slow change"
    fake_master.settings.delay = 1.0
    with client(app, fake_master.url) as c:
        c.transport.timeout = 0.2
        c.transport.retries = 0
        with pytest.raises(remote_errors.Timeout):
            reload_mod.reload(clone_of, c)
    assert tracker_state(clone_of) == before


def test_the_base_is_kept_when_an_item_first_changes_here(app, clone_of, fake_master):
    do_reload(app, clone_of, fake_master)
    item = Item.get(Item.remote_id == 2)
    assert Baseline.get_or_none(Baseline.item == item) is None
    before = (dict(item.values), item.status, item.hash)
    item_svc.update_item(item, {"title": "changed here"}, username="t")
    base = Baseline.get(Baseline.item == item)
    assert (base.values, base.status, base.hash) == before
    changed = Item.get_by_id(item.id)
    assert changed.base_hash == before[2] != changed.hash
    assert status_mod.classify(clone_of)["modified"] == [item.id]


def test_a_master_change_to_an_untouched_item_is_seen_then_taken(app, clone_of, fake_master):
    do_reload(app, clone_of, fake_master)
    item = Item.get(Item.remote_id == 3)
    fake_master.items[3]["fields"]["title"] = "changed on the master"
    with client(app, fake_master.url) as c:
        assert status_mod.check_remote(clone_of, c)["changed_on_master"] == 1
    base = Baseline.get(Baseline.item == item)
    assert base.values == item.values and base.theirs["title"] == "changed on the master"
    assert status_mod.classify(clone_of) == {"new": [], "modified": [], "conflicts": [],
                                             "deleted_on_master": []}
    assert do_reload(app, clone_of, fake_master)["updated"] == 1
    taken = Item.get_by_id(item.id)
    assert taken.values["title"] == "changed on the master" and taken.hash == taken.base_hash
    assert Baseline.get_or_none(Baseline.item == item) is None

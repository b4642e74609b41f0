"""Push, conflicts and resolution against the fake master over loopback HTTP."""
import pytest

from tests.support.sync import client, connect, make_clone
from tikisync_web import items as item_svc
from tikisync_web.models import Baseline, Item, ItemHistory, PushIntent
from tikisync_web.sync import push as push_mod
from tikisync_web.sync import reload as reload_mod
from tikisync_web.sync import resolve as resolve_mod
from tikisync_web.sync import status as status_mod


@pytest.fixture
def synced(app, db, fake_master):
    connect(app, fake_master)
    tracker = make_clone(app, fake_master)
    with client(app, fake_master.url) as c:
        reload_mod.reload(tracker, c)
    return tracker


def run_push(app, tracker, master, force=False, **kw):
    plan = push_mod.plan_push(tracker, force=force, **kw)
    with client(app, master.url) as c:
        return push_mod.push(tracker, c, plan, username="test", force=force)


def local(remote_id):
    return Item.get(Item.remote_id == remote_id)


def test_push_new_item_creates_it_once_and_keeps_local_copy(app, synced, fake_master):
    item = item_svc.create_item(synced, {"title": "Made here", "amount": "9.99",
                                         "priority": "low"}, username="t")
    result = run_push(app, synced, fake_master)
    assert result["failed"] == [] and len(result["pushed"]) == 1
    pushed = result["pushed"][0]
    assert pushed["kind"] == "new" and pushed["id"] == item.id
    remote = fake_master.items[pushed["remote_id"]]
    assert remote["fields"]["title"] == "Made here"
    kept = Item.get_by_id(item.id)
    assert kept.remote_id == pushed["remote_id"]  # the local item stays (W3)
    assert status_mod.classify(synced)["new"] == []
    assert run_push(app, synced, fake_master)["pushed"] == []  # nothing twice


def test_lost_insert_reply_is_adopted_not_duplicated(app, synced, fake_master):
    item = item_svc.create_item(synced, {"title": "Lost reply"}, username="t")
    fake_master.settings.lose_insert_reply = True
    result = run_push(app, synced, fake_master)
    fake_master.settings.lose_insert_reply = False
    on_master = [i for i in fake_master.tracker_items(1) if i["fields"]["title"] == "Lost reply"]
    assert len(on_master) == 1
    assert result["pushed"][0]["remote_id"] == on_master[0]["itemId"]
    assert Item.get_by_id(item.id).remote_id == on_master[0]["itemId"]
    assert PushIntent.get(PushIntent.item == item).outcome == "adopted"


def test_edit_sends_only_changed_fields_and_merges_master_changes(app, synced, fake_master):
    mine = local(1)
    item_svc.update_item(mine, {"amount": "111"}, username="t")
    fake_master.items[1]["fields"]["priority"] = "low"  # the master changed another field
    fake_master.requests.clear()
    result = run_push(app, synced, fake_master)
    assert [p["fields"] for p in result["pushed"]] == [["amount"]]
    writes = [r for r in fake_master.requests if r.method == "POST" and "items/1" in str(r.query)]
    assert writes and all("fields[title]" not in r.form for r in writes)
    assert fake_master.items[1]["fields"]["amount"] == "111"
    assert fake_master.items[1]["fields"]["priority"] == "low"
    after = Item.get_by_id(mine.id)
    base = Baseline.get(Baseline.item == mine)
    assert after.values["priority"] == "low" and base.values["priority"] == "low"
    assert after.hash == base.hash  # nothing left to push back


def test_conflict_found_just_before_writing_is_not_written(app, synced, fake_master):
    mine = local(2)
    item_svc.update_item(mine, {"title": "Mine"}, username="t")
    plan = push_mod.plan_push(synced)
    assert [e["id"] for e in plan.entries] == [mine.id]  # the preview saw no conflict
    fake_master.items[2]["fields"]["title"] = "Theirs, meanwhile"
    with client(app, fake_master.url) as c:
        result = push_mod.push(synced, c, plan)
    assert result["skipped"] == [{"id": mine.id, "reason": "conflict"}]
    assert fake_master.items[2]["fields"]["title"] == "Theirs, meanwhile"
    assert status_mod.classify(synced)["conflicts"] == [mine.id]


def test_different_fields_on_both_sides_merge_without_conflict(app, synced, fake_master):
    mine = local(1)
    item_svc.update_item(mine, {"amount": "5"}, username="t")
    fake_master.items[1]["fields"]["title"] = "Renamed there"
    with client(app, fake_master.url) as c:
        status_mod.check_remote(synced, c)
    assert status_mod.classify(synced)["modified"] == [mine.id]
    run_push(app, synced, fake_master)
    assert fake_master.items[1]["fields"]["title"] == "Renamed there"
    assert fake_master.items[1]["fields"]["amount"] == "5"
    assert Item.get_by_id(mine.id).values["title"] == "Renamed there"


def test_resolve_field_by_field_then_push(app, synced, fake_master):
    mine = local(1)
    item_svc.update_item(mine, {"title": "Mine", "amount": "7"}, username="t")
    fake_master.items[1]["fields"]["title"] = "Theirs"
    fake_master.items[1]["fields"]["amount"] = "8"
    with client(app, fake_master.url) as c:
        status_mod.check_remote(synced, c)
    assert status_mod.classify(synced)["conflicts"] == [mine.id]
    assert run_push(app, synced, fake_master)["skipped"] == [{"id": mine.id, "reason": "conflict"}]
    with pytest.raises(resolve_mod.ResolveError):
        resolve_mod.resolve(Item.get_by_id(mine.id), {"title": "mine"})  # amount left open
    resolve_mod.resolve(Item.get_by_id(mine.id), {"title": "mine", "amount": "theirs"})
    result = run_push(app, synced, fake_master)
    assert result["pushed"][0]["fields"] == ["title"]
    assert fake_master.items[1]["fields"]["title"] == "Mine"
    assert fake_master.items[1]["fields"]["amount"] == "8"
    overwritten = {(h.side, h.perm_name, h.old_value) for h in ItemHistory.select()}
    assert ("master", "title", "Theirs") in overwritten
    assert ("local", "amount", "7") in overwritten


def test_take_theirs_everywhere_makes_local_equal_master(app, synced, fake_master):
    mine = local(1)
    item_svc.update_item(mine, {"title": "Mine"}, username="t")
    fake_master.items[1]["fields"]["title"] = "Theirs"
    with client(app, fake_master.url) as c:
        status_mod.check_remote(synced, c)
    resolve_mod.resolve(Item.get_by_id(mine.id), {}, all_theirs=True)
    assert Item.get_by_id(mine.id).values["title"] == "Theirs"
    assert status_mod.classify(synced) == {"new": [], "modified": [], "conflicts": [],
                                           "deleted_on_master": []}
    history = ItemHistory.get(ItemHistory.item == mine)
    restored = resolve_mod.restore(history)
    assert restored.values["title"] == "Mine"


def test_force_overwrites_the_master(app, synced, fake_master):
    mine = local(3)
    item_svc.update_item(mine, {"title": "Mine wins"}, username="t")
    fake_master.items[3]["fields"]["title"] = "Theirs loses"
    with client(app, fake_master.url) as c:
        status_mod.check_remote(synced, c)
    result = run_push(app, synced, fake_master, force=True)
    assert result["pushed"][0]["id"] == mine.id
    assert fake_master.items[3]["fields"]["title"] == "Mine wins"


def test_master_validation_failure_reported_and_local_unchanged(app, synced, fake_master):
    fresh = item_svc.create_item(synced, {"title": "ok", "priority": "high"}, username="t")
    bad = item_svc.create_item(synced, {"title": "rejected"}, username="t")
    fake_master.settings.fail_requests = set()
    original_insert = fake_master.items.copy()
    fake_master.settings.insert_without_id = True
    result = run_push(app, synced, fake_master, item_ids=[bad.id])
    fake_master.settings.insert_without_id = False
    assert [f["id"] for f in result["failed"]] == [bad.id]
    assert Item.get_by_id(bad.id).remote_id is None
    assert Item.get_by_id(bad.id).values["title"] == "rejected"
    assert fake_master.items == original_insert
    assert Item.get_by_id(fresh.id).remote_id is None  # not in the selection


def test_failure_in_the_middle_of_a_batch_leaves_the_rest_pushed(app, synced, fake_master):
    made = [item_svc.create_item(synced, {"title": f"batch {n}"}, username="t") for n in range(4)]
    plan = push_mod.plan_push(synced)
    inserts_before = fake_master.api_count
    # The 2nd insert fails with a server error; the others go through.
    fake_master.settings.fail_requests = {inserts_before + 1 + 2 + 1}
    fake_master.settings.fail_status = 500
    with client(app, fake_master.url) as c:
        result = push_mod.push(synced, c, plan)
    assert len(result["failed"]) == 1
    assert len(result["pushed"]) == 3
    pushed_titles = {fake_master.items[p["remote_id"]]["fields"]["title"] for p in result["pushed"]}
    assert len(pushed_titles) == 3 and all(t.startswith("batch") for t in pushed_titles)
    assert {m.id for m in made} == {p["id"] for p in result["pushed"]} | {result["failed"][0]["id"]}

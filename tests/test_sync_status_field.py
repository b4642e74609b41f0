"""A Tiki field whose permName is `status` is a field like any other: it never mixes with the
item status (o/p/c) through clone, reload, push, conflicts and resolution (issue 11)."""
import pytest

from tests.support import fake_master as fm
from tests.support.pages import soup, url
from tests.support.sync import client, connect, make_clone
from tikisync_web import items as item_svc
from tikisync_web.models import Baseline, Item
from tikisync_web.sync import push as push_mod
from tikisync_web.sync import reload as reload_mod
from tikisync_web.sync import status as status_mod

FIELDS = fm.DEFAULT_FIELDS + [
    {"fieldId": 6, "name": "Stage", "permName": "status", "type": "t"},
]
ITEMS = [
    ("o", {"title": "First", "amount": "1", "status": "new"}),
    ("p", {"title": "Second", "amount": "2", "status": "doing"}),
    ("c", {"title": "Third", "amount": "3", "status": "done"}),
]
NOTHING = {"new": [], "modified": [], "conflicts": [], "deleted_on_master": []}


@pytest.fixture
def master(make_master):
    return make_master(fields=FIELDS, items=ITEMS)


@pytest.fixture
def clone(app, db, master):
    connect(app, master)
    tracker = make_clone(app, master)
    reload(app, tracker, master)
    return tracker


def reload(app, tracker, master):
    with client(app, master.url) as c:
        return reload_mod.reload(tracker, c)


def run_push(app, tracker, master):
    plan = push_mod.plan_push(tracker)
    with client(app, master.url) as c:
        return push_mod.push(tracker, c, plan, username="test")


def local(remote_id):
    return Item.get(Item.remote_id == remote_id)


def state(remote_id):
    item = local(remote_id)
    return item.status, item.values["status"]


def cli(app, *args):
    return app.test_cli_runner().invoke(args=["tikisync", *map(str, args)])


def rows_of(item):
    item.baseline = Baseline.get(Baseline.item == item)
    perms = status_mod.perms_of(item.tracker)
    return status_mod.field_table(item, perms)


def test_clone_and_reload_keep_the_field_and_the_item_status_apart(clone):
    assert "status" in status_mod.perms_of(clone)
    assert [state(r) for r in (1, 2, 3)] == [("o", "new"), ("p", "doing"), ("c", "done")]
    assert status_mod.classify(clone) == NOTHING


def test_an_edit_of_the_field_status_is_pushed_to_that_field(app, clone, master):
    item_svc.update_item(local(1), {"status": "doing"}, username="t")
    assert status_mod.classify(clone)["modified"] == [local(1).id]
    result = run_push(app, clone, master)
    assert result["failed"] == [] and [p["fields"] for p in result["pushed"]] == [["status"]]
    assert master.items[1]["fields"]["status"] == "doing"
    assert master.items[1]["status"] == "o"  # the item status did not move
    assert state(1) == ("o", "doing")
    assert local(1).hash == local(1).base_hash and status_mod.classify(clone) == NOTHING


def test_a_change_of_the_item_status_is_pushed_as_the_item_status(app, clone, master):
    item_svc.update_item(local(2), {}, status="c", username="t")
    result = run_push(app, clone, master)
    assert result["failed"] == [] and len(result["pushed"]) == 1
    assert "status" not in result["pushed"][0]["fields"]  # no field called status was sent
    assert master.items[2]["status"] == "c"
    assert master.items[2]["fields"]["status"] == "doing"
    assert state(2) == ("c", "doing") and status_mod.classify(clone) == NOTHING


def test_both_in_one_push_each_to_its_place(app, clone, master):
    item_svc.update_item(local(3), {"status": "reopened"}, status="o", username="t")
    run_push(app, clone, master)
    assert (master.items[3]["status"], master.items[3]["fields"]["status"]) == ("o", "reopened")
    assert state(3) == ("o", "reopened") and status_mod.classify(clone) == NOTHING


def test_reload_of_the_master_field_status_leaves_the_item_status(app, clone, master):
    item_svc.update_item(local(1), {}, status="c", username="t")  # only the item status here
    item_svc.update_item(local(3), {"status": "mine"}, username="t")  # only the field here
    master.items[1]["fields"]["status"] = "done"
    master.items[2]["fields"]["status"] = "blocked"
    master.items[3]["status"] = "o"
    reload(app, clone, master)
    assert state(1) == ("c", "done")  # the field taken, the local item status kept
    assert state(2) == ("p", "blocked")
    assert state(3) == ("o", "mine")  # the item status taken, the local field kept
    assert status_mod.classify(clone) == dict(NOTHING, modified=[local(1).id, local(3).id])
    run_push(app, clone, master)
    assert (master.items[1]["status"], master.items[1]["fields"]["status"]) == ("c", "done")
    assert (master.items[3]["status"], master.items[3]["fields"]["status"]) == ("o", "mine")


def verdicts(item):
    """{"field": verdict of the field `status`, "item": verdict of the item status}."""
    rows = rows_of(item)
    field = [r["verdict"] for r in rows if r["perm"] == "status" and not r.get("is_status")]
    status = [r["verdict"] for r in rows if r.get("is_status")]
    return {"field": field, "item": status}


def test_a_conflict_on_the_field_is_not_one_on_the_item_status(app, clone, master):
    item_svc.update_item(local(1), {"status": "mine"}, username="t")
    master.items[1]["fields"]["status"] = "theirs"
    with client(app, master.url) as c:
        status_mod.check_remote(clone, c)
    assert status_mod.classify(clone)["conflicts"] == [local(1).id]
    assert verdicts(local(1)) == {"field": ["conflict"], "item": [""]}
    result = cli(app, "resolve", local(1).id, "--field", "status=theirs")
    assert result.exit_code == 0, result.output
    assert state(1) == ("o", "theirs") and status_mod.classify(clone) == NOTHING


def test_a_conflict_on_the_item_status_is_not_one_on_the_field(app, clone, master):
    item_svc.update_item(local(2), {}, status="c", username="t")
    master.items[2]["status"] = "o"
    reload(app, clone, master)
    assert status_mod.classify(clone)["conflicts"] == [local(2).id]
    assert verdicts(local(2)) == {"field": [""], "item": ["conflict"]}
    # With a field called status, `--field status=…` names the field (not in conflict here);
    # the item status is `@status`.
    refused = cli(app, "resolve", local(2).id, "--field", "status=mine")
    assert refused.exit_code != 0 and "not in conflict" in refused.output
    result = cli(app, "resolve", local(2).id, "--field", "@status=mine")
    assert result.exit_code == 0, result.output
    run_push(app, clone, master)
    assert (master.items[2]["status"], master.items[2]["fields"]["status"]) == ("c", "doing")


def test_resolve_page_shows_and_resolves_both_rows(app, clone, master, client, auth):
    auth.login("admin")
    item_svc.update_item(local(1), {"status": "mine"}, status="c", username="t")
    master.items[1]["fields"]["status"] = "theirs"
    master.items[1]["status"] = "p"
    reload(app, clone, master)
    page = soup(client.get(url(app, "tikisync.item_resolve", item_id=local(1).id)))
    rows = page.find(id="three-way").find("tbody").find_all("tr")
    named = {tr.find("th").get_text(" ", strip=True): tr for tr in rows}
    assert "conflict" in named["Stage conflict"].get_text()
    assert "conflict" in named["Status conflict"].get_text()
    choices = {}
    for tr in (named["Stage conflict"], named["Status conflict"]):
        mine, theirs = tr.find_all("input", {"type": "radio"})[:2]
        choices[theirs["name"]] = theirs["value"] if tr is named["Stage conflict"] else \
            mine["value"]
    done = client.post(url(app, "tikisync.item_resolve", item_id=local(1).id), data=choices)
    assert done.status_code == 303
    assert state(1) == ("c", "theirs")  # theirs for the field, mine for the item status


def test_cli_field_status_means_the_item_status_without_such_a_field(app, db, fake_master):
    connect(app, fake_master)
    tracker = make_clone(app, fake_master)
    reload(app, tracker, fake_master)
    item_svc.update_item(local(1), {}, status="c", username="t")
    fake_master.items[1]["status"] = "p"
    reload(app, tracker, fake_master)
    assert status_mod.classify(tracker)["conflicts"] == [local(1).id]
    result = cli(app, "resolve", local(1).id, "--field", "status=theirs")
    assert result.exit_code == 0, result.output
    assert local(1).status == "p" and status_mod.classify(tracker) == NOTHING


def test_history_restore_tells_the_field_from_the_item_status(app, clone, master):
    from tikisync_web.models import ItemHistory
    from tikisync_web.sync import resolve as resolve_mod

    item = local(2)
    field = ItemHistory.create(item=item, side="local", action="resolve", perm_name="status",
                               old_value="earlier", new_value="doing")
    status = ItemHistory.create(item=item, side="local", action="resolve",
                                perm_name="@status", old_value="c", new_value="p")
    resolve_mod.restore(field)
    assert state(2) == ("p", "earlier")
    resolve_mod.restore(status)
    assert state(2) == ("c", "earlier")


def test_older_history_rows_named_status_restore_the_item_status(app, db, fake_master):
    from tikisync_web.models import ItemHistory
    from tikisync_web.sync import resolve as resolve_mod

    connect(app, fake_master)
    tracker = make_clone(app, fake_master)
    reload(app, tracker, fake_master)
    entry = ItemHistory.create(item=local(1), side="local", action="resolve",
                               perm_name="status", old_value="c", new_value="o")
    restored = resolve_mod.restore(entry)
    assert restored.status == "c" and "status" not in restored.values

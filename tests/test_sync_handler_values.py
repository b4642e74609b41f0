"""No phantom changes from Tiki 24+ handler values (W18, issue 13).

Tiki 24+ answers `list_items` through its field handlers: an empty user selector reads `false`
(and `""` once the item was updated), an empty date reads as the master's current time, on
every read. A reload of an unchanged tracker must report 0 updated and change nothing; the
three-way view must not show a change where base, mine and theirs agree; a push of a local
edit sends the field the user changed and nothing we never wrote.

The first tests run on a fake master built from the answers a real Tiki 24.1 recorded
(tests/support/tiki_recorded.py, copies of ../shared/tiki-examples/02 and 03), checked to
answer list_items as that Tiki did.
"""
import json

import pytest

from tests.support.sync import client, connect, make_clone, tracker_state
from tests.support.tiki_recorded import RECORDED
from tikisync_web import items as item_svc
from tikisync_web.models import Baseline, Item
from tikisync_web.sync import push as push_mod
from tikisync_web.sync import reload as reload_mod
from tikisync_web.sync import status as status_mod

DUE = {"fieldId": 6, "trackerId": 1, "name": "Due", "permName": "due", "type": "f",
       "options": '{"datetime":"dt"}', "isMandatory": "n"}


def recorded(name):
    return json.loads(RECORDED[name])


def tiki24_master(make_master, with_due=False, **settings):
    """A fake master holding what the recorded Tiki 24.1 held: its fields (02) and items (03),
    an empty user selector spelled `false` as there."""
    fields = [{k: f[k] for k in ("fieldId", "name", "permName", "type", "options", "isMain",
                                 "isMandatory")} for f in recorded("02-ajax-export_fields.json")
              ["fields"]]
    items = [(row["status"], {p: ("" if v is False else v) for p, v in row["fields"].items()})
             for row in recorded("03-ajax-list_items-raw.json")["result"]]
    return make_master(fields=fields + ([DUE] if with_due else []), items=items, empty=False,
                       empty_dates_now=with_due, **settings)


def reload(app, tracker, master):
    with client(app, master.url) as c:
        return reload_mod.reload(tracker, c)


@pytest.fixture
def recorded_clone(app, db, make_master):
    master = tiki24_master(make_master)
    app.config.update(TIKISYNC_HTTP_BACKOFF=0)
    connect(app, master)
    return master, make_clone(app, master)


def test_the_fake_answers_list_items_as_the_recorded_tiki(make_master):
    master = tiki24_master(make_master)
    answer = master.list_items("admin", {"trackerId": "1", "maxRecords": "-1"}, "A")
    assert answer["result"] == recorded("03-ajax-list_items-raw.json")["result"]


def test_second_reload_of_the_recorded_tracker_reports_nothing_updated(app, recorded_clone):
    master, tracker = recorded_clone
    first = reload(app, tracker, master)
    assert first["added"] == 3
    before = tracker_state(tracker)[:2]
    # After any update of an item Tiki spells the same empty user selector "" (README).
    master.settings.empty = ""
    second = reload(app, tracker, master)
    assert (second["updated"], second["unchanged"]) == (0, 3)
    assert tracker_state(tracker)[:2] == before


@pytest.mark.parametrize("offset", [0, -7200], ids=["same clock", "master 2 h behind"])
def test_an_empty_date_read_as_now_is_empty(app, db, make_master, offset):
    master = tiki24_master(make_master, with_due=True, clock_offset=offset)
    app.config.update(TIKISYNC_HTTP_BACKOFF=0)
    connect(app, master)
    tracker = make_clone(app, master)
    assert reload(app, tracker, master)["added"] == 3
    dues = [i.values.get("due") for i in Item.select().where(Item.tracker == tracker)]
    assert dues == ["", "", ""]  # no due date nobody set
    before = tracker_state(tracker)[:2]
    master.settings.empty = ""
    master.settings.clock_offset = offset + 3  # the master's "now" moved on
    again = reload(app, tracker, master)
    assert (again["updated"], again["unchanged"]) == (0, 3)
    assert tracker_state(tracker)[:2] == before


def test_a_date_somebody_set_is_kept(app, db, make_master):
    master = tiki24_master(make_master, with_due=True)
    master.items[1]["fields"]["due"] = "1767225600"  # 2026-01-01, set on the master
    app.config.update(TIKISYNC_HTTP_BACKOFF=0)
    connect(app, master)
    tracker = make_clone(app, master)
    reload(app, tracker, master)
    assert Item.get(Item.remote_id == 1).values["due"] == "1767225600"


def test_a_local_edit_pushes_only_that_field_and_the_view_shows_only_it(app, db, make_master):
    master = tiki24_master(make_master, with_due=True)
    app.config.update(TIKISYNC_HTTP_BACKOFF=0)
    connect(app, master)
    tracker = make_clone(app, master)
    reload(app, tracker, master)
    third = Item.get(Item.tracker == tracker, Item.remote_id == 3)  # empty assignee and due
    item_svc.update_item(third, {"title": "Third item, edited"}, username="t")
    master.settings.clock_offset = 2  # a later read: "now" is another second
    with client(app, master.url) as c:
        status_mod.status(tracker, c)  # checks the master: what it holds becomes "theirs"
    viewed = Item.get_by_id(third.id)
    viewed.baseline = Baseline.get(Baseline.item == viewed)  # as the resolve page reads it
    rows = status_mod.field_table(viewed, status_mod.perms_of(tracker))
    changed = {row["perm"]: row["verdict"] for row in rows if row["verdict"]}
    assert changed == {"title": "local"}
    due = next(row for row in rows if row["perm"] == "due")
    assert due["base"] == due["mine"] == due["theirs"] == ""
    updates_before = len([r for r in master.requests if "update_item" in r.path + str(r.query)
                          or r.path.endswith("/items/3")])
    with client(app, master.url) as c:
        result = push_mod.push(tracker, c, push_mod.plan_push(tracker), username="t")
    assert [p["remote_id"] for p in result["pushed"]] == [3] and result["failed"] == []
    sent = [r for r in master.requests if r.method == "POST" and r.path.endswith(
        "tiki-api.php") and "items/3" in "".join(r.query.get("route", []))]
    assert len(sent) == 1 + updates_before
    fields = {k for k in sent[-1].form if k.startswith("fields[")}
    assert fields == {"fields[title]"}
    assert master.items[3]["fields"]["due"] == "" and master.items[3]["fields"]["assignee"] == ""
    assert reload(app, tracker, master)["updated"] == 0


# --- one spelling per field type -----------------------------------------------------------

SPELLED_FIELDS = [
    {"fieldId": 1, "name": "Title", "permName": "title", "type": "t", "isMain": "y",
     "isMandatory": "y"},
    {"fieldId": 2, "name": "Done", "permName": "done", "type": "c"},
    {"fieldId": 3, "name": "Teams", "permName": "teams", "type": "e",
     "options": '{"parentId":0,"inputtype":"m","descendants":0}'},
    {"fieldId": 4, "name": "Colours", "permName": "colours", "type": "M",
     "options": '{"options":["red","green","blue"]}'},
]
FIRST = {"title": "Spelled", "done": "on", "teams": "2,1", "colours": "red, blue"}
AGAIN = {"title": "Spelled", "done": "1", "teams": "1,2", "colours": "red,blue"}


def spelled_clone(app, make_master):
    master = make_master(fields=SPELLED_FIELDS, items=[("o", dict(FIRST))])
    app.config.update(TIKISYNC_HTTP_BACKOFF=0)
    connect(app, master)
    tracker = make_clone(app, master)
    return master, tracker


def test_other_spellings_of_the_same_values_are_no_change(app, db, make_master):
    master, tracker = spelled_clone(app, make_master)
    assert reload(app, tracker, master)["added"] == 1
    stored = Item.get(Item.tracker == tracker).values
    assert stored == {"title": "Spelled", "done": "y", "teams": "1,2", "colours": "red,blue"}
    # The same item as a Tiki 24+ handler spells it after an update elsewhere.
    master.items[1]["fields"].update(AGAIN)
    before = tracker_state(tracker)[:2]
    again = reload(app, tracker, master)
    assert (again["updated"], again["unchanged"]) == (0, 1)
    assert tracker_state(tracker)[:2] == before
    # A local edit of another field pushes that field only; one typed here in another order
    # is what the master then holds.
    item_svc.update_item(Item.get(Item.tracker == tracker), {"title": "Respelled"}, username="t")
    with client(app, master.url) as c:
        result = push_mod.push(tracker, c, push_mod.plan_push(tracker), username="t")
    assert result["failed"] == [] and result["pushed"][0]["fields"] == ["title"]
    mine = Item.get(Item.tracker == tracker)
    item_svc.update_item(mine, {"teams": ["2", "1"]}, username="t")
    assert Item.get_by_id(mine.id).values["teams"] == "1,2"


def test_an_upgraded_clone_with_old_spellings_reports_nothing_updated(app, db, make_master):
    """Values stored before migration 13 kept the master's spelling; the migration gives them
    the one spelling, with their hashes, so the first reload after it changes nothing."""
    from tikisync_web import migrations
    from tikisync_web.values import content_hash

    master, tracker = spelled_clone(app, make_master)
    reload(app, tracker, master)
    item = Item.get(Item.tracker == tracker)
    old = dict(item.values, **{k: v for k, v in FIRST.items() if k != "title"})
    Item.update(values=old, hash=content_hash(old, "o"), base_hash=content_hash(old, "o")).where(
        Item.id == item.id).execute()  # as the version before stored it
    respell = next(step for number, _, step in migrations.MIGRATIONS if number == 13)
    respell(db, None)
    migrated = Item.get_by_id(item.id)
    assert migrated.values["teams"] == "1,2" and migrated.values["done"] == "y"
    assert migrated.hash == migrated.base_hash == content_hash(migrated.values, "o")
    counts = reload(app, tracker, master)
    assert (counts["updated"], counts["unchanged"]) == (0, 1)

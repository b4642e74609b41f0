"""The master as Tiki 9-23's clone client sees it: tiki-ajax_services.php, HTTP Basic, form
bodies with bracket keys, `Accept: application/json`, pages of 20."""
import json
from types import SimpleNamespace

from playhouse.test_utils import count_queries

from tests.support.master_api import DEMO_FIELDS, MULTILINE, TikiA, add_items, basic, make_demo
from tests.support.tiki_readraw import read_raw
from tikisync_web import items
from tikisync_web.db import database
from tikisync_web.models import AuditEvent, Item


def test_list_trackers_keys_the_list_by_id(master):
    answer = master.a["viewer"].json("list_trackers")
    tid = master.tracker.id
    assert answer["list"] == {str(tid): "SyncDemo"}
    assert answer["cant"] == 1
    row = answer["data"][0]
    assert row["trackerId"] == tid and row["name"] == "SyncDemo" and row["items"] == 3
    assert row["description"] == "Demo tracker" and row["descriptionIsParsed"] == "n"
    assert row["lastModif"] >= row["created"]


def test_list_trackers_answers_an_object_when_there_are_none(app, users):
    answer = TikiA(app.test_client(), basic("viewer")).json("list_trackers")
    assert answer == {"list": {}, "data": [], "cant": 0}


def test_export_is_read_back_by_tikis_parser_field_for_field(master):
    answer = master.a["viewer"].json("export_fields", trackerId=master.tracker.id)
    assert answer["trackerId"] == master.tracker.id and answer["title"] == "Export Fields"
    sections = read_raw(answer["export"])
    by_perm = {s["permName"]: s for s in sections.values()}
    assert list(by_perm) == [perm for perm, *_ in DEMO_FIELDS]  # every field, in order, once
    required = ("fieldId", "name", "permName", "position", "type", "options", "isMain",
                "isTblVisible", "isSearchable", "isPublic", "isHidden", "isMandatory",
                "description", "descriptionIsParsed")
    rows = {row["permName"]: row for row in answer["fields"]}
    for perm, label, code, options, mandatory, _help in DEMO_FIELDS:
        section = by_perm[perm]
        assert all(key in section for key in required), (perm, sorted(section))
        assert sections[f"field{rows[perm]['fieldId']}"] is section
        assert section["name"] == label and section["type"] == code
        assert json.loads(section["options"]) == options
        assert section["isMandatory"] == ("y" if mandatory else "n")
        assert section["isMain"] == ("y" if perm == "title" else "n")


def test_multiline_description_stays_on_its_line(master):
    """`[ABC]` or `key = value` inside a description must not open a section or add a key."""
    text = master.a["viewer"].json("export_fields", trackerId=master.tracker.id)["export"]
    sections = read_raw(text)
    assert "abc" not in sections and len(sections) == len(DEMO_FIELDS)
    title = next(s for s in sections.values() if s["permName"] == "title")
    assert "key" not in title
    # Tiki shows the escaped text; nothing after the description's first line is lost.
    assert title["description"] == MULTILINE.replace("\\", "\\\\").replace("\n", "\\n")
    assert title["descriptionIsParsed"] == "n"  # the key after the description survives
    notes = next(s for s in sections.values() if s["permName"] == "notes")
    assert notes["description"] == "Free text\\r\\nover lines"
    # ... and our own reader gives the original text back.
    from tikisync_web.remote import exportfmt
    ours = {f["permName"]: f for f in exportfmt.parse(text)}
    assert ours["title"]["description"] == MULTILINE.strip()
    assert ours["notes"]["description"] == "Free text\r\nover lines"


def test_empty_values_keep_the_trailing_space(master):
    text = master.a["viewer"].json("export_fields", trackerId=master.tracker.id)["export"]
    assert "\nrules = \n" in text
    assert all(line.startswith(("#", "[")) or " = " in line for line in text.splitlines())


def test_export_of_some_fields_and_of_an_unknown_one(master):
    viewer = master.a["viewer"]
    wanted = master.a["viewer"].json("export_fields", trackerId=master.tracker.id)["fields"][1]
    answer = viewer.json("export_fields", trackerId=master.tracker.id, fields=[wanted["fieldId"]])
    assert [f["permName"] for f in answer["fields"]] == ["amount"]
    response = viewer.call("export_fields", trackerId=master.tracker.id, fields=[99999])
    assert response.status_code == 404


def test_raw_items_carry_every_field_and_both_clocks(master):
    answer = master.a["viewer"].json("list_items", trackerId=master.tracker.id, format="raw",
                                     offset=0, maxRecords=-1)
    assert answer["trackerId"] == master.tracker.id
    assert (answer["offset"], answer["maxRecords"]) == (0, -1)
    first, second, third = answer["result"]
    assert [first["itemId"], second["itemId"], third["itemId"]] == master.item_ids
    assert [first["status"], second["status"], third["status"]] == ["o", "p", "c"]
    assert set(third["fields"]) == {perm for perm, *_ in DEMO_FIELDS}
    assert third["fields"]["assignee"] == "" and third["fields"]["section"] == ""
    assert first["fields"]["due"] == "1740787200" and first["fields"]["done"] == "y"
    assert first["fields"]["team"] == "12" and first["fields"]["amount"] == "12.5"
    assert all(isinstance(i["created"], int) and isinstance(i["lastModif"], int)
               for i in answer["result"])


def test_without_format_values_read_as_people_read_them(master):
    answer = master.a["viewer"].json("list_items", trackerId=master.tracker.id, maxRecords=-1,
                                     status="o")
    (item,) = answer["result"]
    assert item["fields"]["due"] == "2025-03-01"
    assert item["fields"]["done"] == "yes" and item["fields"]["team"] == "Sales"
    assert item["fields"]["title"] == "First item"


def test_missing_maxrecords_returns_everything(master):
    """Real Tiki 24 answers [] (tiki-examples/05); we return every item (README)."""
    answer = master.a["viewer"].json("list_items", trackerId=master.tracker.id, format="raw")
    assert (answer["offset"], answer["maxRecords"]) == (None, None)
    assert len(answer["result"]) == 3


def test_paging_by_20_over_45_items_takes_three_requests(master):
    add_items(master.tracker, [("o", {"title": f"bulk {n:02d}"}) for n in range(42)])
    client = master.a["admin"]
    before = client.requests
    items = client.load_all("list_items", trackerId=master.tracker.id, format="raw")
    assert client.requests - before == 3
    ids = [i["itemId"] for i in items]
    assert len(ids) == 45 and ids == sorted(set(ids))


def test_pages_are_exact_for_any_size(master):
    add_items(master.tracker, [("o", {"title": f"bulk {n:02d}"}) for n in range(7)])
    viewer = master.a["viewer"]
    every = [i["itemId"] for i in viewer.load_all("list_items", per_page=100,
                                                   trackerId=master.tracker.id, format="raw")]
    for size in (1, 3, 4, 10):
        pages = [i["itemId"] for i in viewer.load_all("list_items", per_page=size,
                                                       trackerId=master.tracker.id, format="raw")]
        assert pages == every
    page = viewer.json("list_items", trackerId=master.tracker.id, offset=9, maxRecords=4)
    assert [i["itemId"] for i in page["result"]] == every[9:]
    empty = viewer.json("list_items", trackerId=master.tracker.id, offset=0, maxRecords=0)
    assert empty["result"] == []


def test_modified_since_is_strict_on_our_clock(master, monkeypatch):
    viewer, editor = master.a["viewer"], master.a["editor"]
    first, second, third = viewer.json("list_items", trackerId=master.tracker.id,
                                       maxRecords=-1, format="raw")["result"]
    newest = max(first["lastModif"], second["lastModif"], third["lastModif"])
    since = viewer.json("list_items", trackerId=master.tracker.id, maxRecords=-1,
                        modifiedSince=newest)
    assert since["result"] == []
    # lastModif counts seconds: an edit in the second the newest item was written shares its
    # lastModif, and a strict modifiedSince leaves it out (as Tiki's does; our client asks from
    # a window before its last look). The master's clock reads the next second for this edit.
    monkeypatch.setattr(items, "time", SimpleNamespace(time=lambda: newest + 1))
    edited = editor.json("update_item", trackerId=master.tracker.id, itemId=second["itemId"],
                         fields={"amount": "4"})
    assert edited["lastModif"] > second["lastModif"]
    since = viewer.json("list_items", trackerId=master.tracker.id, maxRecords=-1,
                        modifiedSince=newest, format="raw")
    assert [i["itemId"] for i in since["result"]] == [second["itemId"]]
    assert since["result"][0]["lastModif"] == edited["lastModif"]
    at_edit = viewer.json("list_items", trackerId=master.tracker.id, maxRecords=-1,
                          modifiedSince=edited["lastModif"])
    assert at_edit["result"] == []


def test_status_filter_takes_a_string_of_letters(master):
    viewer = master.a["viewer"]
    statuses = {s: [i["status"] for i in viewer.json(
        "list_items", trackerId=master.tracker.id, maxRecords=-1, status=s)["result"]]
        for s in ("o", "pc", "opc", "", "x")}
    assert statuses == {"o": ["o"], "pc": ["p", "c"], "opc": ["o", "p", "c"],
                        "": ["o", "p", "c"], "x": []}


def test_item_id_filter_rereads_chosen_items(master):
    viewer, (one, two, three) = master.a["viewer"], master.item_ids
    single = viewer.json("list_items", trackerId=master.tracker.id, maxRecords=-1, itemId=two)
    listed = viewer.json("list_items", trackerId=master.tracker.id, maxRecords=-1,
                         itemId=[three, one, 999999])
    assert [i["itemId"] for i in single["result"]] == [two]
    assert [i["itemId"] for i in listed["result"]] == [one, three]


def test_list_items_costs_the_same_queries_for_3_or_45_items(master):
    viewer = master.a["viewer"]
    viewer.json("list_items", trackerId=master.tracker.id, maxRecords=-1)  # warm the auth cache
    with count_queries() as few:
        viewer.json("list_items", trackerId=master.tracker.id, maxRecords=-1, format="raw")
    add_items(master.tracker, [("o", {"title": f"bulk {n:02d}"}) for n in range(42)])
    with count_queries() as many:
        answer = viewer.json("list_items", trackerId=master.tracker.id, maxRecords=-1,
                             format="raw")
    assert len(answer["result"]) == 45
    assert many.count == few.count <= 5


def test_insert_item_ignores_a_posted_item_id_and_audits_the_user(master):
    editor = master.a["editor"]
    answer = editor.json("insert_item", trackerId=master.tracker.id, itemId=master.item_ids[0],
                         status="p", fields={"title": "From Tiki", "amount": "42",
                                             "priority": "medium", "assignee": "admin"})
    new_id = answer["itemId"]
    assert isinstance(new_id, int) and new_id not in master.item_ids
    assert answer["status"] == "p" and answer["itemTitle"] == "From Tiki"
    assert answer["fields"]["amount"] == "42" and answer["fields"]["notes"] == ""
    assert answer["lastModif"] >= answer["created"]
    with database.connection_context():
        stored = Item.get_by_id(new_id)
        event = AuditEvent.get((AuditEvent.item_id == new_id)
                               & (AuditEvent.action == "item.create"))
        first = Item.get_by_id(master.item_ids[0])
    assert stored.values["title"] == "From Tiki" and stored.created_by == "editor"
    assert event.username == "editor" and event.tracker_id == master.tracker.id
    assert first.values["title"] == "First item"  # the posted itemId touched nothing


def test_insert_item_status_defaults_to_open(master):
    answer = master.a["editor"].json("insert_item", trackerId=master.tracker.id,
                                     fields={"title": "Plain"})
    assert answer["status"] == "o"


def test_multiple_values_arrive_as_a_php_array(master):
    tracker = make_demo("Multi", fields=[
        ("colours", "Colours", "M", {"options": ["red", "green", "blue"]}, False, "")])
    editor = master.a["editor"]
    answer = editor.json("insert_item", trackerId=tracker.id,
                         fields={"colours": ["red", "blue"]})  # fields[colours][0]=red&...[1]=blue
    assert answer["fields"]["colours"] == "red,blue"
    response = editor.call("update_item", trackerId=tracker.id, itemId=answer["itemId"],
                           fields={"colours": ["red", "pink"]})
    assert response.status_code == 400


def test_insert_item_refusals(master):
    editor, tid = master.a["editor"], master.tracker.id
    cases = [
        ({"fields": {"amount": "1"}}, 409),  # mandatory title missing
        ({"fields": {"title": "x", "amount": "lots"}}, 400),
        ({"fields": {"nosuch": "1", "section": "x"}}, 400),  # nothing we could store
        ({"fields": {"title": "x"}, "status": "z"}, 400),
        ({}, 400),  # no fields at all: Tiki would answer 200 with a form; we refuse
    ]
    for args, status in cases:
        response = editor.call("insert_item", trackerId=tid, **args)
        assert response.status_code == status, (args, response.get_data(as_text=True))
        body = response.get_json()
        assert set(body) >= {"code", "errortitle", "message"} and body["code"] == status
    with database.connection_context():
        assert Item.select().where(Item.tracker == tid).count() == 3


def test_update_item_is_partial_and_validated(master):
    editor, tid, (one, two, _) = master.a["editor"], master.tracker.id, master.item_ids
    answer = editor.json("update_item", trackerId=tid, itemId=one, status="c",
                         fields={"priority": "low"})
    assert answer["itemId"] == one and answer["status"] == "c"
    assert answer["fields"]["priority"] == "low"
    assert answer["fields"]["title"] == "First item" and answer["fields"]["amount"] == "12.5"
    assert answer["changed"] == ["priority", "@status"]
    status_only = editor.json("update_item", trackerId=tid, itemId=two, status="o")
    assert status_only["status"] == "o" and status_only["fields"]["title"] == "Second item"
    with database.connection_context():
        event = AuditEvent.select().where((AuditEvent.item_id == one) &
                                          (AuditEvent.action == "item.update")).get()
    assert event.username == "editor" and event.summary["fields"] == ["priority", "@status"]


def test_update_item_refusals_change_nothing(master):
    editor, tid, (one, *_) = master.a["editor"], master.tracker.id, master.item_ids
    other = add_items(_other_tracker(), [("o", {"title": "elsewhere"})])[0]
    cases = [
        ({"itemId": one, "fields": {"title": ""}}, 409),
        ({"itemId": one, "fields": {"amount": "many"}}, 400),
        ({"itemId": one, "status": "q"}, 400),
        ({"itemId": 987654, "fields": {"title": "x"}}, 404),
        ({"itemId": other, "fields": {"title": "x"}}, 404),  # exists, but not in this tracker
        ({"fields": {"title": "x"}}, 409),  # no itemId: Tiki's MissingValue
    ]
    with database.connection_context():
        before = Item.get_by_id(one)
    for args, status in cases:
        response = editor.call("update_item", trackerId=tid, **args)
        assert response.status_code == status, (args, response.get_data(as_text=True))
    with database.connection_context():
        after = Item.get_by_id(one)
    assert (after.values, after.status, after.modified) == (before.values, before.status,
                                                             before.modified)


def test_unknown_and_valueless_perm_names_are_dropped_as_tiki_drops_them(master):
    """A Tiki clone with an extra local field still pushes: Tiki's master reads only its own
    fields from the input, so ours does too, over both generations."""
    tid, (one, *_) = master.tracker.id, master.item_ids
    answer = master.a["editor"].json("insert_item", trackerId=tid, fields={
        "title": "From a clone", "localNotes": "only on the clone", "section": "header text"})
    assert answer["itemId"] > 0 and answer["fields"]["title"] == "From a clone"
    assert "localNotes" not in answer["fields"] and answer["fields"]["section"] == ""
    updated = master.a["editor"].json("update_item", trackerId=tid, itemId=one,
                                      fields={"amount": "99", "localNotes": "x"})
    assert updated["changed"] == ["amount"]
    b_insert = master.b["editor"].post(f"trackers/{tid}/items",
                                       fields={"title": "Over B", "ghost": "1"})
    assert b_insert.status_code == 200 and b_insert.get_json()["itemId"] > 0
    b_update = master.b["editor"].post(f"trackers/{tid}/items/{one}", fields={"ghost": "2"})
    assert b_update.status_code == 200 and b_update.get_json()["changed"] == []
    with database.connection_context():
        stored = Item.get_by_id(answer["itemId"])
        first = Item.get_by_id(one)
    assert "localNotes" not in stored.values and "ghost" not in first.values
    assert first.values["amount"] == "99"


def test_update_without_item_id_is_a_409_as_in_tiki(master):
    response = master.a["editor"].call("update_item", trackerId=master.tracker.id,
                                       fields={"title": "x"})
    assert response.status_code == 409
    assert response.get_json()["code"] == 409 and "itemId" in response.get_json()["message"]


def _other_tracker():
    return make_demo("Other", fields=[("title", "Title", "t", {}, False, "")])


def test_roles(master):
    tid = master.tracker.id
    viewer_insert = master.a["viewer"].call("insert_item", trackerId=tid,
                                            fields={"title": "nope"})
    assert viewer_insert.status_code == 403
    anonymous = master.anonymous_a.call("list_items", trackerId=tid, maxRecords=-1)
    assert anonymous.status_code == 403 and anonymous.get_json()["code"] == 403
    admin = master.a["admin"].call("update_item", trackerId=tid, itemId=master.item_ids[2],
                                   fields={"amount": "1"})
    assert admin.status_code == 200


def test_sync_switch_does_not_affect_serving(master):
    from tikisync_web import settings

    with database.connection_context():
        settings.put(settings.REMOTE_SYNC, "n")
    assert len(master.a["viewer"].json("list_items", trackerId=master.tracker.id,
                                       maxRecords=-1)["result"]) == 3
    assert master.a["editor"].json("insert_item", trackerId=master.tracker.id,
                                   fields={"title": "still served"})["itemId"]


def test_reads_also_answer_get_but_writes_need_post(master):
    viewer, editor, tid = master.a["viewer"], master.a["editor"], master.tracker.id
    assert viewer.call("list_trackers", method="GET").status_code == 200
    response = editor.call("insert_item", method="GET", trackerId=tid, fields={"title": "x"})
    assert response.status_code == 405 and "POST" in response.headers["Allow"]


def test_edit_field_reads_but_never_writes(master):
    viewer, admin, tid = master.a["viewer"], master.a["admin"], master.tracker.id
    fields = viewer.json("export_fields", trackerId=tid)["fields"]
    title = fields[0]
    answer = viewer.json("edit_field", trackerId=tid, fieldId=title["fieldId"])
    assert answer["field"]["permName"] == "title" and answer["field"]["type"] == "t"
    same = admin.json("edit_field", trackerId=tid, fieldId=title["fieldId"], name="Title")
    assert same["field"]["name"] == "Title"
    renamed = admin.call("edit_field", trackerId=tid, fieldId=title["fieldId"], name="Renamed")
    assert renamed.status_code == 403
    assert viewer.json("export_fields", trackerId=tid)["fields"][0]["name"] == "Title"
    other = admin.call("edit_field", trackerId=tid, fieldId=999999)
    assert other.status_code == 404


def test_list_users_pages_and_filters_by_role_group(master):
    viewer = master.a["viewer"]
    every = viewer.json("list_users", controller="user", offset=0, maxRecords=20)
    assert [u["login"] for u in every["result"]] == ["admin", "editor", "viewer"]
    assert every["count"] == 3
    assert all(set(u) == {"userId", "login", "groups"} for u in every["result"])
    paged = viewer.load_all("list_users", per_page=2, controller="user")
    assert [u["login"] for u in paged] == ["admin", "editor", "viewer"]
    editors = viewer.json("list_users", controller="user", groupIds=[2], offset=0, maxRecords=20)
    assert [u["login"] for u in editors["result"]] == ["editor"] and editors["count"] == 1
    by_name = viewer.json("list_users", controller="user", groupIds=["admin", "viewer"])
    assert [u["login"] for u in by_name["result"]] == ["admin", "viewer"]
    unknown = viewer.json("list_users", controller="user", groupIds=[77])
    assert unknown["count"] == 3  # a group we do not have is ignored
    assert "hash" not in json.dumps(every) and "password" not in json.dumps(every)


def test_role_limited_user_selector_exports_its_groups(master):
    tracker = make_demo("Limited", fields=[
        ("owner", "Owner", "u", {"roles": ["editor", "admin"]}, False, "")])
    export = master.a["viewer"].json("export_fields", trackerId=tracker.id)["export"]
    (section,) = read_raw(export).values()
    assert json.loads(section["options"])["groupIds"] == [2, 3]


def test_list_categories_from_category_fields(master):
    answer = master.a["viewer"].json("list_categories", controller="category")
    assert answer == {"12": {"categId": 12, "name": "Sales", "parentId": 0},
                      "13": {"categId": 13, "name": "Support", "parentId": 0}}
    children = master.a["viewer"].json("list_categories", controller="category", parentId=12,
                                       descends=1)
    assert children == {}


def test_translation_manage_knows_no_translations(master):
    viewer = master.a["viewer"]
    answer = viewer.json("manage", controller="translation", type="trackeritem",
                         source=master.item_ids[0])
    assert answer["translations"] == []
    assert viewer.call("manage", controller="translation", type="wiki page",
                       source=1).status_code == 404


def test_answers_are_json_whatever_the_accept_header(master):
    """Tiki 9-18 only recognise an exact `application/json`; we never fall back to HTML."""
    for accept in (None, "text/html", "*/*"):
        tiki = TikiA(master.client, basic("viewer"))
        if accept is None:
            del tiki.headers["Accept"]
        else:
            tiki.headers["Accept"] = accept
        answer = tiki.call("list_trackers")
        assert answer.status_code == 200 and answer.mimetype == "application/json"
        error = tiki.call("list_items", trackerId=999999)
        assert error.status_code == 404 and error.mimetype == "application/json"


def test_a_changed_password_or_disabled_account_stops_basic_at_once(master):
    from tikisync_web import accounts
    from tikisync_web.models import User

    viewer = master.a["viewer"]
    assert viewer.call("list_trackers").status_code == 200  # now remembered as verified
    with database.connection_context():
        User.update(password_hash=accounts.hash_password("another password")).where(
            User.username == "viewer").execute()
    assert viewer.call("list_trackers").status_code == 401
    editor = master.a["editor"]
    assert editor.call("list_trackers").status_code == 200
    with database.connection_context():
        User.update(active=False).where(User.username == "editor").execute()
    assert editor.call("list_trackers").status_code == 401

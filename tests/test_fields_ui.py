"""Trackers and their fields over HTTP: create, edit, delete with confirmation; fields added
with their options, permName rules, rename carrying values, reorder (plain and htmx), delete."""
import pytest

from tests.support import seed
from tests.support.pages import soup, url
from tikisync_web.db import database
from tikisync_web.models import Field, Item, Tracker


@pytest.fixture
def admin(auth):
    return auth.become("admin")


@pytest.fixture
def tracker(app):
    return seed.make_tracker()


def field_rows(client, app, tracker_id):
    page = soup(client.get(url(app, "tikisync.fields", tracker_id=tracker_id)))
    return [[td.get_text(" ", strip=True) for td in tr.find_all("td")[:4]]
            for tr in page.select("#field-list tbody tr")]


def perms(tracker_id):
    with database.connection_context():
        return [f.perm_name for f in Tracker.get_by_id(tracker_id).ordered_fields()]


def get_field(tracker_id, perm):
    with database.connection_context():
        return Field.get(Field.tracker == tracker_id, Field.perm_name == perm)


def error_of(response, name):
    box = soup(response).find(attrs={"name": name}).find_parent(class_="ts-field")
    return [p.get_text(strip=True) for p in box.select(".ts-error")]


# --- trackers ---------------------------------------------------------------------------------

def test_creating_a_tracker_leads_to_its_fields(client, app, admin):
    response = client.post(url(app, "tikisync.tracker_new"),
                           data={"name": "  Support requests ", "description": "From the desk"})
    assert response.status_code == 303
    with database.connection_context():
        tracker = Tracker.get()
    assert (tracker.name, tracker.description, tracker.source_url) == (
        "Support requests", "From the desk", None)
    assert response.location == url(app, "tikisync.fields", tracker_id=tracker.id)
    page = soup(client.get(response.location))
    assert page.find("h1").get_text(strip=True) == "Support requests"
    assert "This tracker has no fields yet." in page.select_one("#field-list").get_text()
    dashboard = soup(client.get(url(app, "tikisync.dashboard")))
    link = dashboard.find("a", string="Support requests")
    assert link["href"] == url(app, "tikisync.items", tracker_id=tracker.id)


@pytest.mark.parametrize("name, message", [("", "This field is required."),
                                           ("   ", "This field is required."),
                                           ("x" * 201,
                                            "Field cannot be longer than 200 characters.")])
def test_a_tracker_needs_a_sensible_name(client, app, admin, name, message):
    response = client.post(url(app, "tikisync.tracker_new"), data={"name": name,
                                                                   "description": "kept"})
    assert response.status_code == 422
    assert error_of(response, "name") == [message]
    assert soup(response).find("textarea", {"name": "description"}).get_text().strip() == "kept"
    with database.connection_context():
        assert Tracker.select().count() == 0


def test_renaming_a_tracker(client, app, admin, tracker):
    edit = url(app, "tikisync.tracker_edit", tracker_id=tracker.id)
    form = soup(client.get(edit))
    assert form.find("input", {"name": "name"})["value"] == "Bugs"
    response = client.post(edit, data={"name": "Defects", "description": "renamed"})
    assert response.status_code == 303
    page = soup(client.get(url(app, "tikisync.items", tracker_id=tracker.id)))
    assert page.find("h1").get_text(strip=True) == "Defects"
    assert client.post(edit, data={"name": ""}).status_code == 422
    with database.connection_context():
        assert Tracker.get_by_id(tracker.id).name == "Defects"


def test_deleting_a_tracker_asks_first_and_says_what_goes(client, app, admin, tracker):
    seed.bulk_items(tracker, 3)
    other = seed.make_tracker("Kept")
    seed.bulk_items(other, 2)
    delete = url(app, "tikisync.tracker_delete", tracker_id=tracker.id)
    settings_page = soup(client.get(url(app, "tikisync.tracker_edit", tracker_id=tracker.id)))
    assert delete in [a["href"] for a in settings_page.select("a")]
    confirm = soup(client.get(delete))
    assert "its 3 items" in confirm.select_one("main").get_text()
    assert confirm.select_one("main form")["action"] == delete
    assert seed.item_count(tracker.id) == 3
    response = client.post(delete)
    assert response.status_code == 303
    assert response.location == url(app, "tikisync.dashboard")
    with database.connection_context():
        assert [t.name for t in Tracker.select()] == ["Kept"]
        assert Field.select().where(Field.tracker == tracker.id).count() == 0
    assert seed.item_count(tracker.id) == 0 and seed.item_count(other.id) == 2
    dashboard = soup(client.get(response.location))
    assert "deleted" in dashboard.select_one("#tikisync-messages").get_text()
    assert dashboard.find("a", string="Bugs") is None


def test_dashboard_counts_items(client, app, auth, tracker):
    seed.bulk_items(tracker, 7)
    seed.make_tracker("Empty")
    auth.become("viewer")
    page = soup(client.get(url(app, "tikisync.dashboard")))
    counts = {tr.find("a").get_text(strip=True): tr.find_all("td")[1].get_text(strip=True)
              for tr in page.select("tbody tr")}
    assert counts == {"Bugs": "7", "Empty": "0"}
    assert page.find("a", string="New tracker") is None  # viewers cannot create trackers


# --- fields -----------------------------------------------------------------------------------

def add_field(client, app, tracker_id, **data):
    form = {"name": "", "perm_name": "", "type": "t", "description": "", "choices": "",
            "date_mode": "dt", "options_json": ""}
    form.update(data)
    form = {k: v for k, v in form.items() if v is not False}
    return client.post(url(app, "tikisync.field_new", tracker_id=tracker_id), data=form)


@pytest.mark.parametrize("data, expected_type, expected_options, widget", [
    ({"type": "t"}, "t", {}, ("input", "text")),
    ({"type": "n"}, "n", {}, ("input", "text")),
    ({"type": "m"}, "m", {}, ("input", "email")),
    ({"type": "L"}, "L", {}, ("input", "url")),
    ({"type": "a"}, "a", {}, ("textarea", None)),
    ({"type": "c"}, "c", {}, ("input", "checkbox")),
    ({"type": "d", "choices": "lo=Low\nhi=High\n\n"}, "d", {"options": ["lo=Low", "hi=High"]},
     ("select", None)),
    ({"type": "M", "choices": "red\ngreen"}, "M", {"options": ["red", "green"]},
     ("select", "multiple")),
    ({"type": "j", "date_mode": "d"}, "j", {"datetime": "d"}, ("input", "date")),
    ({"type": "f", "date_mode": "dt"}, "f", {"datetime": "dt"}, ("input", "datetime-local")),
    ({"type": "u", "multiple": "y"}, "u", {"multiple": 1}, ("select", "multiple")),
    ({"type": "n", "options_json": '{"decimals": 2}'}, "n", {"decimals": 2}, ("input", "text")),
])
def test_adding_a_field_of_each_kind(client, app, admin, data, expected_type, expected_options,
                                     widget):
    tracker = seed.make_tracker("Empty", [])
    response = add_field(client, app, tracker.id, name="Due date", mandatory="y", **data)
    assert response.status_code == 303, error_of(response, "name")
    assert response.location == url(app, "tikisync.fields", tracker_id=tracker.id)
    field = get_field(tracker.id, "dueDate")  # derived from the label
    assert (field.type, field.options, field.mandatory) == (expected_type, expected_options, True)
    assert field_rows(client, app, tracker.id)[0][:2] == ["Due date", "dueDate"]
    # The item form now has a matching widget.
    form = soup(client.get(url(app, "tikisync.item_new", tracker_id=tracker.id)))
    element = form.find(attrs={"name": "v_dueDate"})
    tag, kind = widget
    assert element.name == tag
    if tag == "input":
        assert element["type"] == kind
    elif kind == "multiple":
        assert element.has_attr("multiple")


def test_dropdown_choices_reach_the_item_form(client, app, admin):
    tracker = seed.make_tracker("Empty", [])
    add_field(client, app, tracker.id, name="Severity", type="d", choices="1=Minor\n2=Major")
    form = soup(client.get(url(app, "tikisync.item_new", tracker_id=tracker.id)))
    options = form.find("select", {"name": "v_severity"}).find_all("option")
    assert [(o["value"], o.get_text(strip=True)) for o in options] == [
        ("", "—"), ("1", "Minor"), ("2", "Major")]


@pytest.mark.parametrize("data, name, message", [
    ({"name": "Other", "perm_name": "title"}, "perm_name",
     "This tracker already has a field named 'title'."),
    ({"name": "Title"}, "perm_name", "This tracker already has a field named 'title'."),
    ({"name": "X", "perm_name": "2fast"}, "perm_name",
     "Use letters, digits and underscores, starting with a letter."),
    ({"name": "X", "perm_name": "with space"}, "perm_name",
     "Use letters, digits and underscores, starting with a letter."),
    ({"name": ""}, "name", "This field is required."),
    ({"name": "X", "options_json": "{nope"}, "options_json",
     "This is not valid JSON (Expecting property name enclosed in double quotes)."),
    ({"name": "X", "options_json": "[1, 2]"}, "options_json",
     'Options are a JSON object, such as {"decimals": 2}.'),
    ({"name": "X", "type": "q"}, "type", "Not a valid choice."),
])
def test_invalid_fields_are_refused(client, app, admin, tracker, data, name, message):
    before = perms(tracker.id)
    response = add_field(client, app, tracker.id, **data)
    assert response.status_code == 422
    assert error_of(response, name) == [message]
    assert perms(tracker.id) == before


def test_editing_a_field_shows_and_saves_its_options(client, app, admin, tracker):
    field = get_field(tracker.id, "priority")
    edit = url(app, "tikisync.field_edit", field_id=field.id)
    page = soup(client.get(edit))
    assert page.find("input", {"name": "name"})["value"] == "Priority"
    assert page.find("select", {"name": "type"}).find("option", selected=True)["value"] == "d"
    choices = page.find("textarea", {"name": "choices"}).get_text().strip()
    assert choices == "1=Low\n2=High\n3=Urgent"
    response = client.post(edit, data={"name": "Importance", "perm_name": "priority", "type": "d",
                                       "choices": "1=Low\n2=High", "mandatory": "y",
                                       "date_mode": "dt"})
    assert response.status_code == 303
    field = get_field(tracker.id, "priority")
    assert (field.name, field.options, field.mandatory) == (
        "Importance", {"options": ["1=Low", "2=High"]}, True)


def test_renaming_a_perm_name_carries_the_values(client, app, admin, tracker):
    items = [seed.add_item(tracker, title=f"t{n}", amount=str(n)) for n in range(3)]
    field = get_field(tracker.id, "amount")
    response = client.post(url(app, "tikisync.field_edit", field_id=field.id),
                           data={"name": "Cost", "perm_name": "cost", "type": "n",
                                 "date_mode": "dt"})
    assert response.status_code == 303
    for n, item in enumerate(items):
        values = seed.values_of(item.id)[0]
        assert values.get("cost") == str(n) and "amount" not in values
    page = soup(client.get(url(app, "tikisync.item", item_id=items[2].id)))
    shown = {dt.get_text(strip=True): dd.get_text(strip=True)
             for dt, dd in zip(page.select("dl.ts-item dt"), page.select("dl.ts-item dd"),
                               strict=True)}
    assert shown["Cost"] == "2"


def test_renaming_onto_another_field_changes_nothing(client, app, admin, tracker):
    item = seed.add_item(tracker, title="t", amount="5")
    field = get_field(tracker.id, "amount")
    response = client.post(url(app, "tikisync.field_edit", field_id=field.id),
                           data={"name": "Amount", "perm_name": "title", "type": "n",
                                 "date_mode": "dt"})
    assert response.status_code == 422
    assert error_of(response, "perm_name") == ["This tracker already has a field named 'title'."]
    values = seed.values_of(item.id)[0]
    assert (values["title"], values["amount"]) == ("t", "5")
    assert get_field(tracker.id, "amount").name == "Amount"


def test_the_same_perm_name_in_another_tracker_is_fine(client, app, admin, tracker):
    other = seed.make_tracker("Other", [])
    assert add_field(client, app, other.id, name="Title").status_code == 303
    assert perms(other.id) == ["title"]


def test_reordering_fields_without_javascript(client, app, admin, tracker):
    title = get_field(tracker.id, "title")
    assert perms(tracker.id)[:3] == ["title", "contact", "amount"]
    response = client.post(url(app, "tikisync.field_move", field_id=title.id),
                           data={"direction": "down"})
    assert response.status_code == 303
    assert response.location == url(app, "tikisync.fields", tracker_id=tracker.id)
    assert perms(tracker.id)[:3] == ["contact", "title", "amount"]
    # The item form follows the new order.
    form = soup(client.get(url(app, "tikisync.item_new", tracker_id=tracker.id)))
    names = [e["name"] for e in form.select("form.ts-form [name^=v_]")]
    assert names[:3] == ["v_contact", "v_title", "v_amount"]
    # The first field cannot go up: its button is disabled, and a forced request changes nothing.
    rows = soup(client.get(url(app, "tikisync.fields", tracker_id=tracker.id)))
    assert rows.select("#field-list tbody tr")[0].find("button", value="up").has_attr("disabled")
    contact = get_field(tracker.id, "contact")
    client.post(url(app, "tikisync.field_move", field_id=contact.id), data={"direction": "up"})
    assert perms(tracker.id)[:3] == ["contact", "title", "amount"]


def test_reordering_with_htmx_swaps_only_the_list(client, app, admin, tracker):
    last = get_field(tracker.id, "homepage")
    response = client.post(url(app, "tikisync.field_move", field_id=last.id),
                           data={"direction": "up"},
                           headers={"HX-Request": "true", "HX-Target": "field-list"})
    assert response.status_code == 200
    page = soup(response)
    assert page.find("html") is None
    root = page.find(True)
    assert root["id"] == "field-list"
    assert [tr.find_all("td")[1].get_text(strip=True) for tr in root.select("tbody tr")][-2:] == [
        "homepage", "colours"]
    assert perms(tracker.id)[-2:] == ["homepage", "colours"]


def test_deleting_a_field_asks_first(client, app, admin, tracker):
    item = seed.add_item(tracker, title="t", amount="5")
    field = get_field(tracker.id, "amount")
    delete = url(app, "tikisync.field_delete", field_id=field.id)
    confirm = soup(client.get(delete))
    assert confirm.select_one("main form")["action"] == delete
    assert "amount" in perms(tracker.id)
    response = client.post(delete)
    assert response.status_code == 303
    assert "amount" not in perms(tracker.id)
    form = soup(client.get(url(app, "tikisync.item_new", tracker_id=tracker.id)))
    assert form.find(attrs={"name": "v_amount"}) is None
    page = soup(client.get(url(app, "tikisync.item", item_id=item.id)))
    assert "Amount" not in [dt.get_text(strip=True) for dt in page.select("dl.ts-item dt")]


def test_header_and_static_fields_have_no_widget(client, app, admin):
    tracker = seed.make_tracker("Sections", [("title", "Title", "t", {}, True),
                                             ("sec", "Details", "h", {}, False),
                                             ("note", "Read me", "S", {}, False)])
    form = soup(client.get(url(app, "tikisync.item_new", tracker_id=tracker.id)))
    assert form.find(attrs={"name": "v_sec"}) is None
    assert form.find(attrs={"name": "v_note"}) is None
    assert form.find("h3", string="Details") is not None
    response = client.post(url(app, "tikisync.item_new", tracker_id=tracker.id),
                           data={"v_title": "x", "status": "o"})
    assert response.status_code == 303
    with database.connection_context():
        assert Item.get().values == {"title": "x", "sec": "", "note": ""}


def test_a_field_can_be_hidden_from_the_item_list(client, app, admin, tracker):
    assert add_field(client, app, tracker.id, name="Internal note",
                     unlisted="y").status_code == 303
    seed.add_item(tracker, title="Visible", internalNote="kept out of the list")
    columns = [th.get_text(strip=True) for th in soup(client.get(url(
        app, "tikisync.items", tracker_id=tracker.id))).find(id="item-table").thead("th")]
    assert "Title" in columns and "Internal note" not in columns
    note = get_field(tracker.id, "internalNote")
    form = soup(client.get(url(app, "tikisync.field_edit", field_id=note.id)))
    assert form.find("input", {"name": "unlisted"}).has_attr("checked")
    shown = client.post(url(app, "tikisync.field_edit", field_id=note.id),
                        data={"name": "Internal note", "perm_name": "internalNote", "type": "t",
                              "date_mode": "dt"})
    assert shown.status_code == 303
    columns = [th.get_text(strip=True) for th in soup(client.get(url(
        app, "tikisync.items", tracker_id=tracker.id))).find(id="item-table").thead("th")]
    assert "Internal note" in columns


def test_a_clone_takes_the_masters_list_flag(client, app, admin, db, make_master):
    from tests.support.sync import connect, make_clone

    master = make_master()
    amount = next(f for f in master.fields[1] if f["permName"] == "amount")
    amount["isTblVisible"] = "n"  # Tiki's "list" flag, off for this field on the master
    connect(app, master)
    clone = make_clone(app, master)
    seed.add_item(clone, title="Made here")
    columns = [th.get_text(strip=True) for th in soup(client.get(url(
        app, "tikisync.items", tracker_id=clone.id))).find("thead")("th")]
    assert "Title" in columns and "Amount" not in columns

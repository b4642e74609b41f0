"""Items over HTTP: a widget and validation per field type, values stored raw (Tiki encoding)
and shown as people read them, invalid input re-rendered with nothing saved, edit, delete,
and the item list's pages, sorting, status filter and search without JavaScript."""
from datetime import UTC, datetime

import pytest

from tests.support import seed
from tests.support.pages import soup, url
from tikisync_web.db import database
from tikisync_web.models import Field, Item


@pytest.fixture
def tracker(app):
    return seed.make_tracker()


@pytest.fixture
def editor(auth):
    return auth.become("editor")


def unix(day, time="00:00"):
    moment = datetime.strptime(f"{day} {time}", "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    return str(int(moment.timestamp()))


def form_values(page):
    """name -> value(s) of the item form as the browser would submit it unchanged."""
    form = page.select_one("form.ts-form")
    result = {}
    for element in form.select("input, select, textarea"):
        name = element.get("name")
        if not name or name == "csrf_token":
            continue
        if element.name == "select":
            chosen = [o.get("value") for o in element.find_all("option") if o.has_attr("selected")]
            result[name] = chosen if element.has_attr("multiple") else (chosen[0] if chosen else "")
        elif element.get("type") == "checkbox":
            if element.has_attr("checked"):
                result[name] = element.get("value")
        elif element.name == "textarea":
            text = element.get_text()  # browsers drop one newline right after <textarea>
            result[name] = text[2:] if text.startswith("\r\n") else text.removeprefix("\n")
        else:
            result[name] = element.get("value", "")
    return result


def errors(page):
    """field name -> its error messages, as shown next to the widgets."""
    found = {}
    for p in page.select(".ts-field .ts-error"):
        found.setdefault(p["id"].removesuffix("-error"), []).append(p.get_text(strip=True))
    return found


VALID = {"v_title": "Printer on fire", "v_contact": "ann@example.org", "v_amount": "12.5",
         "v_priority": "2", "v_due": "2024-03-05", "v_done": "y", "v_colours": ["red", "blue"],
         "v_homepage": "https://printers.example/", "status": "p"}


def test_each_field_type_gets_its_widget(client, app, editor, tracker):
    page = soup(client.get(url(app, "tikisync.item_new", tracker_id=tracker.id)))
    form = page.select_one("form.ts-form")
    assert form.find("input", {"name": "v_title"})["aria-required"] == "true"
    assert form.find("input", {"name": "v_contact"})["type"] == "email"
    assert form.find("input", {"name": "v_amount"})["inputmode"] == "decimal"
    assert form.find("input", {"name": "v_due"})["type"] == "date"
    assert form.find("input", {"name": "v_done"})["type"] == "checkbox"
    assert form.find("input", {"name": "v_homepage"})["type"] == "url"
    priority = form.find("select", {"name": "v_priority"})
    assert [(o["value"], o.get_text(strip=True)) for o in priority.find_all("option")] == [
        ("", "—"), ("1", "Low"), ("2", "High"), ("3", "Urgent")]
    colours = form.find("select", {"name": "v_colours"})
    assert colours.has_attr("multiple")
    assert [o["value"] for o in colours.find_all("option")] == ["red", "green", "blue"]
    # Every widget has a visible label, and the mandatory one is marked.
    for name in ("v_title", "v_contact", "v_amount", "v_priority", "v_due", "v_done"):
        assert form.find("label", {"for": name}) is not None
    title_box = form.find("input", {"name": "v_title"}).find_parent(class_="ts-field")
    assert title_box.find("abbr", title="required") is not None


def test_adding_an_item_stores_raw_values_and_shows_them_readably(client, app, editor, tracker):
    response = client.post(url(app, "tikisync.item_new", tracker_id=tracker.id), data=VALID)
    assert response.status_code == 303
    assert response.location == url(app, "tikisync.items", tracker_id=tracker.id)
    with database.connection_context():
        item = Item.get(Item.tracker == tracker.id)
    assert item.values == {
        "title": "Printer on fire", "contact": "ann@example.org", "amount": "12.5",
        "priority": "2", "due": unix("2024-03-05"), "done": "y", "colours": "red,blue",
        "homepage": "https://printers.example/",
    }
    assert (item.status, item.created_by) == ("p", "editor")
    # The confirmation is shown on the page the user lands on.
    listing = soup(client.get(response.location))
    assert f"Item #{item.id} added." in listing.select_one("#tikisync-messages").get_text()

    page = soup(client.get(url(app, "tikisync.item", item_id=item.id)))
    shown = {dt.get_text(strip=True): dd.get_text(strip=True)
             for dt, dd in zip(page.select("dl.ts-item dt"), page.select("dl.ts-item dd"),
                               strict=True)}
    assert shown["Due"] == "2024-03-05"
    assert shown["Done"] == "yes"
    assert shown["Priority"] == "High"
    assert shown["Colours"] == "red, blue"
    assert shown["Status"] == "pending"


def test_unchecked_checkbox_is_stored_as_n_and_empty_fields_as_empty(client, app, editor, tracker):
    response = client.post(url(app, "tikisync.item_new", tracker_id=tracker.id),
                           data={"v_title": "Minimal", "status": "o"})
    assert response.status_code == 303
    with database.connection_context():
        item = Item.get(Item.tracker == tracker.id)
    assert item.values["done"] == "n"
    assert item.values["amount"] == item.values["due"] == item.values["colours"] == ""


def test_add_and_add_another_returns_to_an_empty_form(client, app, editor, tracker):
    response = client.post(url(app, "tikisync.item_new", tracker_id=tracker.id),
                           data={"v_title": "One", "status": "o", "then": "another"})
    assert response.status_code == 303
    assert response.location == url(app, "tikisync.item_new", tracker_id=tracker.id)
    assert seed.item_count(tracker.id) == 1


@pytest.mark.parametrize("name, bad, message", [
    ("v_title", "", "Is required."),
    ("v_title", "   ", "Is required."),
    ("v_contact", "ann@", "Is not a valid email address."),
    ("v_contact", "ann example.org", "Is not a valid email address."),
    ("v_amount", "12,5", "Must be a number."),
    ("v_amount", "twelve", "Must be a number."),
    ("v_homepage", "printers.example", "Is not a valid URL (it must start with http:// or https://)."),
    ("v_due", "2024-02-30", "Is not a date: use YYYY-MM-DD, YYYY-MM-DDTHH:MM or Unix seconds."),
    ("v_priority", "9", "Has no choice '9'."),
    ("v_colours", ["red", "purple"], "Has no choice 'purple'."),
    ("status", "x", "Not a valid choice."),
])
def test_invalid_input_is_refused_with_the_form_kept(client, app, editor, tracker, name, bad,
                                                      message):
    before = seed.item_count()
    data = {**VALID, name: bad}
    response = client.post(url(app, "tikisync.item_new", tracker_id=tracker.id), data=data)
    assert response.status_code == 422
    page = soup(response)
    assert errors(page).get(name) == [message]
    assert "Nothing was saved" in page.select_one("form.ts-form").get_text()
    # Every value the user typed is still there to correct, not only the valid ones.
    kept = form_values(page)
    for key, value in data.items():
        if key != "status" and key != name:
            assert kept[key] == value, key
    if name != "status":
        assert kept[name] == bad
    assert seed.item_count() == before


def test_several_errors_are_shown_at_once(client, app, editor, tracker):
    response = client.post(url(app, "tikisync.item_new", tracker_id=tracker.id),
                           data={**VALID, "v_title": "", "v_amount": "x", "v_contact": "y"})
    assert response.status_code == 422
    assert set(errors(soup(response))) == {"v_title", "v_amount", "v_contact"}
    assert seed.item_count() == 0


@pytest.mark.parametrize("typed, stored", [
    ("-3", "-3"), ("+4.25", "+4.25"), ("1e3", "1e3"), (".5", ".5"), (" 7 ", "7"),
])
def test_numbers_accept_what_tiki_accepts(client, app, editor, tracker, typed, stored):
    response = client.post(url(app, "tikisync.item_new", tracker_id=tracker.id),
                           data={"v_title": "n", "v_amount": typed, "status": "o"})
    assert response.status_code == 303
    with database.connection_context():
        assert Item.get(Item.tracker == tracker.id).values["amount"] == stored


def test_date_and_time_fields_round_trip_through_the_form(client, app, editor):
    tracker = seed.make_tracker("Meetings", [("title", "Title", "t", {}, True),
                                             ("starts", "Starts", "f", {"datetime": "dt"}, False)])
    new = url(app, "tikisync.item_new", tracker_id=tracker.id)
    widget = soup(client.get(new)).find("input", {"name": "v_starts"})
    assert widget["type"] == "datetime-local"
    response = client.post(new, data={"v_title": "Kick-off", "v_starts": "2024-03-05T14:30",
                                      "status": "o"})
    assert response.status_code == 303
    with database.connection_context():
        item = Item.get(Item.tracker == tracker.id)
    assert item.values["starts"] == unix("2024-03-05", "14:30")
    edit = soup(client.get(url(app, "tikisync.item_edit", item_id=item.id)))
    assert edit.find("input", {"name": "v_starts"})["value"] == "2024-03-05T14:30"
    shown = soup(client.get(url(app, "tikisync.items", tracker_id=tracker.id)))
    assert "2024-03-05 14:30" in [td.get_text(strip=True) for td in shown.select("tbody td")]


def test_mandatory_checkbox_must_be_checked(client, app, editor):
    tracker = seed.make_tracker("Consent", [("agree", "I agree", "c", {}, True)])
    response = client.post(url(app, "tikisync.item_new", tracker_id=tracker.id),
                           data={"status": "o"})
    assert response.status_code == 422
    assert errors(soup(response)) == {"v_agree": ["Is required."]}
    assert seed.item_count() == 0
    response = client.post(url(app, "tikisync.item_new", tracker_id=tracker.id),
                           data={"v_agree": "y", "status": "o"})
    assert response.status_code == 303


def test_edit_form_shows_stored_values_as_people_type_them(client, app, editor, tracker):
    item = seed.add_item(tracker, title="Stored", contact="bo@example.org", amount="3",
                         priority="3", due="2024-12-31", done="y", colours="green,blue")
    page = soup(client.get(url(app, "tikisync.item_edit", item_id=item.id)))
    assert form_values(page) == {
        "v_title": "Stored", "v_contact": "bo@example.org", "v_amount": "3", "v_priority": "3",
        "v_due": "2024-12-31", "v_done": "y", "v_colours": ["green", "blue"], "v_homepage": "",
        "status": "o",
    }


def test_editing_an_item_saves_every_change(client, app, editor, tracker):
    item = seed.add_item(tracker, title="Before", done="y", colours="red", amount="1")
    edit = url(app, "tikisync.item_edit", item_id=item.id)
    data = form_values(soup(client.get(edit)))
    data.update({"v_title": "After", "v_colours": ["green"], "v_amount": "2", "status": "c"})
    del data["v_done"]  # the user unticks the box: browsers then send nothing
    response = client.post(edit, data=data)
    assert response.status_code == 303
    assert response.location == url(app, "tikisync.item", item_id=item.id)
    values, status = seed.values_of(item.id)
    assert (values["title"], values["done"], values["colours"], values["amount"], status) == (
        "After", "n", "green", "2", "c")
    with database.connection_context():
        assert Item.get_by_id(item.id).modified_by == "editor"


def test_invalid_edit_changes_nothing(client, app, editor, tracker):
    item = seed.add_item(tracker, title="Keep me", contact="ok@example.org")
    edit = url(app, "tikisync.item_edit", item_id=item.id)
    data = {**form_values(soup(client.get(edit))), "v_title": "Changed", "v_contact": "broken"}
    response = client.post(edit, data=data)
    assert response.status_code == 422
    page = soup(response)
    assert errors(page) == {"v_contact": ["Is not a valid email address."]}
    assert form_values(page)["v_title"] == "Changed"
    assert seed.values_of(item.id)[0]["title"] == "Keep me"


def test_saving_without_changes_says_so(client, app, editor, tracker):
    item = seed.add_item(tracker, title="Same", colours="blue,red")  # done is "" (never set)
    edit = url(app, "tikisync.item_edit", item_id=item.id)
    with database.connection_context():
        modified = Item.get_by_id(item.id).modified
    client.post(edit, data=form_values(soup(client.get(edit))))
    page = soup(client.get(url(app, "tikisync.item", item_id=item.id)))
    assert "nothing changed" in page.select_one("#tikisync-messages").get_text()
    with database.connection_context():
        assert Item.get_by_id(item.id).modified == modified
        assert Item.get_by_id(item.id).values["done"] == ""


def test_an_edit_keeps_the_raw_values_the_user_did_not_touch(client, app, editor):
    # Values from a master: a date at another zone's midnight, a time with seconds.
    tracker = seed.make_tracker("Imported", [
        ("title", "Title", "t", {}, True), ("due", "Due", "j", {"datetime": "d"}, False),
        ("at", "At", "f", {"datetime": "dt"}, False), ("notes", "Notes", "a", {}, False)])
    cet_midnight, with_seconds = "1709593200", "1709649015"  # 2024-03-04 23:00, 14:30:15 UTC
    item = seed.add_item(tracker, title="Before", due=cet_midnight, at=with_seconds,
                         notes="line one\nline two")
    edit = url(app, "tikisync.item_edit", item_id=item.id)
    data = form_values(soup(client.get(edit)))
    data["v_notes"] = data["v_notes"].replace("\n", "\r\n")  # what browsers send back
    response = client.post(edit, data={**data, "v_title": "After"})
    assert response.status_code == 303
    values = seed.values_of(item.id)[0]
    assert values == {"title": "After", "due": cet_midnight, "at": with_seconds,
                      "notes": "line one\nline two"}
    # A date the user does change is stored as that day.
    response = client.post(edit, data={**data, "v_due": "2024-05-01"})
    assert seed.values_of(item.id)[0]["due"] == unix("2024-05-01")


def test_a_stored_value_that_is_no_longer_a_choice_is_not_dropped(client, app, editor, tracker):
    item = seed.add_item(tracker, title="Old choice")
    with database.connection_context():
        Item.update(values={**item.values, "priority": "7"}).where(Item.id == item.id).execute()
    edit = url(app, "tikisync.item_edit", item_id=item.id)
    page = soup(client.get(edit))
    selected = page.find("select", {"name": "v_priority"}).find("option", selected=True)
    assert (selected["value"], selected.get_text(strip=True)) == ("7", "7 (not a choice)")
    response = client.post(edit, data=form_values(page))
    assert response.status_code == 422
    assert errors(soup(response)) == {"v_priority": ["Has no choice '7'."]}
    assert seed.values_of(item.id)[0]["priority"] == "7"


def test_deleting_an_item_asks_first(client, app, editor, tracker):
    item = seed.add_item(tracker, title="Doomed")
    delete = url(app, "tikisync.item_delete", item_id=item.id)
    confirm = soup(client.get(delete))
    form = confirm.select_one("main form")
    assert form["action"] == delete and form["method"] == "post"
    assert confirm.find("a", string="Cancel")["href"] == url(app, "tikisync.item", item_id=item.id)
    assert seed.item_count() == 1  # looking at the question deletes nothing
    response = client.post(delete)
    assert response.status_code == 303
    assert seed.item_count() == 0
    assert client.get(url(app, "tikisync.item", item_id=item.id)).status_code == 404


def test_unknown_item_and_tracker_are_404_pages(client, app, editor):
    for endpoint, values in (("tikisync.item", {"item_id": 999}),
                             ("tikisync.item_edit", {"item_id": 999}),
                             ("tikisync.items", {"tracker_id": 999}),
                             ("tikisync.item_new", {"tracker_id": 999})):
        response = client.get(url(app, endpoint, **values))
        assert response.status_code == 404
        assert "There is no" in soup(response).select_one("main").get_text()


# --- the list ---------------------------------------------------------------------------------

def rows(response):
    page = soup(response)
    return [[td.get_text(strip=True) for td in tr.find_all("td")]
            for tr in page.select("#item-table tbody tr")]


def column(response, index):
    return [r[index] for r in rows(response)]


def test_pages_of_the_list(client, app, editor, tracker):
    seed.bulk_items(tracker, 45)  # page size is 20 in tests
    first = client.get(url(app, "tikisync.items", tracker_id=tracker.id))
    page = soup(first)
    assert page.select_one(".ts-count").get_text(strip=True) == "Items 1–20 of 45"
    assert len(rows(first)) == 20
    nav = page.select_one("nav.ts-pages")
    assert nav.select_one("[aria-current=page]").get_text() == "1"
    next_link = nav.find("a", rel="next")["href"]
    assert next_link == url(app, "tikisync.items", tracker_id=tracker.id, page=2)
    last = client.get(url(app, "tikisync.items", tracker_id=tracker.id, page=3))
    assert soup(last).select_one(".ts-count").get_text(strip=True) == "Items 41–45 of 45"
    assert column(last, 1) == [f"item {n:06d}" for n in range(40, 45)]
    assert soup(last).select_one("nav.ts-pages").find("a", rel="next") is None


def test_a_long_list_has_first_and_last_pages(client, app, editor, tracker):
    seed.bulk_items(tracker, 200)  # ten pages of 20
    middle = soup(client.get(url(app, "tikisync.items", tracker_id=tracker.id, page=5)))
    nav = middle.select_one("nav.ts-pages")
    assert nav.find("a", rel="first")["href"] == url(app, "tikisync.items", tracker_id=tracker.id)
    assert nav.find("a", rel="last")["href"] == url(app, "tikisync.items", tracker_id=tracker.id,
                                                    page=10)
    assert [a.get_text() for a in nav("a") if a.get_text().isdigit()] == \
        ["2", "3", "4", "6", "7", "8"]  # three pages either side
    near_start = soup(client.get(url(app, "tikisync.items", tracker_id=tracker.id, page=2)))
    assert near_start.select_one("nav.ts-pages").find("a", rel="first") is None  # 1 is shown


@pytest.mark.parametrize("asked, shown", [("99", "Items 41–45 of 45"), ("0", "Items 1–20 of 45"),
                                          ("-2", "Items 1–20 of 45"), ("two", "Items 1–20 of 45")])
def test_a_page_number_out_of_range_shows_a_real_page(client, app, editor, tracker, asked, shown):
    seed.bulk_items(tracker, 45)
    response = client.get(url(app, "tikisync.items", tracker_id=tracker.id) + "?page=" + asked)
    assert response.status_code == 200
    assert soup(response).select_one(".ts-count").get_text(strip=True) == shown
    assert rows(response)


def test_numeric_columns_sort_as_numbers(client, app, editor, tracker):
    for amount in ("10", "9", "100", "-1", "2.5", ""):
        seed.add_item(tracker, title=f"a{amount}", amount=amount)
    up = client.get(url(app, "tikisync.items", tracker_id=tracker.id, sort="amount"))
    amounts = column(up, 3)
    assert [a for a in amounts if a] == ["-1", "2.5", "9", "10", "100"]
    down = client.get(url(app, "tikisync.items", tracker_id=tracker.id, sort="amount", dir="desc"))
    assert [a for a in column(down, 3) if a] == ["100", "10", "9", "2.5", "-1"]
    # The header shows which way it is sorted and links to the other direction.
    header = soup(down).find("th", attrs={"aria-sort": True})
    assert header["aria-sort"] == "descending"
    assert header.a["href"] == url(app, "tikisync.items", tracker_id=tracker.id, sort="amount")


def test_date_and_text_columns_sort(client, app, editor, tracker):
    for title, due in (("b", "2024-01-10"), ("c", "2023-12-31"), ("a", "2024-02-01")):
        seed.add_item(tracker, title=title, due=due)
    by_due = client.get(url(app, "tikisync.items", tracker_id=tracker.id, sort="due"))
    assert column(by_due, 5) == ["2023-12-31", "2024-01-10", "2024-02-01"]
    by_title = client.get(url(app, "tikisync.items", tracker_id=tracker.id, sort="title",
                              dir="desc"))
    assert column(by_title, 1) == ["c", "b", "a"]


def test_sorting_by_an_unknown_column_falls_back_to_id(client, app, editor, tracker):
    first = seed.add_item(tracker, title="x")
    second = seed.add_item(tracker, title="y")
    response = client.get(url(app, "tikisync.items", tracker_id=tracker.id,
                              sort="nope; DROP TABLE x"))
    assert response.status_code == 200
    assert column(response, 0) == [str(first.id), str(second.id)]


def test_status_filter(client, app, editor, tracker):
    seed.add_item(tracker, title="open one")
    seed.add_item(tracker, "p", title="pending one")
    seed.add_item(tracker, "c", title="closed one")
    pending = client.get(url(app, "tikisync.items", tracker_id=tracker.id, status="p"))
    assert column(pending, 1) == ["pending one"]
    page = soup(pending)
    assert page.select_one("#item-status option[selected]")["value"] == "p"
    everything = client.get(url(app, "tikisync.items", tracker_id=tracker.id, status="zzz"))
    assert len(rows(everything)) == 3


def test_search_without_javascript_is_a_plain_get(client, app, editor, tracker):
    seed.add_item(tracker, title="Paper jam in tray 2", contact="kim@example.org")
    seed.add_item(tracker, title="Toner low", contact="lee@example.org")
    seed.add_item(tracker, title="Paper low", contact="kim@example.org")
    page = soup(client.get(url(app, "tikisync.items", tracker_id=tracker.id)))
    search = page.select_one("form[role=search]")
    assert search["method"] == "get"
    assert search["action"] == url(app, "tikisync.items", tracker_id=tracker.id)
    assert search.find("button", type="submit") is not None

    found = client.get(url(app, "tikisync.items", tracker_id=tracker.id, q="PAPER"))
    assert sorted(column(found, 1)) == ["Paper jam in tray 2", "Paper low"]
    assert soup(found).find("html") is not None  # a whole page, not a fragment
    assert soup(found).select_one("#item-search")["value"] == "PAPER"
    both = client.get(url(app, "tikisync.items", tracker_id=tracker.id, q="paper kim low"))
    assert column(both, 1) == ["Paper low"]
    nothing = soup(client.get(url(app, "tikisync.items", tracker_id=tracker.id, q="printer")))
    assert nothing.select_one(".ts-count").get_text(strip=True) == "No items match this search."


def test_search_finds_edited_values_and_keeps_sort_and_filter_in_page_links(client, app, editor,
                                                                            tracker):
    item = seed.add_item(tracker, title="old words")
    client.post(url(app, "tikisync.item_edit", item_id=item.id),
                data={"v_title": "fresh words", "status": "o"})
    assert column(client.get(url(app, "tikisync.items", tracker_id=tracker.id, q="fresh")), 1) == [
        "fresh words"]
    assert rows(client.get(url(app, "tikisync.items", tracker_id=tracker.id, q="old"))) == []
    seed.bulk_items(tracker, 30, lambda n: {"title": f"fresh {n}", "amount": str(n)})
    page = soup(client.get(url(app, "tikisync.items", tracker_id=tracker.id, q="fresh",
                               sort="amount", dir="desc", status="o")))
    next_link = page.select_one("nav.ts-pages").find("a", rel="next")["href"]
    assert next_link == url(app, "tikisync.items", tracker_id=tracker.id, q="fresh", status="o",
                            sort="amount", dir="desc", page=2)


def test_the_search_form_sends_the_sort_shown_in_the_table(client, app, editor, tracker):
    seed.add_item(tracker, title="x")
    headers = {"HX-Request": "true", "HX-Target": "item-table"}
    fragment = soup(client.get(url(app, "tikisync.items", tracker_id=tracker.id, sort="amount",
                                   dir="desc"), headers=headers))
    # The sort lives in the swapped table, tied to the search form by its form attribute.
    sent = {i["name"]: i["value"] for i in fragment.select("input[form=item-search-form]")}
    assert sent == {"sort": "amount", "dir": "desc"}
    page = soup(client.get(url(app, "tikisync.items", tracker_id=tracker.id)))
    form = page.select_one("form[role=search]")
    assert form["id"] == "item-search-form"
    assert form.select("input[name=sort]") == []  # only the table's copy, no stale one


def test_list_shows_edit_links_to_editors_only(client, app, auth, tracker):
    item = seed.add_item(tracker, title="x")
    edit = url(app, "tikisync.item_edit", item_id=item.id)
    auth.become("editor")
    page = soup(client.get(url(app, "tikisync.items", tracker_id=tracker.id)))
    assert edit in [a["href"] for a in page.select("#item-table a")]
    assert page.find("a", string="Add item")["href"] == url(app, "tikisync.item_new",
                                                            tracker_id=tracker.id)
    auth.become("viewer")
    page = soup(client.get(url(app, "tikisync.items", tracker_id=tracker.id)))
    assert edit not in [a["href"] for a in page.select("a")]
    assert page.find("a", string="Add item") is None


def test_field_value_of_a_deleted_field_does_not_block_edits(client, app, editor, tracker):
    item = seed.add_item(tracker, title="t", amount="5")
    with database.connection_context():
        Field.delete().where(Field.tracker == tracker.id, Field.perm_name == "amount").execute()
    edit = url(app, "tikisync.item_edit", item_id=item.id)
    response = client.post(edit, data={**form_values(soup(client.get(edit))), "v_title": "t2"})
    assert response.status_code == 303
    assert seed.values_of(item.id)[0]["title"] == "t2"


def test_user_and_item_link_fields_offer_local_data(client, app, editor, users, tracker):
    seed.add_item(tracker, title="Kettle")
    with database.connection_context():
        title = Field.get(Field.tracker == tracker.id, Field.perm_name == "title")
    orders = seed.make_tracker("Orders", [
        ("what", "What", "r", {"trackerId": tracker.id, "fieldId": title.id}, True),
        ("owner", "Owner", "u", {}, False)])
    new = url(app, "tikisync.item_new", tracker_id=orders.id)
    form = soup(client.get(new))
    links = [(o["value"], o.get_text()) for o in form.find("select", {"name": "v_what"}).find_all(
        "option") if o["value"]]
    assert [label for _, label in links] == ["Kettle"]
    owners = [o["value"] for o in form.find("select", {"name": "v_owner"}).find_all("option")]
    assert {"admin", "editor", "viewer"} <= set(owners)
    refused = client.post(new, data={"v_what": "999999", "v_owner": "nobody", "status": "o"})
    assert refused.status_code == 422
    assert set(errors(soup(refused))) == {"v_what", "v_owner"}
    response = client.post(new, data={"v_what": links[0][0], "v_owner": "viewer", "status": "o"})
    assert response.status_code == 303
    with database.connection_context():
        item = Item.get(Item.tracker == orders.id)
    assert item.values == {"what": links[0][0], "owner": "viewer"}
    page = soup(client.get(url(app, "tikisync.items", tracker_id=orders.id)))
    assert "Kettle" in [td.get_text(strip=True) for td in page.select("tbody td")]
    shown = soup(client.get(url(app, "tikisync.item", item_id=item.id)))
    assert "Kettle" in [dd.get_text(strip=True) for dd in shown.select("dl.ts-item dd")]


@pytest.mark.parametrize("q", ["100%", "_", "it's", "a\\b", "\"", "<script>"])
def test_odd_searches_are_just_text(client, app, editor, tracker, q):
    seed.add_item(tracker, title="plain")
    seed.add_item(tracker, title=f"has {q} inside")
    response = client.get(url(app, "tikisync.items", tracker_id=tracker.id, q=q))
    assert response.status_code == 200
    assert column(response, 1) == [f"has {q} inside"]
    assert soup(response).select_one("#item-search")["value"] == q


def test_sorting_a_column_with_stray_values_never_fails(client, app, editor, tracker):
    # A field retyped to numeric may still hold old text: it sorts, it does not crash.
    for raw in ("12", "abc", "", "3.5", " 7 ", "1e2"):
        item = seed.add_item(tracker, title=f"v{raw}")
        with database.connection_context():
            Item.update(values={**item.values, "amount": raw}).where(Item.id == item.id).execute()
    for direction in ("asc", "desc"):
        response = client.get(url(app, "tikisync.items", tracker_id=tracker.id, sort="amount",
                                  dir=direction))
        assert response.status_code == 200
        numbers = [a.strip() for a in column(response, 3) if a.strip() in ("3.5", "12")]
        assert numbers == (["3.5", "12"] if direction == "asc" else ["12", "3.5"])


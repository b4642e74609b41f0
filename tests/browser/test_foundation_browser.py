"""The foundation in a real browser (Debian's Chromium), as a user would use it: build a tracker
with typed fields, add items (a wrong email first), edit one, search and page through 200 items
with htmx, use the back button, look at it all as a viewer, and do it again without JavaScript."""
import re

import pytest
from playwright.sync_api import expect

from tests.support import seed
from tests.support.apps import PASSWORD
from tests.support.browser import sign_in
from tikisync_web.db import database
from tikisync_web.models import Item, Tracker

FIELDS = [
    # label, type option text, choices, date mode, mandatory
    ("Title", "Text field (t)", "", None, True),
    ("Contact", "Email (m)", "", None, False),
    ("Amount", "Numeric (n)", "", None, False),
    ("Priority", "Dropdown (d)", "1=Low\n2=High\n3=Urgent", None, False),
    ("Due", "Date picker (j)", "", "Date only", False),
    ("Done", "Checkbox (c)", "", None, False),
    ("Colours", "Multiselect (M)", "red\ngreen\nblue", None, False),
]


def items_in_db(tracker_id):
    with database.connection_context():
        return [dict(i.values) for i in Item.select().where(Item.tracker == tracker_id)
                .order_by(Item.id)]


def create_tracker_with_fields(page, server):
    page.get_by_role("link", name="New tracker").click()
    page.get_by_label("Name").fill("Office requests")
    page.get_by_role("button", name="Create tracker").click()
    expect(page.get_by_role("heading", name="Office requests")).to_be_visible()
    for label, type_text, choices, date_mode, mandatory in FIELDS:
        page.get_by_role("link", name="Add a field").click()
        page.get_by_label("Label", exact=True).fill(label)
        page.get_by_label("Type").select_option(label=type_text)
        if choices:
            page.get_by_label("Choices").fill(choices)
        if date_mode:
            page.get_by_label("Date input").select_option(label=date_mode)
        if mandatory:
            page.get_by_label("Mandatory").check()
        page.get_by_role("button", name="Add field").click()
        expect(page.locator("#tikisync-messages")).to_contain_text(f"Field “{label}” added.")
    perms = page.locator("#field-list tbody tr td:nth-child(2)").all_inner_texts()
    assert perms == ["title", "contact", "amount", "priority", "due", "done", "colours"]
    with database.connection_context():
        return Tracker.get(Tracker.name == "Office requests").id


def fill_item(page, title, contact, amount="", priority=None, due="", done=False, colours=()):
    page.get_by_label("Title").fill(title)
    page.get_by_label("Contact").fill(contact)
    page.get_by_label("Amount").fill(amount)
    if priority:
        page.get_by_label("Priority").select_option(label=priority)
    if due:
        page.get_by_label("Due").fill(due)
    if done:
        page.get_by_label("Done").check()
    if colours:
        page.get_by_label("Colours").select_option(list(colours))


def test_a_user_builds_a_tracker_and_works_with_its_items(page, live_server, users):
    sign_in(page, live_server, "admin", PASSWORD)
    tracker_id = create_tracker_with_fields(page, live_server)

    # A wrong email: the error is shown next to the field, what was typed stays, nothing saved.
    page.get_by_role("link", name="Items").click()
    page.get_by_role("link", name="Add item").click()
    fill_item(page, "Broken chair", "facilities-at-example", amount="2", priority="High",
              due="2024-03-05", done=True, colours=["red", "blue"])
    page.get_by_role("button", name="Add item", exact=True).click()
    expect(page.locator("#v_contact-error")).to_have_text("Is not a valid email address.")
    expect(page.get_by_text("Nothing was saved")).to_be_visible()
    expect(page.get_by_label("Title")).to_have_value("Broken chair")
    expect(page.get_by_label("Due")).to_have_value("2024-03-05")
    expect(page.get_by_label("Done")).to_be_checked()
    assert items_in_db(tracker_id) == []

    # Corrected, it is saved with Tiki's raw values and listed with readable ones.
    page.get_by_label("Contact").fill("facilities@example.org")
    page.get_by_role("button", name="Add item", exact=True).click()
    expect(page.locator("#tikisync-messages")).to_contain_text("added")
    assert items_in_db(tracker_id) == [{
        "title": "Broken chair", "contact": "facilities@example.org", "amount": "2",
        "priority": "2", "due": "1709596800", "done": "y", "colours": "red,blue"}]
    row = page.locator("#item-table tbody tr").first
    expect(row).to_contain_text("Broken chair")
    expect(row).to_contain_text("High")
    expect(row).to_contain_text("2024-03-05")
    expect(row).to_contain_text("red, blue")

    page.get_by_role("link", name="Add item").click()
    fill_item(page, "Printer toner", "it@example.org", amount="10")
    page.get_by_role("button", name="Add item", exact=True).click()
    expect(page.locator("#item-table tbody tr")).to_have_count(2)

    # Edit one.
    page.locator("#item-table tbody tr", has_text="Printer toner").get_by_role(
        "link", name="Edit").click()
    expect(page.get_by_label("Title")).to_have_value("Printer toner")
    page.get_by_label("Title").fill("Printer toner, black")
    page.get_by_label("Status").select_option(label="pending")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("dl.ts-item")).to_contain_text("Printer toner, black")
    expect(page.locator("dl.ts-item")).to_contain_text("pending")
    assert items_in_db(tracker_id)[1]["title"] == "Printer toner, black"
    assert items_in_db(tracker_id)[1]["done"] == "n"


def test_search_and_pages_swap_the_table_and_keep_history(page, live_server, users):
    tracker = seed.make_tracker("Stock")
    seed.bulk_items(tracker, 200)  # titles "item 000000" ... "item 000199", amount = n
    sign_in(page, live_server, "viewer", PASSWORD)
    page.goto(live_server.link("tikisync.items", tracker_id=tracker.id))
    expect(page.locator(".ts-count")).to_have_text("Items 1–20 of 200")
    page.evaluate("window.pageLoadMarker = 'still here'")  # gone if the page reloads

    with page.expect_response(lambda r: "q=" in r.url) as searched:
        page.locator("#item-search").fill("item 0000")  # item 000000 to 000099
    assert searched.value.request.headers.get("hx-target") == "item-table"
    expect(page.locator(".ts-count")).to_have_text("Items 1–20 of 100")
    assert re.search(r"[?&]q=item(\+|%20)0000", page.url)
    assert page.evaluate("window.pageLoadMarker") == "still here"

    with page.expect_response(lambda r: "page=2" in r.url):
        page.get_by_role("link", name="Next ›").click()
    expect(page.locator(".ts-count")).to_have_text("Items 21–40 of 100")
    expect(page.locator("#item-table tbody tr").first).to_contain_text("item 000020")
    assert "page=2" in page.url and "q=item" in page.url
    assert page.evaluate("window.pageLoadMarker") == "still here"

    # Sorting by a numeric column is a table swap too, and the search stays.
    with page.expect_response(lambda r: "sort=amount" in r.url):
        page.locator("#item-table th", has_text="Amount").get_by_role("link").click()
    with page.expect_response(lambda r: "dir=desc" in r.url):
        page.locator("#item-table th", has_text="Amount").get_by_role("link").click()
    expect(page.locator("#item-table tbody tr").first).to_contain_text("item 000099")
    expect(page.locator(".ts-count")).to_have_text("Items 1–20 of 100")

    # Back: each step shows a whole page again (the search box, the table, the menu).
    page.go_back()
    page.go_back()
    expect(page.locator(".ts-count")).to_have_text("Items 21–40 of 100")
    expect(page.locator("form[role=search]")).to_have_count(1)
    expect(page.locator("#item-table")).to_have_count(1)
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    page.go_back()
    expect(page.locator(".ts-count")).to_have_text("Items 1–20 of 100")
    expect(page.locator("#item-search")).to_have_value("item 0000")
    page.go_back()
    expect(page.locator(".ts-count")).to_have_text("Items 1–20 of 200")
    expect(page.locator("form[role=search]")).to_have_count(1)

    # A search typed after sorting keeps the sort.
    with page.expect_response(lambda r: "sort=amount" in r.url):
        page.locator("#item-table th", has_text="Amount").get_by_role("link").click()
    with page.expect_response(lambda r: "dir=desc" in r.url):
        page.locator("#item-table th", has_text="Amount").get_by_role("link").click()
    with page.expect_response(lambda r: "q=" in r.url) as searched:
        page.locator("#item-search").fill("item 00001")  # 000001, and 000010 to 000019
    assert "sort=amount" in searched.value.url and "dir=desc" in searched.value.url
    expect(page.locator(".ts-count")).to_have_text("Items 1–11 of 11")
    expect(page.locator("#item-table tbody tr").first).to_contain_text("item 000019")


def test_a_viewer_finds_no_buttons_to_change_anything(page, live_server, users):
    tracker = seed.make_tracker("Read only")
    item = seed.add_item(tracker, title="Look, don't touch")
    sign_in(page, live_server, "viewer", PASSWORD)
    page.goto(live_server.link("tikisync.items", tracker_id=tracker.id))
    expect(page.locator("#item-table tbody tr")).to_have_count(1)
    editing = re.compile(r"^(Add item|Edit|Delete.*|New tracker|Add a field|Settings|Users)$")
    expect(page.get_by_role("link", name=editing)).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("Save|Add|Delete"))).to_have_count(0)
    page.get_by_role("link", name=str(item.id), exact=True).click()
    expect(page.locator("dl.ts-item")).to_contain_text("Look, don't touch")
    expect(page.get_by_role("link", name=editing)).to_have_count(0)
    page.get_by_role("link", name="Fields").click()
    expect(page.locator("#field-list tbody tr")).to_have_count(8)
    expect(page.get_by_role("link", name=editing)).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("Move"))).to_have_count(0)
    # Typing the address of an edit page does not help either.
    page.goto(live_server.link("tikisync.item_edit", item_id=item.id))
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()


@pytest.fixture
def no_js_page(browser, live_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_search_and_adding_items_work_without_javascript(no_js_page, live_server, users):
    page = no_js_page
    tracker = seed.make_tracker("Plain")
    seed.bulk_items(tracker, 30)
    sign_in(page, live_server, "editor", PASSWORD)
    page.goto(live_server.link("tikisync.items", tracker_id=tracker.id))
    assert page.locator("html").evaluate("e => 1") == 1  # (Playwright's own calls still run)
    page.locator("#item-search").fill("item 00002")
    with page.expect_navigation():
        page.locator("#item-search").press("Enter")
    assert "q=item+00002" in page.url
    expect(page.locator(".ts-count")).to_have_text("Items 1–11 of 11")  # 000002, 000020-29
    with page.expect_navigation():
        page.get_by_role("link", name="#").click()  # sort by id, a plain link
    assert "q=item+00002" in page.url

    page.get_by_role("link", name="Add item").click()
    page.get_by_label("Title").fill("Added without scripts")
    page.get_by_label("Contact email").fill("bad address")
    page.get_by_role("button", name="Add item", exact=True).click()
    expect(page.locator("#v_contact-error")).to_have_text("Is not a valid email address.")
    page.get_by_label("Contact email").fill("ok@example.org")
    page.get_by_label("Colours").select_option(["green"])
    page.get_by_role("button", name="Add item", exact=True).click()
    expect(page.locator("#tikisync-messages")).to_contain_text("added")
    page.locator("#item-search").fill("without scripts")
    with page.expect_navigation():
        page.get_by_role("button", name="Search").click()
    expect(page.locator("#item-table tbody tr")).to_have_count(1)
    with database.connection_context():
        added = Item.get(Item.tracker == tracker.id, Item.created_by == "editor")
    assert (added.values["contact"], added.values["colours"]) == ("ok@example.org", "green")

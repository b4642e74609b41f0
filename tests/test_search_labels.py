"""The item list's search finds what the table shows: a dropdown's label ("Urgent" for 3), a
multi-select's labels, a linked item's label, as well as the stored values."""
from tests.support import seed
from tests.support.pages import soup, url
from tikisync_web.models import Field

LABELLED = [
    ("title", "Title", "t", {}, True),
    ("priority", "Priority", "d", {"options": ["1=Low", "2=Medium", "3=Urgent"]}, False),
    ("teams", "Teams", "M", {"options": ["ops=Operations", "dev=Development", "qa=Quality"]},
     False),
]


def found(client, app, tracker, q):
    page = soup(client.get(url(app, "tikisync.items", tracker_id=tracker.id, q=q)))
    body = page.find(id="item-table").find("tbody")
    return sorted(tr.find_all("td")[1].get_text(strip=True) for tr in body("tr")) if body else []


def test_search_by_the_label_a_dropdown_shows(app, client, auth, db, users):
    auth.login("viewer")
    tracker = seed.make_tracker("Requests", LABELLED)
    seed.add_item(tracker, title="Printer jam", priority="2")
    seed.add_item(tracker, title="Fire alarm", priority="3")
    seed.add_item(tracker, title="Coffee", priority="1")
    assert found(client, app, tracker, "Medium") == ["Printer jam"]
    assert found(client, app, tracker, "urgent") == ["Fire alarm"]
    assert found(client, app, tracker, "alarm") == ["Fire alarm"]  # stored values still match
    assert found(client, app, tracker, "urgent printer") == []  # every word must match


def test_search_by_a_multi_selects_labels(app, client, auth, db, users):
    auth.login("viewer")
    tracker = seed.make_tracker("Requests", LABELLED)
    seed.add_item(tracker, title="Both", teams="ops,dev")
    seed.add_item(tracker, title="Middle", teams="qa,dev,ops")
    seed.add_item(tracker, title="Quality only", teams="qa")
    assert found(client, app, tracker, "development") == ["Both", "Middle"]
    assert found(client, app, tracker, "operations") == ["Both", "Middle"]
    assert found(client, app, tracker, "quality") == ["Middle", "Quality only"]


def test_search_by_a_linked_items_label(app, client, auth, db, users):
    auth.login("viewer")
    rooms = seed.make_tracker("Rooms", [("name", "Name", "t", {}, True)])
    library = seed.add_item(rooms, name="Library")
    seed.add_item(rooms, name="Kitchen")
    name_field = Field.get(Field.tracker == rooms, Field.perm_name == "name")
    bookings = seed.make_tracker("Bookings", [
        ("title", "Title", "t", {}, True),
        ("room", "Room", "r", {"trackerId": rooms.id, "fieldId": name_field.id}, False)])
    seed.add_item(bookings, title="Reading group", room=str(library.id))
    seed.add_item(bookings, title="Lunch")
    assert found(client, app, bookings, "library") == ["Reading group"]

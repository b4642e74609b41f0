"""The three-way view puts the conflicting fields first, folds the fields that agree behind
"Show all fields", says the status in words and offers an input fit for each value, one
fieldset per field; the overwrite confirmation names the item and, per field, the master's
value and the value that replaces it."""
import pytest

from tests.support.pages import soup, url
from tests.support.sync import conflict, reloaded_clone
from tikisync_web.models import Item


@pytest.fixture
def clash(app, db, fake_master, users):
    """Item 1: priority and status changed on both sides, amount here only."""
    tracker = reloaded_clone(app, fake_master)
    return conflict(app, tracker, fake_master, 1, {"priority": "low", "amount": "99"},
                    {"priority": "medium"}, status="c", theirs_status="p")


def test_conflicts_come_first_and_agreeing_fields_are_folded(app, client, auth, clash):
    auth.login("admin")
    page = soup(client.get(url(app, "tikisync.item_resolve", item_id=clash.id)))
    main = [tr["data-perm"] for tr in page.find(id="three-way").tbody("tr")]
    assert main == ["priority", "@status", "amount"]  # conflicts, then changed here only
    folded = page.find(id="three-way-same")
    assert folded.name == "details" and "Show all fields" in folded.summary.get_text()
    assert {tr["data-perm"] for tr in folded("tr") if tr.get("data-perm")} == {"title",
                                                                               "assignee"}
    status_row = page.find("tr", {"data-perm": "@status"})
    cells = [td.get_text(strip=True) for td in status_row("td")[:3]]
    assert cells == ["open", "closed", "pending"]  # words, not o / c / p


def test_each_conflict_is_a_fieldset_with_an_input_for_its_value(app, client, auth, clash):
    auth.login("admin")
    page = soup(client.get(url(app, "tikisync.item_resolve", item_id=clash.id)))
    priority = page.find("tr", {"data-perm": "priority"}).find("fieldset")
    assert priority.legend.get_text(strip=True) == "Keep for Priority"
    choices = [o["value"] for o in priority.find("select", {"name": "value-priority"})("option")]
    assert choices == ["", "low", "medium", "high"]
    status_select = page.find("tr", {"data-perm": "@status"}).find("select")
    assert [o.get_text() for o in status_select("option")] == ["open", "pending", "closed"]
    done = client.post(url(app, "tikisync.item_resolve", item_id=clash.id),
                       data={"choice-priority": "value", "value-priority": "high",
                             "choice-@status": "theirs"})
    assert done.status_code == 303
    resolved = Item.get_by_id(clash.id)
    assert (resolved.values["priority"], resolved.status) == ("high", "p")


def test_overwrite_confirmation_names_the_item_and_the_values_it_replaces(app, client, auth,
                                                                         clash):
    auth.login("admin")
    page = soup(client.get(url(app, "tikisync.item_overwrite", item_id=clash.id)))
    assert page.find("h1").get_text(strip=True) == \
        f"Overwrite item #{clash.id} “First item” on the master?"
    rows = {tr["data-perm"]: [td.get_text(strip=True) for td in tr("td")]
            for tr in page.find(id="overwrite-values").tbody("tr")}
    assert rows == {"priority": ["medium", "low"], "amount": ["12.5", "99"],
                    "@status": ["pending", "closed"]}
    assert page.find("button", string="Overwrite the master")

"""A remote permName that cannot be ours (issue 12, item 12): it would become a form field name,
a JSON key and a CLI key, so the clone refuses the field and says why, in the preview, the
result and the CLI; adopting and refreshing refuse it the same way; the other fields clone and
reload as usual."""
import json

import pytest

from tests.support.pages import soup, url
from tests.support.sync import client as remote_client
from tests.support.sync import connect
from tikisync_web import fields as ft
from tikisync_web.models import Field, Item, Tracker
from tikisync_web.sync import clone, reload, schema

BAD_NAMES = ["my-field", "1st", "two words", "x" * 101, "<b>bold</b>", "@status", "caf\u00e9",
             "a.b", "semi;colon"]
WHY = "permanent name"


def master_with(make_master, bad):
    fields = [{"fieldId": 1, "name": "Title", "permName": "title", "type": "t",
               "isMandatory": "y", "isMain": "y"}]
    fields += [{"fieldId": 10 + n, "name": f"Odd {n}", "permName": name, "type": "t"}
               for n, name in enumerate(bad)]
    items = [("o", {"title": "first", **{name: "x" for name in bad}})]
    return make_master(tracker={"trackerId": 1, "name": "Odd names"}, fields=fields, items=items)


def plan_of(app, master):
    with remote_client(app, master.url) as c:
        return clone.plan_clone(c, 1), c.base_url, c.generation


def test_a_permname_we_cannot_use_is_skipped_with_its_reason(app, db, make_master):
    master = master_with(make_master, BAD_NAMES)
    connect(app, master)
    plan, base, generation = plan_of(app, master)
    report = plan.report()
    assert report["kept"] == ["title"]
    skipped = {s["perm"]: s["reason"] for s in report["skipped"]}
    assert set(skipped) == set(BAD_NAMES)
    assert all(WHY in reason and "rename it on the master" in reason
               for reason in skipped.values())
    tracker = clone.create_clone(plan, base, protocol=generation)
    assert [f.perm_name for f in Tracker.get_by_id(tracker.id).ordered_fields()] == ["title"]
    assert all(ft.PERM_NAME.match(f.perm_name) for f in Field.select())
    # The items come with the usable fields only.
    with remote_client(app, master.url) as c:
        reload.reload(Tracker.get_by_id(tracker.id), c)
    (item,) = Item.select().where(Item.tracker == tracker)
    assert item.values == {"title": "first"}


def test_the_preview_and_the_result_show_the_refused_field(app, auth, make_master):
    master = master_with(make_master, ["my-field"])
    connect(app, master)
    auth.become("admin")
    preview = auth.client.get(url(app, "tikisync.clone_preview", url=master.url, tracker=1))
    assert preview.status_code == 200
    rows = {row.find("code").get_text(): row for row in soup(preview).select("#clone-plan tr")
            if row.find("code")}
    assert rows["my-field"]["data-action"] == "skipped"
    assert WHY in rows["my-field"].get_text(" ", strip=True)
    assert rows["title"]["data-action"] == "kept"
    form = soup(preview).find("form", action=url(app, "tikisync.clone_create"))
    data = {i["name"]: i.get("value", "") for i in form.find_all("input", type="hidden")}
    done = auth.client.post(form["action"], data=data, follow_redirects=True)
    assert done.status_code == 200
    listed = soup(done).find(id="clone-skipped").get_text(" ", strip=True)
    assert "my-field" in listed and WHY in listed


def test_the_cli_reports_the_refused_field(app, db, runner, make_master):
    master = master_with(make_master, ["1st"])
    connect(app, master)
    result = runner.invoke(args=["tikisync", "clone", master.url, "1", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["kept"] == ["title"]
    assert [s["perm"] for s in report["skipped"]] == ["1st"]
    assert WHY in report["skipped"][0]["reason"]


@pytest.fixture
def cloned(app, db, make_master):
    master = master_with(make_master, [])
    connect(app, master)
    plan, base, generation = plan_of(app, master)
    return master, clone.create_clone(plan, base, protocol=generation)


def test_adopting_a_field_whose_permname_we_cannot_use_is_refused(app, cloned):
    master, tracker = cloned
    master.fields[1].append({**master.fields[1][0], "fieldId": 60, "name": "Odd",
                             "permName": "odd-one", "isMandatory": "n", "isMain": "n"})
    with remote_client(app, master.url) as c:
        (plan,) = schema.adopt_fields(Tracker.get_by_id(tracker.id), c, ["odd-one"])
    assert plan.action == "skipped" and WHY in plan.reason
    assert not Field.select().where(Field.perm_name == "odd-one").exists()


def test_the_validity_rule_is_the_one_of_local_fields():
    for name in BAD_NAMES:
        assert not ft.PERM_NAME.match(name), name
    for name in ("title", "a", "A_1", "x" * 100):
        assert ft.PERM_NAME.match(name), name

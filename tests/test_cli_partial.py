"""A command that did part of its work and failed on another part prints its JSON all the
same and exits 1 (CLI.md), with or without --json."""
import json

import pytest

from tests.support.sync import connect
from tikisync_web import items as item_svc
from tikisync_web.models import Item, Tracker


@pytest.fixture
def cli(runner):
    def run(*args):
        return runner.invoke(args=["tikisync", *map(str, args)])
    return run


@pytest.fixture
def cloned(app, db, cli, fake_master):
    app.config["TIKISYNC_HTTP_BACKOFF"] = 0
    connect(app, fake_master)
    report = json.loads(cli("clone", fake_master.url, 1, "--json").stdout)
    assert cli("reload", report["tracker"], "--json").exit_code == 0
    return Tracker.get_by_id(report["tracker"])


def test_push_with_a_failed_item_exits_1_and_prints_its_json(cli, cloned, fake_master):
    ok = item_svc.create_item(cloned, {"title": "goes through"}, username="t")
    refused = item_svc.create_item(cloned, {"title": "refused"}, username="t")
    fake_master.faults.arm("500", on="insert_item", at={2})
    result = cli("push", cloned.id, "--json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert [p["id"] for p in report["pushed"]] == [ok.id]
    assert [f["id"] for f in report["failed"]] == [refused.id]
    assert "the master failed (500" in report["failed"][0]["error"]
    assert result.stderr.count("\n") == 1 and "1 of 2 items failed" in result.stderr
    fake_master.faults.clear()
    fake_master.faults.arm("500", on="insert_item")
    text = cli("push", cloned.id)
    assert text.exit_code == 1 and f"FAILED item {refused.id}" in text.stdout
    assert Item.get_by_id(refused.id).remote_id is None


def test_refresh_fields_with_an_unreadable_field_exits_1_with_its_json(cli, cloned,
                                                                       fake_master):
    fake_master.faults.arm("500", on="list_users", at=range(1, 10))
    result = cli("refresh-fields", cloned.id, "--json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert [f["perm"] for f in report["failed"]] == ["assignee"]
    assert "user list is not readable" in report["failed"][0]["reason"]
    text = cli("refresh-fields", cloned.id)
    assert text.exit_code == 1 and "assignee" in text.stdout


def test_adopt_of_an_unknown_field_exits_1_with_its_json(cli, cloned):
    result = cli("adopt", cloned.id, "nosuchfield", "--json")
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["unknown"] == ["nosuchfield"]


def test_clone_with_an_unreadable_field_exits_1_with_its_json(app, db, cli, fake_master):
    app.config["TIKISYNC_HTTP_BACKOFF"] = 0
    connect(app, fake_master)
    fake_master.faults.arm("500", on="list_users", at=range(1, 10))
    result = cli("clone", fake_master.url, 1, "--json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["tracker"] is not None and "title" in report["kept"]
    assert [f["perm"] for f in report["failed"]] == ["assignee"]

"""The foundation's commands (CLI.md): the real console script in a subprocess, and every rule
through app.test_cli_runner(): exact JSON shapes, one-line errors with exit status 1 (usage
errors 2), nothing changed on error, and values validated exactly as the item form does."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import seed
from tests.support.apps import PASSWORD
from tests.support.pages import soup, url
from tikisync_web import accounts, migrations
from tikisync_web.db import database
from tikisync_web.models import ALL_MODELS, ApiToken, Field, Item, Tracker, User

TIKISYNC = Path(sys.executable).parent / "tikisync"


def snapshot():
    with database.connection_context():
        return {m.__name__: sorted(map(repr, m.select().tuples())) for m in ALL_MODELS}


@pytest.fixture
def cli(app):
    """tikisync ARGS through the app's CLI runner; returns the click Result."""
    runner = app.test_cli_runner()

    def run(*args):
        return runner.invoke(args=["tikisync", *map(str, args)])

    return run


def ok_json(result):
    assert result.exit_code == 0, (result.output, result.stderr)
    return json.loads(result.stdout)  # exactly one JSON document, nothing else on stdout


def one_line_error(result, status=1):
    assert result.exit_code == status, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    if status == 2:  # click's usage errors come with the usage text
        return result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# --- the console script itself ----------------------------------------------------------------

def console(db_url, tmp_path, *args, check=True):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TIKISYNC_", "FLASK_"))}
    env.update(TIKISYNC_DATABASE=db_url, TIKISYNC_SECRET_KEY="cli-secret",
               TIKISYNC_INSTANCE=str(tmp_path / "cli-instance"))
    done = subprocess.run([str(TIKISYNC), *map(str, args)], env=env, capture_output=True,
                          text=True, timeout=60, cwd=tmp_path)
    if check:
        assert done.returncode == 0, done.stderr
    return done


def test_the_console_script_runs_every_foundation_command(blank_db_url, tmp_path):
    run = lambda *args, **kw: console(blank_db_url, tmp_path, *args, **kw)  # noqa: E731
    assert "create schema" in run("init").stdout
    if blank_db_url.startswith(("postgresql", "mysql")):
        # The server URL read from the environment works; the other commands are the same
        # code whatever the database, and each start costs half a second.
        created = json.loads(run("tracker", "create", "Tickets", "--json").stdout)
        assert json.loads(run("tracker", "list", "--json").stdout) == [
            {"id": created["id"], "name": "Tickets", "items": 0, "source": None}]
        return
    first = run("user", "ensure-admin").stdout
    password = next(line.split("password")[1].split()[0] for line in first.splitlines()
                    if "password" in line)
    run("user", "add", "ed", "--role", "editor", "--password", PASSWORD)
    token = run("token", "add", "ed", "--label", "script").stdout.strip()
    tracker = json.loads(run("tracker", "create", "Tickets", "--description", "d", "--json").stdout)
    field = json.loads(run("field", "add", tracker["id"], "due", "j", "Due", "--mandatory",
                           "--options", '{"datetime": "d"}', "--json").stdout)
    item = json.loads(run("item", "add", tracker["id"], "--set", "due=2024-03-05",
                          "--json").stdout)
    run("item", "set", item["id"], "--status", "c", "--set", "due=2024-03-06")
    shown = json.loads(run("item", "show", item["id"], "--json").stdout)
    listed = json.loads(run("items", tracker["id"], "--json").stdout)
    trackers = json.loads(run("tracker", "list", "--json").stdout)

    assert set(tracker) == {"id"} and set(field) == {"id"} and set(item) == {"id"}
    assert shown == {"id": item["id"], "tracker": tracker["id"], "remote_id": None,
                     "status": "c", "fields": {"due": "1709683200"}}
    assert listed == [shown]
    assert trackers == [{"id": tracker["id"], "name": "Tickets", "items": 1, "source": None}]
    failed = run("item", "set", item["id"], "--set", "due=soon", check=False)
    assert failed.returncode == 1 and failed.stdout == ""
    assert failed.stderr.strip().splitlines() == [
        "Error: due is not a date: use YYYY-MM-DD, YYYY-MM-DDTHH:MM or Unix seconds"]

    from tests.support.apps import make_app

    app = make_app(blank_db_url, tmp_path)
    try:
        client = app.test_client()
        signed_in = client.post(url(app, "tikisync.login"),
                                data={"username": "admin", "password": password})
        assert signed_in.status_code == 303  # the printed password works
        with database.connection_context():
            assert accounts.user_for_token(token).username == "ed"
            assert Item.get_by_id(item["id"]).values == {"due": "1709683200"}  # unchanged
    finally:
        database.close()


# --- through the runner -----------------------------------------------------------------------

def test_init_is_idempotent(cli, app):
    before = snapshot()
    assert "up to date" in cli("init").stdout
    assert snapshot() == before
    with database.connection_context():
        assert migrations.current_version() == migrations.LATEST


def test_user_add_then_sign_in(cli, app, client):
    result = cli("user", "add", "carol", "--role", "viewer", "--password", PASSWORD)
    assert result.exit_code == 0 and result.stdout == "user carol added as viewer\n"
    response = client.post(url(app, "tikisync.login"),
                           data={"username": "carol", "password": PASSWORD})
    assert response.status_code == 303
    page = soup(client.get(response.location))
    assert "carol (viewer)" in page.select_one(".ts-who").get_text(" ", strip=True)


@pytest.mark.parametrize("args, status, message", [
    (["dup", "--role", "viewer", "--password", PASSWORD], 1, "Error: user 'dup' already exists"),
    (["new", "--role", "viewer", "--password", "short"], 1,
     "Error: the password needs at least 8 characters"),
    (["with space", "--role", "viewer", "--password", PASSWORD], 1,
     "Error: a username is 1 to 100 characters without spaces"),
    (["new", "--role", "boss", "--password", PASSWORD], 2, "'boss' is not one of"),
    (["new", "--password", PASSWORD], 2, "Missing option '--role'"),
])
def test_user_add_refusals(cli, app, args, status, message):
    cli("user", "add", "dup", "--role", "viewer", "--password", PASSWORD)
    before = snapshot()
    line = one_line_error(cli("user", "add", *args), status)
    assert message in line
    assert snapshot() == before


def test_ensure_admin_only_when_no_admin(cli, app):
    first = cli("user", "ensure-admin")
    assert first.exit_code == 0 and "sign in as admin with password" in first.stdout
    with database.connection_context():
        assert User.get(User.username == "admin").role == "admin"
    before = snapshot()
    again = cli("user", "ensure-admin")
    assert again.exit_code == 0 and again.stdout == ""
    assert snapshot() == before


def test_token_add(cli, app, users):
    result = cli("token", "add", "editor", "--label", "nightly")
    assert result.exit_code == 0
    token = result.stdout.strip()
    with database.connection_context():
        assert accounts.user_for_token(token).username == "editor"
        row = ApiToken.get()
        assert row.label == "nightly" and token not in row.token_hash  # only its hash is kept
    before = snapshot()
    assert one_line_error(cli("token", "add", "nobody")) == (
        "Error: no user 'nobody'; create it with `tikisync user add`")
    assert snapshot() == before


def test_tracker_create_and_list(cli, app):
    created = ok_json(cli("tracker", "create", "Assets", "--description", "Laptops", "--json"))
    assert set(created) == {"id"}
    other = ok_json(cli("tracker", "create", "Empty", "--json"))
    seed.bulk_items(Tracker(id=created["id"]), 3)
    listed = ok_json(cli("tracker", "list", "--json"))
    assert listed == [
        {"id": created["id"], "name": "Assets", "items": 3, "source": None},
        {"id": other["id"], "name": "Empty", "items": 0, "source": None},
    ]
    with database.connection_context():
        assert Tracker.get_by_id(created["id"]).description == "Laptops"
    text = cli("tracker", "list")
    assert "Assets" in text.stdout and "(3 items)" in text.stdout


@pytest.mark.parametrize("args, status, message", [
    ([""], 1, "Error: a tracker needs a name"),
    (["   "], 1, "Error: a tracker needs a name"),
    (["x" * 201], 1, "Error: NAME cannot be longer than 200 characters"),
    (["ok", "--description", "x" * 5001], 1,
     "Error: --description cannot be longer than 5000 characters"),
    ([], 2, "Missing argument 'NAME'"),
])
def test_tracker_create_refusals(cli, app, args, status, message):
    before = snapshot()
    assert message in one_line_error(cli("tracker", "create", *args, "--json"), status)
    assert snapshot() == before


def test_field_add(cli, app):
    tracker = ok_json(cli("tracker", "create", "T", "--json"))["id"]
    title = ok_json(cli("field", "add", tracker, "title", "t", "Title", "--mandatory", "--json"))
    level = ok_json(cli("field", "add", tracker, "level", "d", "Level", "--options",
                        '{"options": ["1=Low", "2=High"]}', "--json"))
    with database.connection_context():
        fields = Tracker.get_by_id(tracker).ordered_fields()
    assert [(f.id, f.perm_name, f.type, f.name, f.mandatory, f.options) for f in fields] == [
        (title["id"], "title", "t", "Title", True, {}),
        (level["id"], "level", "d", "Level", False, {"options": ["1=Low", "2=High"]}),
    ]


@pytest.mark.parametrize("args, status, message", [
    (["999", "x", "t", "X"], 1, "Error: no tracker 999; see `tikisync tracker list`"),
    (["{t}", "title", "t", "Again"], 1, "Error: tracker {t} already has a field 'title'"),
    (["{t}", "2x", "t", "X"], 1,
     "Error: PERMNAME takes letters, digits and underscores, starting with a letter"),
    (["{t}", "x", "q", "X"], 1, "Error: type 'q' cannot be held here (Auto-increment)"),
    (["{t}", "x", "zz", "X"], 1, "Error: type 'zz' cannot be held here"),
    (["{t}", "x", "t", ""], 1, "Error: LABEL is required"),
    (["{t}", "x", "t", "y" * 201], 1, "Error: LABEL cannot be longer than 200 characters"),
    (["{t}", "x", "t", "X", "--options", "{nope"], 1, "Error: --options is not valid JSON"),
    (["{t}", "x", "t", "X", "--options", "[1]"], 1, "Error: --options must be a JSON object"),
    (["x", "p", "t", "X"], 2, "'x' is not a valid integer"),
    (["{t}", "x", "t"], 2, "Missing argument 'LABEL'"),
])
def test_field_add_refusals(cli, app, args, status, message):
    tracker = ok_json(cli("tracker", "create", "T", "--json"))["id"]
    cli("field", "add", tracker, "title", "t", "Title")
    before = snapshot()
    args = [a.replace("{t}", str(tracker)) for a in args]
    assert message.replace("{t}", str(tracker)) in one_line_error(
        cli("field", "add", *args, "--json"), status)
    assert snapshot() == before


@pytest.fixture
def tracker(app):
    return seed.make_tracker()


def test_item_add_show_and_list_with_raw_values(cli, app, tracker):
    created = ok_json(cli("item", "add", tracker.id, "--status", "p", "--set", "title=Kettle",
                          "--set", "due=2024-03-05", "--set", "done=yes", "--set",
                          "colours=red,blue", "--set", "amount=12.5", "--json"))
    shown = ok_json(cli("item", "show", created["id"], "--json"))
    assert shown == {"id": created["id"], "tracker": tracker.id, "remote_id": None,
                     "status": "p", "fields": {"title": "Kettle", "contact": "", "amount": "12.5",
                                               "priority": "", "due": "1709596800", "done": "y",
                                               "colours": "red,blue", "homepage": ""}}
    second = ok_json(cli("item", "add", tracker.id, "--set", "title=Mug", "--json"))
    listed = ok_json(cli("items", tracker.id, "--json"))
    assert [i["id"] for i in listed] == [created["id"], second["id"]]
    assert listed[0] == shown
    assert set(listed[1]) == {"id", "tracker", "remote_id", "status", "fields"}
    assert ok_json(cli("items", seed.make_tracker("Empty").id, "--json")) == []
    with database.connection_context():
        assert Item.get_by_id(created["id"]).created_by == "cli"


def test_item_set_changes_only_what_is_named(cli, app, tracker):
    item = seed.add_item(tracker, title="Kettle", amount="3", colours="red")
    result = cli("item", "set", item.id, "--set", "amount=4", "--status", "c")
    assert result.exit_code == 0
    assert result.stdout == f"item {item.id}: amount, item status changed\n"
    values, status = seed.values_of(item.id)
    assert (values["title"], values["amount"], values["colours"], status) == (
        "Kettle", "4", "red", "c")
    same = cli("item", "set", item.id, "--set", "amount=4")
    assert same.stdout == f"item {item.id}: no change\n"


# The item form's message for the same input, as shown next to the widget.
FORM_CASES = [
    ("contact", "ann@", "v_contact"),
    ("amount", "12,5", "v_amount"),
    ("homepage", "example.org", "v_homepage"),
    ("due", "2024-02-30", "v_due"),
    ("priority", "9", "v_priority"),
    ("colours", "red,purple", "v_colours"),
    ("title", "", "v_title"),
]


@pytest.mark.parametrize("perm, bad, widget", FORM_CASES)
def test_the_cli_refuses_what_the_form_refuses_with_the_same_words(cli, app, client, auth,
                                                                   tracker, perm, bad, widget):
    seed.add_item(tracker, title="existing")
    before = snapshot()
    assignments = {"title": "ok", perm: bad}
    args = [a for p, v in assignments.items() for a in ("--set", f"{p}={v}")]
    line = one_line_error(cli("item", "add", tracker.id, *args, "--json"))
    assert snapshot() == before

    auth.become("editor")
    data = {"status": "o", "v_title": "ok", widget: bad.split(",") if perm == "colours" else bad}
    response = client.post(url(app, "tikisync.item_new", tracker_id=tracker.id), data=data)
    assert response.status_code == 422
    box = soup(response).find(attrs={"name": widget}).find_parent(class_="ts-field")
    form_message = box.select_one(".ts-error").get_text(strip=True)
    assert line == f"Error: {perm} {form_message[0].lower()}{form_message[1:-1]}"
    assert snapshot() == before


@pytest.mark.parametrize("args, status, message", [
    (["item", "add", "999", "--set", "title=x"], 1, "Error: no tracker 999"),
    (["item", "add", "{t}", "--set", "title"], 1, "Error: --set takes PERM=VALUE, not 'title'"),
    (["item", "add", "{t}", "--set", "nope=1", "--set", "title=x"], 1,
     "Error: nope is not a field of this tracker"),
    (["item", "add", "{t}", "--status", "x", "--set", "title=x"], 2, "'x' is not one of"),
    (["item", "set", "999", "--set", "title=x"], 1, "Error: no item 999"),
    (["item", "set", "{i}", "--set", "amount=lots"], 1, "Error: amount must be a number"),
    (["item", "set", "{i}", "--set", "title="], 1, "Error: title is required"),
    (["item", "show", "999", "--json"], 1, "Error: no item 999"),
    (["items", "999", "--json"], 1, "Error: no tracker 999"),
    (["item", "frobnicate"], 2, "No such command 'frobnicate'"),
])
def test_item_refusals(cli, app, tracker, args, status, message):
    item = seed.add_item(tracker, title="kept", amount="1")
    before = snapshot()
    args = [a.replace("{t}", str(tracker.id)).replace("{i}", str(item.id)) for a in args]
    assert message in one_line_error(cli(*args), status)
    assert snapshot() == before


def test_mandatory_fields_are_required_on_add(cli, app, tracker):
    line = one_line_error(cli("item", "add", tracker.id, "--set", "amount=1"))
    assert line == "Error: title is required"
    with database.connection_context():
        assert Item.select().count() == 0 and Field.select().count() == 8

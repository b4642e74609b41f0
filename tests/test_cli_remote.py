"""`tikisync dsn …`, `tikisync remote trackers`, `tikisync origin …` (CLI.md)."""
import json

import pytest

from tests.support.fake_master import PASSWORD, TOKEN, USER
from tikisync_web.models import AllowedOrigin, Credential


@pytest.fixture
def cli(runner):
    """Run `tikisync ARGS…`; returns click's result (stdout and stderr apart)."""
    def run(*args, input=None):
        return runner.invoke(args=["tikisync", *args], input=input)
    return run


def no_secret(result, *secrets):
    for secret in secrets:
        assert secret not in result.stdout and secret not in result.stderr


def one_line_failure(result):
    assert result.exit_code == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    return lines[0]


def add_basic(cli, master, *extra):
    return cli("dsn", "add", "fake", master.url, "--method", "basic", "--username", USER,
               "--password", PASSWORD, "--allow-http", *extra)


def test_dsn_add_list_remove(cli, fake_master):
    added = add_basic(cli, fake_master)
    assert added.exit_code == 0 and f"credential fake added for {fake_master.url}" in added.stdout
    listed = cli("dsn", "list", "--json")
    rows = json.loads(listed.stdout)
    assert rows == [{"identifier": "fake", "url": fake_master.url, "method": "basic",
                     "username": USER, "login_url": "", "allow_http": True, "generation": "auto",
                     "has_secret": True, "created": rows[0]["created"],
                     "updated": rows[0]["updated"]}]
    text = cli("dsn", "list")
    assert "fake: " + fake_master.url in text.stdout
    removed = cli("dsn", "remove", "fake")
    assert removed.exit_code == 0 and Credential.select().count() == 0
    for result in (added, listed, text, removed):
        no_secret(result, PASSWORD)


def test_dsn_add_refuses_plain_http_without_the_opt_in(cli, fake_master):
    result = cli("dsn", "add", "fake", fake_master.url, "--method", "basic", "--username", USER,
                 "--password", PASSWORD)
    assert "--allow-http" in one_line_failure(result)
    no_secret(result, PASSWORD)
    assert Credential.select().count() == 0


def test_dsn_add_option_mistakes(cli):
    url = "https://tiki.example.org"
    assert "takes --token" in one_line_failure(
        cli("dsn", "add", "x", url, "--method", "bearer", "--password", "p"))
    assert "--username" in one_line_failure(
        cli("dsn", "add", "x", url, "--method", "basic", "--password", "p"))
    assert "--password/--token" in one_line_failure(
        cli("dsn", "add", "x", url, "--method", "bearer"))
    assert cli("dsn", "add", "x", url).exit_code == 2  # --method is required: a usage error
    assert Credential.select().count() == 0


def test_dsn_add_secret_from_stdin_and_replace(cli, fake_master):
    result = cli("dsn", "add", "api", fake_master.url, "--method", "bearer", "--token", "-",
                 "--allow-http", input=TOKEN + "\n")
    assert result.exit_code == 0
    again = cli("dsn", "add", "api", fake_master.url, "--method", "bearer", "--token", "x" * 20,
                "--allow-http")
    assert "already exists" in one_line_failure(again)
    replaced = cli("dsn", "add", "api", fake_master.url, "--method", "bearer", "--allow-http",
                   "--generation", "B", "--replace")
    assert replaced.exit_code == 0 and "updated" in replaced.stdout
    test = json.loads(cli("dsn", "test", "api", "--json").stdout)
    assert test["ok"] and test["generation"] == "B"  # the token from stdin was kept


def test_dsn_test_json(cli, fake_master):
    add_basic(cli, fake_master)
    result = cli("dsn", "test", "fake", "--json")
    assert result.exit_code == 0 and result.stderr == ""
    report = json.loads(result.stdout)
    assert {k: report[k] for k in ("answered", "generation", "list_trackers", "trackers",
                                   "list_items", "ok")} == {
        "answered": True, "generation": "A", "list_trackers": True, "trackers": 1,
        "list_items": True, "ok": True}
    plain = cli("dsn", "test", "fake")
    assert plain.exit_code == 0 and "may read items" in plain.stdout


def test_dsn_test_failing_prints_the_report_and_exits_1(cli, fake_master):
    cli("dsn", "add", "fake", fake_master.url, "--method", "basic", "--username", USER,
        "--password", "wrong-password-xyz", "--allow-http")
    result = cli("dsn", "test", "fake", "--json")
    report = json.loads(result.stdout)
    assert report["answered"] and not report["ok"] and not report["list_trackers"]
    assert "check the credential for" in one_line_failure(result)
    no_secret(result, "wrong-password-xyz")


def test_unknown_identifier(cli):
    assert "dsn list" in one_line_failure(cli("dsn", "test", "nope", "--json"))
    assert "dsn list" in one_line_failure(cli("dsn", "remove", "nope"))


def test_remote_trackers_json(cli, fake_master):
    cli("dsn", "add", "api", fake_master.url, "--method", "bearer", "--token", TOKEN,
        "--allow-http")
    result = cli("remote", "trackers", fake_master.url, "--json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [{k: r[k] for k in ("id", "name", "description")} for r in rows] == [
        {"id": 1, "name": "SyncDemo", "description": "Demo tracker for sync tests"}]
    text = cli("remote", "trackers", fake_master.url)
    assert "SyncDemo (3 items)" in text.stdout
    no_secret(result, TOKEN)
    no_secret(text, TOKEN)


def test_remote_trackers_refused_before_any_request(cli, fake_master):
    line = one_line_failure(cli("remote", "trackers", fake_master.url, "--json"))
    assert "is not an allowed remote site" in line and "tikisync origin add" in line
    assert fake_master.requests == []


def test_remote_trackers_of_an_allowed_site_without_credential(cli, fake_master):
    assert cli("origin", "add", fake_master.url).exit_code == 0
    result = cli("remote", "trackers", fake_master.url, "--json")
    assert json.loads(result.stdout) == []  # anonymous: Tiki shows no trackers
    fake_master.settings.answer_status = 403
    assert "no credential applies" in one_line_failure(
        cli("remote", "trackers", fake_master.url, "--json"))


def test_origin_commands(cli):
    assert cli("origin", "add", "https://Tiki.Example.org:443/x").stdout.strip() == \
        "https://tiki.example.org allowed"
    assert "already allowed" in one_line_failure(cli("origin", "add", "https://tiki.example.org"))
    assert "not a valid URL" in one_line_failure(cli("origin", "add", "https://[bad"))
    assert json.loads(cli("origin", "list", "--json").stdout) == ["https://tiki.example.org"]
    assert cli("origin", "remove", "https://tiki.example.org/").exit_code == 0
    assert AllowedOrigin.select().count() == 0
    assert "origin list" in one_line_failure(cli("origin", "remove", "https://tiki.example.org"))

"""Wrong passwords are throttled per account and per address, on the sign-in form and on the
master's HTTP Basic and Bearer authentication, in the database so every process shares the
count (issue 12, item 9). A blocked attempt is refused before the password is checked, says how
long to wait, and the waits are short and grow; a success clears the account's count.

Time is never waited for: a test "lets time pass" by moving the rows' times back.
"""
import pytest
import requests

from tests.support.apps import PASSWORD
from tests.support.instances import ADMIN_PASSWORD, Instance
from tests.support.master_api import ACCEPT, basic, bearer
from tests.support.pages import soup, url
from tikisync_web import throttle
from tikisync_web.db import database
from tikisync_web.master import access
from tikisync_web.models import SignInThrottle

ACCOUNT, ADDRESS = throttle.ACCOUNT, throttle.ADDRESS


@pytest.fixture(autouse=True)
def _no_remembered_credentials():
    # The master remembers verified Basic credentials for minutes, in this process: one
    # remembered from another test would pass a block that this test expects.
    access.forget_verified()
    yield
    access.forget_verified()


def later(seconds):
    """As if `seconds` had passed: every time of the throttle's rows moves back."""
    with database.connection_context():
        SignInThrottle.update(
            window_start=SignInThrottle.window_start - seconds,
            blocked_until=SignInThrottle.blocked_until - seconds,
            last_failure=SignInThrottle.last_failure - seconds).execute()


def attempt(app, client, username, password, address="127.0.0.1"):
    return client.post(url(app, "tikisync.login"), data={"username": username,
                                                         "password": password},
                       environ_base={"REMOTE_ADDR": address})


def message(response):
    return soup(response).find("form").get_text(" ", strip=True)


def fail(app, client, times, username="editor", address="127.0.0.1"):
    for _ in range(times):
        response = attempt(app, client, username, "wrong password", address)
        assert response.status_code == 422, response.status_code


def test_the_form_blocks_an_account_after_a_few_failures_and_says_how_long(app, users):
    client = app.test_client()
    fail(app, client, ACCOUNT.limit - 1)
    last = attempt(app, client, "editor", "wrong password")
    assert last.status_code == 422
    assert f"wait {ACCOUNT.first_delay} seconds" in message(last)
    # Blocked: even the right password is refused, before it is checked.
    blocked = attempt(app, client, "editor", PASSWORD)
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) == ACCOUNT.first_delay
    text = message(blocked)
    assert "Too many failed sign-ins" in text and f"{ACCOUNT.first_delay} seconds" in text
    with client.session_transaction() as sess:
        assert "tikisync_user_id" not in sess
    # Another account is not blocked by this one's failures.
    assert attempt(app, client, "viewer", PASSWORD).status_code == 303


def test_the_block_ends_by_itself_and_a_success_clears_the_count(app, users):
    client = app.test_client()
    fail(app, client, ACCOUNT.limit)
    assert attempt(app, client, "editor", PASSWORD).status_code == 429
    later(ACCOUNT.first_delay + 1)
    assert attempt(app, client, "editor", PASSWORD).status_code == 303
    # Cleared: as many failures as before may come again before the next block.
    fail(app, client, ACCOUNT.limit - 1)
    assert attempt(app, client, "editor", PASSWORD).status_code == 303


def test_waits_grow_while_failures_go_on_but_stay_short(app, users):
    client = app.test_client()
    waits = []
    for round_ in range(8):  # from ever new addresses: only the account's count is tested
        fail(app, client, ACCOUNT.limit, address=f"10.0.0.{round_ + 1}")
        blocked = attempt(app, client, "editor", PASSWORD)
        assert blocked.status_code == 429
        waits.append(int(blocked.headers["Retry-After"]))
        later(waits[-1] + 1)
    assert waits[0] == ACCOUNT.first_delay
    assert waits == sorted(waits) and waits[1] == 2 * waits[0]
    assert max(waits) == ACCOUNT.max_delay <= 300  # an attacker cannot lock a user out long
    # A quiet spell forgets the history: the next block is short again.
    later(throttle.FORGET_AFTER + 1)
    fail(app, client, ACCOUNT.limit, address="10.0.1.1")
    assert attempt(app, client, "editor", PASSWORD).headers["Retry-After"] == str(
        ACCOUNT.first_delay)


def test_an_address_guessing_across_accounts_is_blocked_but_others_are_not(app, users):
    client = app.test_client()
    names = [f"nobody{n}" for n in range(ADDRESS.limit)]  # unknown accounts count too
    for name in names:
        attempt(app, client, name, "guess", address="192.0.2.7")
    blocked = attempt(app, client, "viewer", PASSWORD, address="192.0.2.7")
    assert blocked.status_code == 429
    assert "Too many failed sign-ins" in message(blocked)
    assert attempt(app, client, "viewer", PASSWORD, address="192.0.2.8").status_code == 303


def test_an_ipv6_address_is_counted_by_its_network(app, users):
    client = app.test_client()
    for n in range(ADDRESS.limit):
        attempt(app, client, f"nobody{n}", "guess", address=f"2001:db8:1:2::{n + 1:x}")
    assert attempt(app, client, "viewer", PASSWORD,
                   address="2001:db8:1:2::ffff").status_code == 429
    assert attempt(app, client, "viewer", PASSWORD,
                   address="2001:db8:1:3::1").status_code == 303


def test_usernames_are_counted_whatever_their_case(app, users):
    client = app.test_client()
    for name in ("Editor", "EDITOR", "editor", "eDitor", "editoR")[:ACCOUNT.limit]:
        attempt(app, client, name, "wrong password")
    assert attempt(app, client, "editor", PASSWORD).status_code == 429


def master_post(client, app, headers, address="127.0.0.1"):
    target = url(app, "tikisync_master.ajax_services", controller="tracker",
                 action="list_trackers")
    return client.post(target, headers={**ACCEPT, **headers},
                       environ_base={"REMOTE_ADDR": address})


@pytest.fixture
def api(app, users):
    client = app.test_client()
    client.send_csrf = False
    return client


def test_the_master_blocks_basic_guesses_with_a_429_in_tikis_json(app, api):
    for _ in range(ACCOUNT.limit):
        assert master_post(api, app, basic("editor", "guess")).status_code == 401
    blocked = master_post(api, app, basic("editor", PASSWORD))
    assert blocked.status_code == 429
    body = blocked.get_json()
    assert body["code"] == 429 and "wait" in body["message"]
    assert set(body) >= {"code", "errortitle", "message"}
    assert int(blocked.headers["Retry-After"]) == ACCOUNT.first_delay
    later(ACCOUNT.first_delay + 1)
    assert master_post(api, app, basic("editor", PASSWORD)).status_code == 200


def test_the_form_and_the_master_share_one_count(app, api, users):
    client = app.test_client()
    fail(app, client, ACCOUNT.limit - 1)
    assert master_post(api, app, basic("editor", "guess")).status_code == 401
    assert attempt(app, client, "editor", PASSWORD).status_code == 429
    assert master_post(api, app, basic("editor", PASSWORD)).status_code == 429


def test_a_verified_client_keeps_working_while_its_account_is_attacked(app, api):
    # A Tiki client syncing with the right password (verified, remembered for minutes) is not
    # locked out by someone guessing that account's password from elsewhere.
    assert master_post(api, app, basic("editor", PASSWORD)).status_code == 200
    for _ in range(ACCOUNT.limit):
        master_post(api, app, basic("editor", "guess"), address="198.51.100.9")
    assert master_post(api, app, basic("editor", "another guess"),
                       address="198.51.100.9").status_code == 429
    assert master_post(api, app, basic("editor", PASSWORD)).status_code == 200


def test_bearer_guesses_are_blocked_per_address(app, api):
    for n in range(ADDRESS.limit):
        response = master_post(api, app, bearer(f"tks_guess{n}"), address="203.0.113.5")
        assert response.status_code == 401
    assert master_post(api, app, bearer("tks_more"), address="203.0.113.5").status_code == 429
    assert master_post(api, app, bearer("tks_more"), address="203.0.113.6").status_code == 401


def test_old_rows_are_pruned(app, users):
    client = app.test_client()
    fail(app, client, 2, username="someone-once")
    later(throttle.FORGET_AFTER + 1)
    fail(app, client, 1, username="someone-else")
    with database.connection_context():
        subjects = {row.subject for row in SignInThrottle.select()}
    assert "someone-once" not in subjects and "someone-else" in subjects


@pytest.mark.twoinstance
def test_two_server_processes_share_the_count(instances, tmp_path):
    first = instances("first")
    second = Instance("second", tmp_path / "second", first.db_url).start()
    try:
        for _ in range(ACCOUNT.limit - 1):
            answer = requests.post(first.url + "/tiki-ajax_services.php?controller=tracker"
                                   "&action=list_trackers",
                                   auth=("admin", "wrong"), timeout=10)
            assert answer.status_code == 401
        answer = requests.post(second.url + "/tiki-ajax_services.php?controller=tracker"
                               "&action=list_trackers", auth=("admin", "wrong"), timeout=10)
        assert answer.status_code == 401
        for server in (first, second):
            answer = requests.post(server.url + "/tiki-ajax_services.php?controller=tracker"
                                   "&action=list_trackers", auth=("admin", ADMIN_PASSWORD),
                                   timeout=10)
            assert answer.status_code == 429, server.name
    finally:
        second.stop()

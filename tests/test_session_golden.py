"""The fake Tiki's session side and our client's login and insert, checked against the
exchanges a real Tiki 24.1 recorded (tests/golden/tiki24-session/, verbatim copies of
../shared/tiki-examples/07, 25-27, 29-31, 38, 39, 42, 47): the same cookies, statuses and
words from the fake, the same fields and headers from our client."""
import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.support import fake_master as fm
from tikisync_web.remote.auth import SessionAuth, ticket_in
from tikisync_web.remote.client import TikiClient

GOLDEN = Path(__file__).parent / "golden" / "tiki24-session"


def recorded(number):
    return json.loads(next(GOLDEN.glob(f"{number:02d}-*.json")).read_text())


def cookie_names(set_cookies):
    return sorted(c.split("=", 1)[0] for c in set_cookies)


@pytest.fixture
def master(make_master):
    return make_master(tickets="session", basic_off=True)


def browser_login(master):
    """Steps 1 and 2 of the recorded exchange, with requests as the browser."""
    web = requests.Session()
    form = web.get(master.url + "/tiki-login_scr.php", timeout=5)
    ticket = ticket_in(form.text)
    answer = web.post(master.url + "/tiki-login.php", timeout=5, allow_redirects=False,
                      data={"user": fm.USER, "pass": fm.PASSWORD, "ticket": ticket, "login": ""},
                      headers={"Referer": master.url + "/tiki-login_scr.php"})
    return web, form, answer, ticket


def insert(web, master, ticket, headers=None):
    data = {"controller": "tracker", "action": "insert_item", "trackerId": "1",
            "status": "o", "fields[title]": "Session item A"}
    if ticket is not None:
        data["ticket"] = ticket
    return web.post(master.url + "/tiki-ajax_services.php", data=data, timeout=5,
                    headers={"Accept": "application/json", **(headers or {})})


def test_the_login_form_and_the_login_answer_as_recorded(master):
    web, form, answer, ticket = browser_login(master)
    assert cookie_names(form.raw.headers.get_all("Set-Cookie")) == cookie_names(
        recorded(25)["response"]["headers"]["Set-Cookie"])
    assert ticket and 'name="loginbox"' in form.text
    assert answer.status_code == recorded(26)["response"]["status"] == 302
    assert "Set-Cookie" not in answer.headers  # the session id is kept (26)
    bad = web.post(master.url + "/tiki-login.php", allow_redirects=False, timeout=5,
                   data={"user": fm.USER, "pass": "wrong", "ticket": ticket, "login": ""},
                   headers={"Referer": master.url + "/"})
    assert bad.status_code == recorded(47)["response"]["status"] == 401


def test_insert_answers_and_words_as_recorded(master):
    web, _, _, ticket = browser_login(master)
    same_site = {"Referer": master.url + "/tiki-view_tracker.php?trackerId=1"}
    no_ticket = insert(web, master, None, same_site)
    assert no_ticket.status_code == 200 and no_ticket.json()["itemId"] == 0  # 07
    for number, headers, sent in (
            (29, {}, ticket),
            (30, {"Referer": "http://localhost:1/"}, ticket),
            (31, same_site, "a-ticket-of-another-session")):
        refused = insert(web, master, sent, headers)
        expected = recorded(number)["response"]
        assert refused.status_code == expected["status"] == 401
        assert refused.json()["message"] == expected["body"]["message"]
    done = insert(web, master, ticket, same_site)
    shape = recorded(27)["response"]["body"]
    assert done.status_code == 200 and done.json()["itemId"] > 3
    assert {"itemId", "status", "fields", "nextTicket"} <= set(done.json()) <= set(shape) | {
        "trackerId"}
    assert done.json()["nextTicket"] == ticket  # one ticket per session (27)
    assert len(master.tracker_items(1)) == 4


def test_one_use_tickets_as_recorded(make_master):
    master = make_master(tickets="one-use", basic_off=True)
    web, _, _, login_ticket = browser_login(master)
    same_site = {"Referer": master.url + "/"}
    used = insert(web, master, login_ticket, same_site)  # the login used it up (38)
    assert used.status_code == recorded(38)["response"]["status"] == 401
    form = web.get(master.url + "/tiki-ajax_services.php?controller=tracker&action=insert_item"
                   "&trackerId=1", headers={"X-Requested-With": "XMLHttpRequest"}, timeout=5)
    assert form.status_code == recorded(39)["response"]["status"]
    first = insert(web, master, ticket_in(form.text), same_site)
    assert first.status_code == 200 and first.json()["itemId"] > 3
    again = insert(web, master, first.json()["nextTicket"], same_site)  # 42
    assert again.status_code == recorded(42)["response"]["status"] == 200
    assert again.json()["nextTicket"] != first.json()["nextTicket"]


def test_our_client_sends_what_the_recorded_browser_sent(master):
    auth = SessionAuth(master.url, fm.USER, fm.PASSWORD, allow_http=True, identifier="t")
    with TikiClient(master.url, auth=auth, generation="A") as client:
        client.insert_item(1, "o", {"title": "Session item A", "amount": "1.5"})
    login = master.requests_to("tiki-login.php")[0]
    expected = recorded(26)["request"]
    assert list(login.form) == list(expected["form"])  # user, pass, ticket, login
    assert login.form["login"] == [""]
    assert urlsplit(login.header("Referer")).path.endswith("/tiki-login_scr.php")
    sent = [r for r in master.requests_to("tiki-ajax_services.php") if r.method == "POST"][-1]
    wanted = {k for k in recorded(27)["request"]["form"] if not k.startswith("fields[")}
    assert wanted - {"controller", "action"} <= set(sent.form)  # we send those in the query
    assert sent.query["action"] == ["insert_item"]
    cookies = {c.split("=", 1)[0].strip() for c in sent.cookie.split(";")}
    assert cookies == {c.split("=", 1)[0] for c in recorded(25)["response"]["headers"][
        "Set-Cookie"]}  # every cookie the master set goes back (36: else it ends the session)
    assert urlsplit(sent.header("Referer")).netloc == urlsplit(master.url).netloc

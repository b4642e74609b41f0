"""Ids and text no database can hold are refused with a 400 or 404, never a 500 (issue 12,
item 11): an id of 2^63 or of 4,300 digits in any UI route, a 4,300-digit `itemId` on Tiki's
item URL, a CR/LF in `next=` after signing in, a bracket index of 4,300 digits on the master.
"""
import pytest

from tests.support import seed
from tests.support.apps import PASSWORD
from tests.support.master_api import ACCEPT, FORM, basic
from tests.support.pages import soup, url
from tests.support.report import record
from tikisync_web.db import database

HUGE_IDS = {"2^63": 2**63, "2^31": 2**31, "4300 digits": int("9" * 4300)}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def ui_rules(app):
    """(endpoint, method, rule) of every UI route that takes an argument, from the URL map."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("tikisync.") and rule.arguments - {"filename"}:
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                found.append((rule.endpoint, method, rule))
    return found


@pytest.fixture
def strict(app):
    # An exception must become the 500 a user would see, not a test-client re-raise.
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


@pytest.mark.reliability
@pytest.mark.parametrize("label", sorted(HUGE_IDS))
def test_an_id_beyond_the_database_is_a_404_on_every_route(strict, auth, label):
    app, client = strict, auth.client
    auth.become("admin")
    with database.connection_context():
        seed.make_tracker()  # so that small ids would exist
    rules = ui_rules(app)
    assert len(rules) > 30
    answers = {}
    for endpoint, method, rule in rules:
        path = url(app, endpoint, **{name: 1 for name in rule.arguments})
        # Swap every "1" segment for the huge id: url_for refuses to build it, a user may type it.
        parts = path.split("/")
        path = "/".join(str(HUGE_IDS[label]) if part == "1" else part for part in parts)
        response = client.open(path, method=method, data={} if method in UNSAFE else None)
        answers[f"{method} {endpoint}"] = response.status_code
    # A 10-digit id above the maximum matches the path's pattern: where the same path also
    # takes another method (GET preview, POST push), werkzeug answers 405 rather than 404.
    allowed = {404, 405} if len(str(HUGE_IDS[label])) <= 10 else {404}
    record("input", "ids no database holds, in every UI route", len(answers),
           errors_500=sum(v >= 500 for v in answers.values()),
           unclear=sum(v not in allowed and v < 500 for v in answers.values()))
    assert {k: v for k, v in answers.items() if v not in allowed} == {}


@pytest.mark.parametrize("item_id", ["9" * 4300, str(2**63), "\u00b2", "\u0663", "-1", "0"])
def test_tikis_item_url_with_an_impossible_id_is_a_404(strict, auth, item_id):
    auth.become("viewer")
    response = auth.client.get(url(strict, "tikisync.view_tracker_item", itemId=item_id))
    assert response.status_code == 404
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize("target", ["/x\r\nSet-Cookie: a=b", "/x\nLocation: //evil.example",
                                    "/ok\x00", "/a\tb", "/\u2028x", "\\\\evil.example/",
                                    "/\\evil.example", "/%0d%0aX: y"])
def test_next_with_control_characters_goes_to_the_dashboard(strict, users, target):
    client = strict.test_client()
    response = client.post(url(strict, "tikisync.login", next=target),
                           data={"username": "admin", "password": PASSWORD})
    if "\x00" in target:
        assert response.status_code == 400  # refused whole: no NUL reaches a view
        return
    assert response.status_code == 303
    location = response.headers["Location"]
    assert not any(ord(c) < 32 or c in "\u2028\u2029\\" for c in location)
    if target.startswith("/%0d"):
        assert location.startswith("/%0d%0aX:")  # percent-encoded: a harmless same-site path
    else:
        assert location == url(strict, "tikisync.dashboard")


def test_the_login_page_keeps_a_good_next(app, users):
    client = app.test_client()
    target = url(app, "tikisync.items", tracker_id=1) + "?q=a%20b"
    response = client.post(url(app, "tikisync.login", next=target),
                           data={"username": "admin", "password": PASSWORD})
    assert response.headers["Location"] == target


@pytest.mark.parametrize("name", ["x[" + "9" * 4300 + "]", "fields[" + "9" * 5000 + "]",
                                  "x[" + "9" * 4300 + "][]"])
def test_a_bracket_index_of_thousands_of_digits_is_a_400_on_the_master(app, users, name):
    client = app.test_client()
    client.send_csrf = False
    target = url(app, "tikisync_master.ajax_services", controller="tracker",
                 action="list_trackers")
    response = client.post(target, data=f"{name}=1", content_type=FORM,
                           headers={**ACCEPT, **basic("admin")})
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == 400 and "Traceback" not in response.get_data(as_text=True)


def test_page_numbers_beyond_reason_are_clamped(app, auth):
    auth.become("viewer")
    with database.connection_context():
        tracker = seed.make_tracker()
        seed.add_item(tracker, title="one")
    response = auth.client.get(url(app, "tikisync.items", tracker_id=tracker.id,
                                   page="9" * 4300))
    assert response.status_code == 200
    assert soup(response).find(id="item-table") is not None


def test_impossible_item_ids_in_a_push_selection_are_ignored(strict, auth, fake_master):
    from tests.support.sync import connect, make_clone

    connect(strict, fake_master)
    with database.connection_context():
        tracker = make_clone(strict, fake_master)
    auth.become("admin")
    for items in (["\u00b2"], ["9" * 5000], [str(2**63)], ["\u0663", "1"]):
        response = auth.client.get(url(strict, "tikisync.push_preview", tracker_id=tracker.id,
                                       items=items))
        assert response.status_code == 200, items


def test_an_impossible_remote_tracker_id_in_the_clone_wizard_goes_back_a_step(strict, auth,
                                                                             fake_master):
    from tests.support.sync import connect

    connect(strict, fake_master)
    auth.become("admin")
    for tracker in ("9" * 4300, str(2**63), "\u00b2", "-3"):
        response = auth.client.get(url(strict, "tikisync.clone_preview", url=fake_master.url,
                                       tracker=tracker))
        assert response.status_code == 302, tracker
        assert response.location.split("?")[0] == url(strict, "tikisync.clone_trackers")


@pytest.mark.parametrize("where", ["form", "query", "name"])
def test_a_nul_character_is_refused_before_the_database_sees_it(strict, auth, where):
    # PostgreSQL refuses NUL in text (a 500 before), SQLite and MariaDB would keep it.
    auth.become("admin")
    target = url(strict, "tikisync.tracker_new")
    data = {"name": "a\x00b"} if where == "form" else {"name": "ok"}
    if where == "name":
        data["x\x00"] = "1"
    response = auth.client.post(target, data=data,
                                query_string={"q": "\x00"} if where == "query" else None)
    assert response.status_code == 400
    assert "NUL" in soup(response).get_text()
    with database.connection_context():
        from tikisync_web.models import Tracker

        assert Tracker.select().count() == 0

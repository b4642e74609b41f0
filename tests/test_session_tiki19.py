"""Tiki 19-23 over tiki-ajax_services.php with a session (issue 13): log in as a browser does,
take the CSRF ticket from the HTML the master serves and from `nextTicket`, write with the
session and a same-site Origin/Referer.

The fake master plays a Tiki whose HTTP Basic is off (the default) and that has no
tiki-api.php, with both ticket schemes recorded from Tiki 24.1 (tests/support/
fake_tiki_session.py): "one-use" (Tiki 19-23) and "session" (24.1 as installed).
"""
import pytest

from tests.support import fake_master as fm
from tests.support.fake_master_http import ApiError
from tests.support.fake_tiki_session import BAD_TICKET
from tests.support.remote_client import make_client
from tests.support.sync import client, config, make_clone
from tikisync_web import credentials as creds
from tikisync_web import items as item_svc
from tikisync_web.models import Item
from tikisync_web.remote import errors
from tikisync_web.remote.auth import SessionAuth
from tikisync_web.remote.client import TikiClient
from tikisync_web.sync import push as push_mod
from tikisync_web.sync import reload as reload_mod


def tiki19(make_master, tickets="one-use", **kw):
    kw.setdefault("basic_off", True)
    return make_master(tickets=tickets, generations="A", version=None, **kw)


def api(master):
    return master.requests_to("tiki-ajax_services.php")


def inserts(master):
    return [r for r in api(master) if r.method == "POST"
            and (r.form.get("action") or r.query.get("action")) == ["insert_item"]]


@pytest.fixture(params=["one-use", "session"])
def cloned(request, app, db, make_master):
    master = tiki19(make_master, tickets=request.param)
    app.config.update(TIKISYNC_HTTP_BACKOFF=0)
    creds.add(config(app), identifier="tiki21", url=master.url, method="session",
              username=fm.USER, secret=fm.PASSWORD, allow_http=True)
    tracker = make_clone(app, master)
    with client(app, master.url) as c:
        counts = reload_mod.reload(tracker, c)
    assert counts["added"] == 3
    return master, tracker


def push(app, tracker, master):
    with client(app, master.url) as c:
        return push_mod.push(tracker, c, push_mod.plan_push(tracker), username="t")


def test_clone_and_reload_read_with_the_session_only(app, cloned):
    master, tracker = cloned
    assert Item.select().where(Item.tracker == tracker).count() == 3
    requests = api(master)
    assert requests and all(r.authorization is None for r in requests)
    assert all("PHPSESSID=" in r.cookie and "PHPSESSIDCV=" in r.cookie for r in requests)
    logins = master.requests_to("tiki-login.php")
    assert logins and all(r.header("Origin") == master.origin for r in logins)


def test_push_new_items_with_tickets_and_the_masters_origin(app, cloned):
    master, tracker = cloned
    for title in ("New A", "New B"):
        item_svc.create_item(tracker, {"title": title, "amount": "2"}, username="t")
    result = push(app, tracker, master)
    assert result["failed"] == [] and len(result["pushed"]) == 2
    titles = sorted(i["fields"]["title"] for i in master.tracker_items(1))
    assert titles.count("New A") == 1 and titles.count("New B") == 1
    sent = inserts(master)
    assert len(sent) == 2
    for request in sent:
        assert request.form["ticket"][0] and request.authorization is None
        assert request.header("Origin") == master.origin
        assert request.header("Referer").startswith(master.url + "/")
    # Each insert sent the nextTicket of a reply before it (the reads' replies hand them out
    # too): no insert form was needed.
    assert [r for r in api(master) if r.method == "GET"] == []
    if master.settings.tickets == "one-use":
        assert sent[0].form["ticket"] != sent[1].form["ticket"]
    local = {i.values["title"]: i.remote_id for i in Item.select().where(Item.tracker == tracker)}
    assert local["New A"] and local["New B"] and local["New A"] != local["New B"]


def test_push_an_edit(app, cloned):
    master, tracker = cloned
    first = Item.get(Item.tracker == tracker, Item.remote_id == 1)
    item_svc.update_item(first, {"title": "First item, edited here"}, username="t")
    result = push(app, tracker, master)
    assert [p["remote_id"] for p in result["pushed"]] == [1] and result["failed"] == []
    assert master.items[1]["fields"]["title"] == "First item, edited here"


def test_a_refused_ticket_is_tried_once_more_after_a_fresh_login(app, cloned):
    master, tracker = cloned
    item_svc.create_item(tracker, {"title": "Before"}, username="t")
    assert push(app, tracker, master)["failed"] == []
    logins = len(master.requests_to("tiki-login.php"))
    master.session_store.by_id.clear()  # the master restarted: every session and ticket gone
    item_svc.create_item(tracker, {"title": "After"}, username="t")
    with client(app, master.url) as c:
        c.auth.ticket = "a-ticket-of-a-session-that-is-gone"
        result = push_mod.push(tracker, c, push_mod.plan_push(tracker), username="t")
    assert result["failed"] == [] and [p["kind"] for p in result["pushed"]] == ["new"]
    assert [i["fields"]["title"] for i in master.tracker_items(1)].count("After") == 1
    assert len(master.requests_to("tiki-login.php")) > logins


@pytest.mark.parametrize("scheme", ["one-use", "session"])
def test_an_insert_right_after_the_login_takes_the_ticket_of_the_insert_form(make_master,
                                                                              scheme):
    master = tiki19(make_master, tickets=scheme)
    auth = SessionAuth(master.url, fm.USER, fm.PASSWORD, allow_http=True, identifier="tiki21")
    with TikiClient(master.url, auth=auth, generation="A") as c:
        first = c.insert_item(1, "o", {"title": "first"})
        second = c.insert_item(1, "o", {"title": "second"})
    assert first["itemId"] > 3 and second["itemId"] > first["itemId"]
    forms = [r for r in api(master) if r.method == "GET"]
    assert len(forms) == 1 and forms[0].header("X-Requested-With") == "XMLHttpRequest"
    assert len(inserts(master)) == 2  # no ticket refused, none retried


def test_a_ticket_refused_twice_is_a_failure_and_nothing_is_inserted(make_master):
    master = tiki19(make_master)
    auth = SessionAuth(master.url, fm.USER, fm.PASSWORD, allow_http=True, identifier="tiki21")
    with TikiClient(master.url, auth=auth, generation="A", backoff=0) as c:
        c.list_trackers()
        def refuse(record, params, sid):  # every insert's ticket is refused; logins work
            raise ApiError(401, BAD_TICKET, as_json=True)

        master._ticket_refused = refuse
        with pytest.raises(errors.Unauthorized) as caught:
            c.insert_item(1, "o", {"title": "never"})
    assert "does not match a ticket on the server" in str(caught.value)
    assert len(master.requests_to("tiki-login.php")) == 2  # the second try logged in afresh
    assert len(inserts(master)) == 2 and len(master.tracker_items(1)) == 3


def test_a_reply_without_item_id_is_a_failure(app, cloned):
    master, tracker = cloned
    mine = item_svc.create_item(tracker, {"title": "Refused"}, username="t")
    master.settings.insert_without_id = True
    result = push(app, tracker, master)
    assert result["pushed"] == [] and [f["id"] for f in result["failed"]] == [mine.id]
    assert "without an item id" in result["failed"][0]["error"]
    assert Item.get_by_id(mine.id).remote_id is None


@pytest.mark.parametrize("fault", ["cut_mid", "500_applied"])
def test_a_lost_insert_reply_is_adopted_on_retry_never_duplicated(app, cloned, fault):
    master, tracker = cloned
    mine = item_svc.create_item(tracker, {"title": f"lost {fault}", "amount": "4"},
                                username="t")
    master.faults.arm(fault, on="insert_item")
    push(app, tracker, master)
    master.faults.clear()
    push(app, tracker, master)
    copies = [i for i in master.tracker_items(1) if i["fields"]["title"] == f"lost {fault}"]
    assert len(copies) == 1
    assert Item.get_by_id(mine.id).remote_id == copies[0]["itemId"]
    assert push(app, tracker, master) == {"pushed": [], "failed": [], "skipped": []}


def test_a_wrong_password_says_so(make_master):
    master = tiki19(make_master)
    auth = SessionAuth(master.url, fm.USER, "wrong", allow_http=True, identifier="tiki21")
    with TikiClient(master.url, auth=auth, generation="A") as c, \
            pytest.raises(errors.Unauthorized) as caught:
        c.list_trackers()
    assert "check the user name and password" in str(caught.value)
    assert api(master) == []


def test_basic_alone_cannot_insert_on_such_a_tiki(make_master):
    master = tiki19(make_master, tickets="session", basic_off=False)  # login_http_basic=always
    with make_client(master, "A") as c, pytest.raises(errors.MissingItemId) as caught:
        c.insert_item(1, "o", {"title": "x"})
    assert "the method session" in str(caught.value)
    assert len(master.tracker_items(1)) == 3


def test_a_session_that_ended_on_the_master_logs_in_again_for_a_read(make_master):
    master = tiki19(make_master)
    auth = SessionAuth(master.url, fm.USER, fm.PASSWORD, allow_http=True, identifier="tiki21")
    with TikiClient(master.url, auth=auth, generation="A", backoff=0) as c:
        assert len(list(c.iter_items(1))) == 3
        master.session_store.by_id.clear()  # the session's lifetime is over
        assert len(list(c.iter_items(1))) == 3
    assert len(master.requests_to("tiki-login.php")) == 2


def test_a_user_without_rights_is_not_logged_in_again_and_again(make_master):
    master = tiki19(make_master, limited_users={fm.USER})
    auth = SessionAuth(master.url, fm.USER, fm.PASSWORD, allow_http=True, identifier="tiki21")
    with TikiClient(master.url, auth=auth, generation="A", backoff=0) as c, \
            pytest.raises(errors.Forbidden) as caught:
        list(c.iter_items(1))
    assert "this user lacks admin_trackers" in str(caught.value)
    assert len(master.requests_to("tiki-login.php")) == 2  # one new login, then the answer


def test_a_session_that_ended_before_an_update_logs_in_again(make_master):
    master = tiki19(make_master)
    auth = SessionAuth(master.url, fm.USER, fm.PASSWORD, allow_http=True, identifier="tiki21")
    with TikiClient(master.url, auth=auth, generation="A", backoff=0) as c:
        c.list_trackers()
        master.session_store.by_id.clear()  # its lifetime ended between the read and the write
        c.update_item(1, 2, None, {"title": "edited after a new login"})
    assert master.items[2]["fields"]["title"] == "edited after a new login"
    assert len(master.requests_to("tiki-login.php")) == 2


def test_a_login_cut_before_its_answer_is_no_write_that_may_have_been_applied(make_master):
    master = tiki19(make_master)
    master.faults.arm("cut_before", on="login")
    auth = SessionAuth(master.url, fm.USER, fm.PASSWORD, allow_http=True, identifier="tiki21")
    with TikiClient(master.url, auth=auth, generation="A", backoff=0) as c, \
            pytest.raises(errors.ConnectionFailed) as caught:
        c.update_item(1, 2, None, {"title": "never sent"})
    assert "closed before the answer" in str(caught.value)
    assert not caught.value.maybe_written and "may have been applied" not in str(caught.value)
    assert master.items[2]["fields"]["title"] == "Second item"

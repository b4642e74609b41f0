"""examples/portal as a host, through Flask's test client (tests/test_wheel.py runs it from the
installed wheel under gunicorn): the portal signs people in and maps its groups to our roles
(TikiSync.user_loader); we never show a second sign-in; its layout and its tikisync/_nav.html
are used; its /team page frames our dashboard; every page under /sync carries the prefix."""
import importlib.util
import sys
from collections import deque
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.support import seed
from tests.support.apps import Client, finish_app
from tests.support.pages import soup, url
from tests.test_embedding import Mount
from tikisync_web import accounts
from tikisync_web.db import database
from tikisync_web.models import Item, User

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "portal" / "portal.py"
PEOPLE = {"alice": ["it", "alice-pw-1"], "bob": ["staff", "bob-pw-12"],
          "carol": ["guests", "carol-pw-1"], "dan": ["visitors", "dan-pw-123"]}


@pytest.fixture(scope="module")
def portal_module():
    spec = importlib.util.spec_from_file_location("portal", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    sys.modules["portal"] = module  # Flask finds the portal's templates from its module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("portal", None)


@pytest.fixture
def portal(portal_module, db_url, tmp_path):
    app = portal_module.create_portal({
        "TESTING": True, "SECRET_KEY": "portal-secret", "TIKISYNC_DATABASE": db_url,
        "TIKISYNC_JOB_RUNNER": "inline", "PEOPLE": PEOPLE})
    app.test_client_class = Client
    yield app
    finish_app()


def sign_in(portal, login, next_page=None):
    web = portal.test_client()
    answer = web.post(url(portal, "sign_in", next=next_page),
                      data={"login": login, "password": PEOPLE[login][1]})
    assert answer.status_code == 303, answer.get_data(as_text=True)[:300]
    return web


def test_anonymous_visitors_sign_in_with_the_portal_never_with_us(portal):
    web = portal.test_client()
    dashboard = url(portal, "tikisync.dashboard")
    answer = web.get(dashboard)
    assert answer.status_code == 302
    assert urlsplit(answer.location).path == url(portal, "sign_in")
    assert dict(parse_qsl(urlsplit(answer.location).query)) == {"next": dashboard}
    ours = web.get(url(portal, "tikisync.login", next=dashboard))
    assert urlsplit(ours.location).path == url(portal, "sign_in")
    page = soup(web.get(answer.location))
    assert page.find("h1").get_text() == "Sign in to the intranet"
    back = web.post(answer.location, data={"login": "alice", "password": "alice-pw-1"})
    assert back.location == dashboard
    assert web.get(url(portal, "tikisync.login")).location == dashboard  # signed in: no form


def test_portal_groups_become_our_roles(portal):
    alice = sign_in(portal, "alice")
    page = soup(alice.get(url(portal, "tikisync.dashboard")))
    assert page.select_one(".portal-header") is not None  # the portal's layout
    assert page.select_one("nav.portal-subnav .portal-role").get_text() == "alice: admin"
    assert page.find("button", string="Sign out").find_parent("form")["action"] == url(
        portal, "sign_out")  # the portal's sign-out, not ours
    assert alice.get(url(portal, "tikisync.users")).status_code == 200
    bob = sign_in(portal, "bob")
    assert bob.get(url(portal, "tikisync.users")).status_code == 403
    tracker = seed.make_tracker()
    assert bob.get(url(portal, "tikisync.item_new", tracker_id=tracker.id)).status_code == 200
    carol = sign_in(portal, "carol")
    assert carol.get(url(portal, "tikisync.item_new", tracker_id=tracker.id)).status_code == 403
    assert carol.get(url(portal, "tikisync.items", tracker_id=tracker.id)).status_code == 200
    with database.connection_context():
        roles = {u.username: u.role for u in User.select()}
        assert roles == {"alice": "admin", "bob": "editor", "carol": "viewer"}
        # They sign in through the portal: no password of ours opens their account.
        assert accounts.authenticate("alice", "alice-pw-1") is None


def test_an_edit_is_recorded_under_the_portal_login(portal):
    tracker = seed.make_tracker()
    bob = sign_in(portal, "bob")
    added = bob.post(url(portal, "tikisync.item_new", tracker_id=tracker.id),
                     data={"v_title": "From the portal", "status": "o"})
    assert added.status_code == 303
    assert "From the portal" in soup(bob.get(added.location)).get_text()
    with database.connection_context():
        item = Item.get(Item.tracker == tracker.id)
        assert (item.values["title"], item.modified_by) == ("From the portal", "bob")


def test_a_role_changed_in_the_portal_follows_here(portal, portal_module):
    alice = sign_in(portal, "alice")
    assert alice.get(url(portal, "tikisync.users")).status_code == 200
    # The portal moves alice to the guests (here: the same portal restarted with that group).
    moved = portal_module.create_portal({**portal.config,
                                         "PEOPLE": {**PEOPLE, "alice": ["guests", "pw-alice"]}})
    web = moved.test_client()
    with web.session_transaction() as session:
        session["portal_login"] = "alice"
    assert web.get(url(moved, "tikisync.users")).status_code == 403
    assert web.get(url(moved, "tikisync.dashboard")).status_code == 200
    with database.connection_context():
        assert User.get(User.username == "alice").role == "viewer"


def test_a_group_without_a_role_is_told_so_without_a_loop(portal):
    dan = sign_in(portal, "dan")
    answer = dan.get(url(portal, "tikisync.dashboard"))
    assert urlsplit(answer.location).path == url(portal, "sign_in")
    told = dan.get(answer.location)
    assert told.status_code == 403
    assert "your group has no access" in soup(told).get_text()
    assert soup(told).find("form", class_="portal-form") is None


def test_an_account_disabled_here_is_refused_not_sent_to_sign_in(portal):
    alice = sign_in(portal, "alice")
    alice.get(url(portal, "tikisync.dashboard"))
    bob = sign_in(portal, "bob")
    bob.get(url(portal, "tikisync.dashboard"))
    with database.connection_context():
        bob_id = User.get(User.username == "bob").id
    disabled = alice.post(url(portal, "tikisync.user_edit", user_id=bob_id),
                          data={"role": "editor"})  # "active" left unchecked
    assert disabled.status_code == 303
    answer = bob.get(url(portal, "tikisync.dashboard"))
    assert answer.status_code == 403
    assert "disabled" in soup(answer).get_text()


def test_the_team_page_frames_the_dashboard_without_the_portal_header(portal):
    alice = sign_in(portal, "alice")
    team = soup(alice.get(url(portal, "team")))
    frame = team.find("iframe")
    assert frame["src"] == url(portal, "tikisync.dashboard") and frame["title"]
    framed = alice.get(frame["src"], headers={"Sec-Fetch-Dest": "iframe",
                                              "Sec-Fetch-Site": "same-origin"})
    assert framed.status_code == 200
    assert framed.headers["Content-Security-Policy"].startswith("frame-ancestors 'self'")
    page = soup(framed)
    assert page.select_one(".portal-header") is None
    assert page.select_one(".tikisync h1").get_text() == "Trackers"


def test_writes_still_need_the_csrf_token(portal):
    alice = sign_in(portal, "alice")
    alice.send_csrf = False
    answer = alice.post(url(portal, "tikisync.tracker_new"), data={"name": "No token"})
    assert answer.status_code == 400
    assert "expired" in soup(answer).get_text()


def test_every_page_under_sync_carries_the_prefix(portal):
    """The crawl of tests/test_embedding.py, where the portal's own links are allowed too."""
    tracker = seed.make_tracker()
    seed.bulk_items(tracker, 25)
    mount = Mount(portal, url_prefix="/sync")
    with mount.client.session_transaction() as session:
        session["portal_login"] = "alice"
    adapter = portal.url_map.bind("localhost")
    queue, seen, reached = deque([mount.url("tikisync.dashboard")]), set(), set()
    while queue:
        target = queue.popleft()
        endpoint = mount.endpoint(target)
        key = (endpoint, urlsplit(target).path if endpoint.endswith("static") else "",
               frozenset(k for k, _ in parse_qsl(urlsplit(target).query)))
        if key in seen:
            continue
        seen.add(key)
        answer = mount.get(target)
        assert answer.status_code == 200, (target, answer.status_code)
        reached.add(endpoint)
        if answer.mimetype != "text/html":
            continue
        for tag in soup(answer).find_all(True):
            link = tag.get("href") or tag.get("src") or tag.get("hx-get")
            if not link or link.startswith("#") or tag.name == "form":
                continue
            if urlsplit(link).path.startswith("/sync/"):
                mount.endpoint(link)  # a route of ours, under the prefix
                queue.append(link)
            else:
                assert not adapter.match(urlsplit(link).path)[0].startswith("tikisync"), link
        assert len(seen) < 300
    assert {"tikisync.dashboard", "tikisync.items", "tikisync.item", "tikisync.users",
            "tikisync.settings", "tikisync.static"} <= reached


def test_a_loader_giving_an_unknown_role_is_a_clear_error(db):
    with pytest.raises(ValueError, match="the role 'boss'; roles are viewer, editor, admin"):
        accounts.host_user(("eve", "boss"))
    with pytest.raises(TypeError, match="returns \\(username, role\\) or None"):
        accounts.host_user("eve")

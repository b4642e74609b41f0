"""Browser: tikisync-web inside a portal's frame, on sites other than 127.0.0.1 (the conftest
maps *.test to loopback), so cookies, https and framing behave as on an intranet:
- across sites over https (a certificate made now): the portal at https://portal.test frames
  the app at https://sync.test; sign in, edit and push, all inside the frame;
- a portal the allow-list does not name: the browser refuses to frame us;
- the same origin through the portal's reverse proxy, over plain http: sign in, edit, push;
- a frame whose cookie the browser refuses (plain http across sites): "Open in a new tab",
  and signing in there works.
"""

import pytest
from flask import Flask
from playwright.sync_api import expect

from tests.support.apps import PASSWORD, finish_app, make_app
from tests.support.browser import LiveServer
from tests.support.proxy import ReverseProxy
from tests.support.sync import client, connect, make_clone
from tests.support.tls import make_certificate
from tests.support.waiting import wait_until
from tikisync_web.db import database
from tikisync_web.models import Item
from tikisync_web.sync import reload as reload_mod

FRAME = "iframe[title='Tracker synchronization']"


def portal_page(frame):
    """A portal of its own (no tikisync in it): one page framing frame["url"] (set once the
    framed server has its port)."""
    portal = Flask("portal_site")

    @portal.route("/")
    def home():
        return (f"<!doctype html><title>Portal</title><h1>Intranet portal</h1>"
                f"<iframe src='{frame['url']}' title='Tracker synchronization' "
                f"style='width:100%;height:640px;border:0'></iframe>")

    return portal


@pytest.fixture
def certificate(tmp_path):
    return make_certificate(tmp_path, names=("portal.test", "sync.test", "other.test"))


@pytest.fixture
def site_context(browser):
    # The certificate was made by the test: no authority vouches for it.
    context = browser.new_context(ignore_https_errors=True)
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def servers():
    started = []

    def start(app, **kwargs):
        server = LiveServer(app, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
    finish_app()


def clone_of(app, master):
    """A clone of the fake master's tracker, reloaded; returns (tracker, the item #1)."""
    with database.connection_context():
        connect(app, master)
        tracker = make_clone(app, master)
        with client(app, master.url) as c:
            reload_mod.reload(tracker, c)
        return tracker, Item.get(Item.remote_id == 1)


def sign_in_framed(frame, username="admin"):
    frame.get_by_label("Username").fill(username)
    frame.get_by_label("Password").fill(PASSWORD)
    frame.get_by_role("button", name="Sign in").click()
    expect(frame.get_by_role("heading", name="Trackers")).to_be_visible()


def go_within(inner, url):
    """Navigate the frame from inside it, as a link in it would, and wait until the new page has
    loaded with its styles: a click sent while the old page is still shown, or before the styles
    move the page's elements, lands on nothing."""
    inner.evaluate("url => { location.href = url }", url)
    inner.wait_for_url(url, wait_until="load")


def edit_and_push(page, frame, base, tracker, item, master):
    """In the frame: open the item, edit its title, push it from the sync tab."""
    inner = page.main_frame.child_frames[0]
    go_within(inner, f"{base}/items/{item.id}")
    frame.get_by_role("link", name="Edit", exact=True).click()
    frame.get_by_label("Title").fill("Edited inside the portal")
    frame.get_by_role("button", name="Save").click()
    expect(frame.locator("main, .tikisync").first).to_contain_text("Edited inside the portal")
    go_within(inner, f"{base}/trackers/{tracker.id}/sync")
    frame.locator("#sync-modified input[name=items]").first.check()
    frame.get_by_role("button", name="Preview the push of the selected items").click()
    expect(frame.locator("#push-plan")).to_contain_text("Edited inside the portal")
    frame.get_by_role("button", name="Push this item").click()
    expect(frame.locator("[data-state=done]")).to_be_visible()
    assert master.items[1]["fields"]["title"] == "Edited inside the portal"


def test_cross_site_https_frame_signs_in_edits_and_pushes(site_context, servers, certificate,
                                                         db_url, tmp_path, users, fake_master):
    frame = {}
    portal = servers(portal_page(frame), tls=certificate, name="portal.test")
    app = make_app(db_url, tmp_path, TIKISYNC_JOB_RUNNER="thread", TIKISYNC_POLL_SECONDS=0.3,
                   TIKISYNC_FRAME_ANCESTORS=f"https://portal.test:{portal.port}")
    sync = servers(app, tls=certificate, name="sync.test")
    frame["url"] = sync.url + "/"
    tracker, item = clone_of(app, fake_master)
    page = site_context.new_page()
    page.goto(portal.url + "/")
    frame = page.frame_locator(FRAME)
    expect(frame.get_by_role("heading", name="Sign in")).to_be_visible()
    sign_in_framed(frame)
    cookie = next(c for c in site_context.cookies() if c["name"] == "session")
    assert (cookie["domain"], cookie["sameSite"], cookie["secure"]) == (
        "sync.test", "None", True)
    assert page.url == portal.url + "/"  # all of it happened inside the portal's page
    edit_and_push(page, frame, sync.url, tracker, item, fake_master)


def test_a_portal_not_in_the_allow_list_cannot_frame_us(site_context, servers, certificate, db_url,
                                                        tmp_path, users):
    app = make_app(db_url, tmp_path, TIKISYNC_FRAME_ANCESTORS="https://other.test")
    sync = servers(app, tls=certificate, name="sync.test")
    portal = servers(portal_page({"url": sync.url + "/login"}), tls=certificate,
                     name="portal.test")
    page = site_context.new_page()
    refusals = []
    page.on("console", lambda message: refusals.append(message.text)
            if "frame-ancestors" in message.text else None)
    page.goto(portal.url + "/")
    wait_until(lambda: refusals, tries=100, pause=0.1, what="Chromium to refuse the frame")
    assert "https://other.test" in refusals[0]
    assert not page.main_frame.child_frames[0].url.startswith(sync.url)
    expect(page.frame_locator(FRAME).get_by_label("Username")).to_have_count(0)
    # The app itself, opened on its own, is fine.
    page.goto(sync.url + "/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_same_origin_through_the_portal_proxy_over_plain_http(site_context, servers, db_url,
                                                              tmp_path, users, fake_master):
    app = make_app(db_url, tmp_path, TIKISYNC_JOB_RUNNER="thread", TIKISYNC_POLL_SECONDS=0.3,
                   TIKISYNC_BEHIND_PROXY=True)
    sync = servers(app)
    proxy = ReverseProxy(sync.url, prefix="/sync", home=(
        b"<!doctype html><title>Portal</title><h1>Intranet portal</h1>"
        b"<iframe src='/sync/' title='Tracker synchronization' "
        b"style='width:100%;height:640px;border:0'></iframe>"))
    try:
        tracker, item = clone_of(app, fake_master)
        portal = f"http://portal.test:{proxy.port}"
        page = site_context.new_page()
        page.goto(portal + "/")
        frame = page.frame_locator(FRAME)
        sign_in_framed(frame)
        assert page.main_frame.child_frames[0].url == portal + "/sync/"
        assert frame.locator("link[rel=stylesheet]").first.get_attribute("href") == (
            "/sync/static/tikisync/tikisync.css")
        cookie = next(c for c in site_context.cookies() if c["name"] == "session")
        assert (cookie["domain"], cookie["secure"]) == ("portal.test", False)
        edit_and_push(page, frame, portal + "/sync", tracker, item, fake_master)
    finally:
        proxy.stop()


def test_a_frame_whose_cookie_is_refused_offers_a_new_tab(site_context, servers, db_url, tmp_path,
                                                          users):
    frame = {}
    portal = servers(portal_page(frame), name="portal.test")
    app = make_app(db_url, tmp_path, TIKISYNC_FRAME_ANCESTORS=f"http://portal.test:{portal.port}")
    sync = servers(app, name="sync.test")
    frame["url"] = sync.url + "/"
    page = site_context.new_page()
    page.goto(portal.url + "/")
    frame = page.frame_locator(FRAME)
    expect(frame.get_by_role("heading", name="Open tikisync in a new tab")).to_be_visible()
    expect(frame.locator("#cookie-refused-reason")).to_contain_text("over plain http")
    expect(frame.get_by_label("Password")).to_have_count(0)  # no sign-in that must fail
    with page.expect_popup() as opened:
        frame.get_by_role("link", name="Open in a new tab").click()
    tab = opened.value
    expect(tab.get_by_role("heading", name="Sign in")).to_be_visible()
    assert tab.url.startswith(sync.url + "/")
    tab.get_by_label("Username").fill("admin")
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Sign in").click()
    expect(tab.get_by_role("heading", name="Trackers")).to_be_visible()

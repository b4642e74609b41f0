"""Embedding in a portal's iframe (browser_policy.py): CSP frame-ancestors from the allow-list,
the session cookie per request (cross-site frames on https only), Origin checked on writes,
misconfiguration said at start-up, and a frame whose cookie is refused offering a new tab
instead of a "form expired" loop. The browser side is tests/browser/test_portal_browser.py."""
import logging

import pytest
from flask import Flask

from tests.support.apps import PASSWORD, make_app
from tests.support.pages import soup, url
from tikisync_web import TikiSync
from tikisync_web.config import SettingError

PORTAL = "https://portal.example.org"
FRAMED = {"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode":
          "navigate"}
HTTPS = {"base_url": "https://sync.example.org"}


def framed_app(db_url, tmp_path, ancestors=f"'self' {PORTAL}", **config):
    return make_app(db_url, tmp_path, TIKISYNC_FRAME_ANCESTORS=ancestors, **config)


def cookie_of(response):
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, response.headers
    return {part.strip().split("=")[0].lower(): part.strip() for part in cookies[0].split(";")}


def sign_in(client, app, **kwargs):
    """Sign in through the form, with the token the form carries (as a browser does)."""
    form = soup(client.get(url(app, "tikisync.login"), base_url=kwargs.get("base_url")))
    token = form.find("input", attrs={"name": "csrf_token"})["value"]
    client.send_csrf = False
    return client.post(url(app, "tikisync.login"), data={
        "csrf_token": token, "username": "admin", "password": PASSWORD}, **kwargs)


def test_default_allows_only_same_origin_frames(app, client):
    response = client.get(url(app, "tikisync.login"))
    assert response.headers["Content-Security-Policy"] == "frame-ancestors 'self'"


def test_allow_list_becomes_frame_ancestors(db_url, tmp_path):
    portal = framed_app(db_url, tmp_path, ancestors=f"self, {PORTAL} https://*.intranet.example")
    page = portal.test_client().get(url(portal, "tikisync.login"))
    assert page.headers["Content-Security-Policy"] == (
        f"frame-ancestors 'self' {PORTAL} https://*.intranet.example")


def test_cross_site_cookie_on_https_only(db_url, tmp_path, users):
    portal = framed_app(db_url, tmp_path)
    secure = cookie_of(sign_in(portal.test_client(), portal, **HTTPS))
    assert secure["samesite"] == "SameSite=None"
    assert {"secure", "partitioned", "httponly"} <= set(secure)
    # The same app over plain http: a Secure cookie would be dropped, so it is not Secure, and
    # a SameSite=None cookie without Secure is refused by browsers, so it is not None either.
    plain = cookie_of(sign_in(portal.test_client(), portal))
    assert "secure" not in plain and "partitioned" not in plain
    assert plain.get("samesite", "").lower() != "samesite=none"
    # Signing in over plain http works (the cookie comes back): the "form expired".
    web = portal.test_client()
    assert sign_in(web, portal).status_code == 303
    assert web.get(url(portal, "tikisync.dashboard")).status_code == 200


def test_standalone_cookie_without_framing_is_not_cross_site(app, client, users):
    cookie = cookie_of(sign_in(client, app, **HTTPS))
    assert cookie.get("samesite", "").lower() != "samesite=none"
    assert "partitioned" not in cookie


def test_writes_from_another_origin_are_refused_when_framed_cross_site(db_url, tmp_path, users):
    portal = framed_app(db_url, tmp_path)
    web = portal.test_client()
    refused = sign_in(web, portal, headers={"Origin": "https://evil.example.net"}, **HTTPS)
    assert refused.status_code == 400
    assert "came from https://evil.example.net" in soup(refused).get_text()
    assert web.get(url(portal, "tikisync.dashboard"), **HTTPS).status_code == 302  # signed out
    # Not even the portal that frames us may post: our own pages do.
    assert sign_in(web, portal, headers={"Origin": PORTAL}, **HTTPS).status_code == 400
    own = sign_in(web, portal, headers={"Origin": "https://sync.example.org"}, **HTTPS)
    assert own.status_code == 303


def test_plain_http_origins_are_said_at_start_up(db_url, tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        framed_app(db_url, tmp_path, ancestors="http://portal.intranet:8899")
    said = [r.getMessage() for r in caplog.records if "FRAME_ANCESTORS" in r.getMessage()]
    assert len(said) == 1
    assert "plain-http origins (http://portal.intranet:8899)" in said[0]
    assert "reverse proxy" in said[0]
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        framed_app(db_url, tmp_path / "b")
    assert not [r for r in caplog.records if "FRAME_ANCESTORS" in r.getMessage()]


def test_a_host_cookie_that_cannot_cross_sites_is_said_at_start_up(db_url, tmp_path, caplog):
    host = Flask("framed_host", root_path=str(tmp_path))
    host.config.update(SECRET_KEY="s", TIKISYNC_DATABASE=db_url,
                       TIKISYNC_FRAME_ANCESTORS=PORTAL)
    with caplog.at_level(logging.WARNING):
        TikiSync(host, url_prefix="/sync")
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "SESSION_COOKIE_SAMESITE='None'" in said
    assert host.config.get("SESSION_COOKIE_SAMESITE") is None  # the host's config is its own


def test_a_bad_allow_list_stops_the_start(db_url, tmp_path):
    with pytest.raises(SettingError, match="TIKISYNC_FRAME_ANCESTORS=.*'https://a;b'"):
        framed_app(db_url, tmp_path, ancestors="https://a;b")


def test_first_page_in_a_plain_http_cross_site_frame_offers_a_new_tab(db_url, tmp_path, users):
    portal = framed_app(db_url, tmp_path, ancestors="http://portal.intranet:8899")
    web = portal.test_client()
    login = url(portal, "tikisync.login", next="/trackers/1/items")
    page = web.get(login, headers=FRAMED)
    assert page.status_code == 200
    html = soup(page)
    assert html.find("h1").get_text() == "Open tikisync in a new tab"
    assert "over plain http" in html.select_one("#cookie-refused-reason").get_text()
    link = html.find("a", string="Open in a new tab")
    assert link["target"] == "_blank" and link["href"] == login
    assert html.find("form", attrs={"method": "post"}) is None  # no sign-in that must fail
    # The same page outside the frame is the sign-in form, which works.
    assert soup(web.get(login)).find("input", attrs={"name": "password"}) is not None
    assert sign_in(web, portal).status_code == 303


def test_first_page_in_an_https_cross_site_frame_is_the_page(db_url, tmp_path, users):
    portal = framed_app(db_url, tmp_path)
    page = portal.test_client().get(url(portal, "tikisync.login"), headers=FRAMED, **HTTPS)
    assert soup(page).find("input", attrs={"name": "password"}) is not None


def test_a_post_whose_cookie_was_refused_says_why_not_form_expired(db_url, tmp_path, users):
    portal = framed_app(db_url, tmp_path)
    web = portal.test_client()
    form = soup(web.get(url(portal, "tikisync.login"), **HTTPS))
    token = form.find("input", attrs={"name": "csrf_token"})["value"]
    web.delete_cookie("session", domain="sync.example.org")  # what the browser refused to keep
    web.send_csrf = False
    answer = web.post(url(portal, "tikisync.login"), headers={"Sec-Fetch-Dest": "iframe"},
                      data={"csrf_token": token, "username": "admin", "password": PASSWORD},
                      **HTTPS)
    assert answer.status_code == 400
    text = soup(answer).get_text()
    assert "expired" not in text
    assert "did not keep this site's cookie inside another site's page" in text
    assert soup(answer).find("a", string="Open in a new tab")["target"] == "_blank"


def test_a_secure_cookie_over_plain_http_is_named_as_the_reason(db_url, tmp_path, users):
    app = make_app(db_url, tmp_path, SESSION_COOKIE_SECURE=True)
    web = app.test_client()
    token = web.csrf_token()
    web.delete_cookie("session", domain="localhost")
    web.send_csrf = False
    answer = web.post(url(app, "tikisync.login"),
                      data={"csrf_token": token, "username": "admin", "password": PASSWORD})
    assert answer.status_code == 400
    assert "marked Secure, but the page came over plain http" in soup(answer).get_text()


def test_a_stale_token_with_the_cookie_is_still_form_expired(app, client, users):
    client.send_csrf = False
    client.get(url(app, "tikisync.login"))
    answer = client.post(url(app, "tikisync.login"), headers={"Sec-Fetch-Dest": "iframe"},
                         data={"csrf_token": "stale", "username": "admin",
                               "password": PASSWORD})
    assert answer.status_code == 400
    assert "The form has expired" in soup(answer).get_text()


def test_the_sign_in_page_asks_whether_its_cookie_came_back(db_url, tmp_path, users):
    portal = framed_app(db_url, tmp_path, ancestors="http://portal.intranet:8899")
    web = portal.test_client()
    login = url(portal, "tikisync.login", next="/trackers/1/items")
    probe = soup(web.get(login)).select_one("#tikisync-signin [hx-get]")
    assert probe["hx-trigger"] == "load" and probe["hx-target"] == "#tikisync-signin"
    # The cookie came back (a browser that keeps it): nothing to say, nothing swapped.
    assert web.get(probe["hx-get"], headers={"HX-Request": "true"}).status_code == 204
    # Once the cookie is there, the page no longer asks.
    assert soup(web.get(login)).select_one("#tikisync-signin [hx-get]") is None
    # A browser that refused it, in a frame (our tikisync.js says so over plain http).
    refused = portal.test_client().get(probe["hx-get"], headers={
        "HX-Request": "true", "HX-Target": "tikisync-signin", "X-Tikisync-Framed": "1"})
    assert refused.status_code == 200
    box = soup(refused).find(True)
    assert box["id"] == "tikisync-signin"  # the fragment replaces the sign-in box
    assert "over plain http" in box.select_one("#cookie-refused-reason").get_text()
    assert box.find("a", string="Open in a new tab")["href"] == login
    # Without JavaScript's word on framing, the reason still names the portal case.
    plain = soup(portal.test_client().get(probe["hx-get"]))
    assert "inside another site's page (a portal) over plain http" in plain.get_text()
    assert plain.find("a", string="Open in a new tab") is not None

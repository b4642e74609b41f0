"""Embedding in a portal's iframe: CSP frame-ancestors and cross-site session cookies."""
from tests.support.apps import make_app
from tests.support.pages import url


def test_default_allows_only_same_origin_frames(app, client):
    response = client.get(url(app, "tikisync.login"))
    assert response.headers["Content-Security-Policy"].startswith("frame-ancestors 'self';")


def test_portal_allow_list_and_cross_site_cookie(db_url, tmp_path, users):
    portal = make_app(db_url, tmp_path,
                      TIKISYNC_FRAME_ANCESTORS="'self' https://portal.example.org")
    web = portal.test_client()
    page = web.get(url(portal, "tikisync.login"))
    assert page.headers["Content-Security-Policy"].startswith(
        "frame-ancestors 'self' https://portal.example.org;")
    answer = web.post(url(portal, "tikisync.login"),
                      data={"username": "admin", "password": "correct horse battery"})
    assert answer.status_code == 303
    cookie = answer.headers["Set-Cookie"]
    assert "SameSite=None" in cookie and "Secure" in cookie and "HttpOnly" in cookie

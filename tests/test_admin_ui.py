"""Admin pages: the "Synchronize remote trackers" setting, users and roles, API tokens,
signing in and out."""
import pytest

from tests.support.apps import PASSWORD, session_of
from tests.support.pages import soup, url
from tikisync_web import accounts, settings
from tikisync_web.db import database
from tikisync_web.models import ApiToken, Setting, User


@pytest.fixture
def admin(auth):
    return auth.become("admin")


def switch(client, app):
    page = soup(client.get(url(app, "tikisync.settings")))
    box = page.find("input", {"name": "remote_sync"})
    assert page.find("label", {"for": box["id"]}).get_text(strip=True) == (
        "Synchronize remote trackers")
    return box.has_attr("checked")


def test_remote_sync_is_on_by_default_and_the_choice_persists(client, app, admin):
    assert switch(client, app) is True
    with database.connection_context():
        assert settings.sync_enabled() and Setting.select().count() == 0

    response = client.post(url(app, "tikisync.settings"), data={})  # the box unticked
    assert response.status_code == 303
    assert response.location == url(app, "tikisync.settings")
    page = soup(client.get(response.location))
    assert "Settings saved." in page.select_one("#tikisync-messages").get_text()
    assert page.find("input", {"name": "remote_sync"}).has_attr("checked") is False
    with database.connection_context():
        assert settings.sync_enabled() is False
        assert Setting.get_by_id(settings.REMOTE_SYNC).value == "n"

    # Another session, another day: still off, until switched on again.
    other = app.test_client()
    with other.session_transaction() as sess:
        sess.update(session_of(admin))
    assert switch(other, app) is False
    client.post(url(app, "tikisync.settings"), data={"remote_sync": "y"})
    assert switch(other, app) is True
    with database.connection_context():
        assert settings.sync_enabled() is True


def test_users_are_added_with_a_role_and_can_sign_in(client, app, admin):
    response = client.post(url(app, "tikisync.user_create"),
                           data={"username": "dora", "role": "editor", "password": PASSWORD})
    assert response.status_code == 303
    page = soup(client.get(url(app, "tikisync.users")))
    rows = {tr.find_all("td")[0].get_text(): tr.find_all("td")[1].get_text()
            for tr in page.select("tbody tr")}
    assert rows["dora"] == "editor"
    fresh = app.test_client()
    signed_in = fresh.post(url(app, "tikisync.login"),
                           data={"username": "dora", "password": PASSWORD})
    assert signed_in.status_code == 303


@pytest.mark.parametrize("data, field, message", [
    ({"username": "admin", "role": "viewer", "password": PASSWORD}, "username",
     "User 'admin' already exists."),
    ({"username": "eve", "role": "viewer", "password": "short"}, "password",
     "Field must be at least 8 characters long."),
    ({"username": "e ve", "role": "viewer", "password": PASSWORD}, "username", "No spaces."),
    ({"username": "eve", "role": "root", "password": PASSWORD}, "role", "Not a valid choice."),
])
def test_bad_user_forms_are_refused(client, app, admin, data, field, message):
    with database.connection_context():
        before = User.select().count()
    response = client.post(url(app, "tikisync.user_create"), data=data)
    assert response.status_code == 422
    box = soup(response).find(attrs={"name": field}).find_parent(class_="ts-field")
    assert [p.get_text(strip=True) for p in box.select(".ts-error")] == [message]
    with database.connection_context():
        assert User.select().count() == before


def test_changing_a_role_and_deactivating(client, app, admin, users):
    edit = url(app, "tikisync.user_edit", user_id=users["viewer"].id)
    page = soup(client.get(edit))
    assert page.find("select", {"name": "role"}).find("option", selected=True)["value"] == "viewer"
    response = client.post(edit, data={"role": "editor", "active": "y", "password": ""})
    assert response.status_code == 303
    with database.connection_context():
        assert User.get_by_id(users["viewer"].id).role == "editor"
    client.post(edit, data={"role": "editor"})  # "active" unticked
    assert app.test_client().post(url(app, "tikisync.login"), data={
        "username": "viewer", "password": PASSWORD}).status_code == 422


def test_a_new_password_replaces_the_old(client, app, admin, users):
    edit = url(app, "tikisync.user_edit", user_id=users["editor"].id)
    client.post(edit, data={"role": "editor", "active": "y", "password": "a new secret"})
    fresh = app.test_client()
    assert fresh.post(url(app, "tikisync.login"), data={
        "username": "editor", "password": PASSWORD}).status_code == 422
    assert fresh.post(url(app, "tikisync.login"), data={
        "username": "editor", "password": "a new secret"}).status_code == 303


def test_admins_cannot_lock_themselves_out(client, app, admin):
    edit = url(app, "tikisync.user_edit", user_id=admin.id)
    for data in ({"role": "editor", "active": "y"}, {"role": "admin"}):
        response = client.post(edit, data=data)
        assert response.status_code == 422
        assert "You cannot remove your own admin role" in soup(response).get_text()
    with database.connection_context():
        me = User.get_by_id(admin.id)
    assert (me.role, me.active) == ("admin", True)


def test_tokens_are_shown_once_and_can_be_revoked(client, app, admin, users):
    response = client.post(url(app, "tikisync.token_create"),
                           data={"username": "editor", "label": "nightly push"})
    assert response.status_code == 200
    token = soup(response).select_one("#new-token").get_text(strip=True)
    with database.connection_context():
        assert accounts.user_for_token(token).username == "editor"
    listing = soup(client.get(url(app, "tikisync.tokens")))
    assert listing.select_one("#new-token") is None  # never shown again
    assert token not in listing.get_text()
    row = listing.select_one("tbody tr")
    assert [td.get_text(strip=True) for td in row.find_all("td")[:2]] == ["editor",
                                                                          "nightly push"]
    revoke = row.find("form")["action"]
    with database.connection_context():
        assert revoke == url(app, "tikisync.token_revoke", token_id=ApiToken.get().id)
    assert client.post(revoke).status_code == 303
    with database.connection_context():
        assert accounts.user_for_token(token) is None


def test_signing_out(client, app, auth):
    auth.login("editor")
    assert client.get(url(app, "tikisync.dashboard")).status_code == 200
    response = auth.logout()
    assert response.status_code == 303 and response.location == url(app, "tikisync.login")
    assert "You are signed out." in soup(client.get(response.location)).get_text()
    assert client.get(url(app, "tikisync.dashboard")).status_code == 302


def test_login_returns_only_to_our_own_pages(client, app, users):
    from urllib.parse import urlsplit

    for evil in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)",
                 "/\\evil.example", "\\\\evil.example", " //evil.example"):
        response = client.post(url(app, "tikisync.login", next=evil),
                               data={"username": "viewer", "password": PASSWORD})
        assert response.status_code == 303
        location = response.headers["Location"]
        parts = urlsplit(location)
        assert not parts.scheme and not parts.netloc, location
        assert location.startswith("/") and not location.startswith(("//", "/\\")), location
        client.post(url(app, "tikisync.logout"))
    response = client.post(url(app, "tikisync.login", next="https://evil.example/"),
                           data={"username": "viewer", "password": PASSWORD})
    assert response.location == url(app, "tikisync.dashboard")


def test_session_cookie_is_http_only(client, app, users):
    response = client.post(url(app, "tikisync.login"),
                           data={"username": "viewer", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie

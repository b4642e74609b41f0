"""Sessions and the headers that guard them (issue 12, item 10): a copied session cookie stops
working at sign-out and when the password changes; the standalone cookie is SameSite=Lax;
pages carry a CSP with script-src; a new SQLite database file is readable by its owner only.
"""
import os
import stat

import pytest

from tests.support.apps import PASSWORD, make_app
from tests.support.pages import soup, url
from tikisync_web.db import database

NEW_PASSWORD = "another long password"


def sign_in(app, username="editor", password=PASSWORD):
    client = app.test_client()
    response = client.post(url(app, "tikisync.login"),
                           data={"username": username, "password": password})
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return client


def copy_of(app, client):
    """Another browser holding the same session cookie (a stolen or copied cookie)."""
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie(cookie.key, cookie.value)
    return thief


def signed_in(app, client):
    response = client.get(url(app, "tikisync.dashboard"))
    return response.status_code == 200


def test_a_copied_cookie_stops_working_at_sign_out(app, users):
    client = sign_in(app)
    thief = copy_of(app, client)
    assert signed_in(app, thief)
    response = client.post(url(app, "tikisync.logout"))
    assert response.status_code == 303
    assert not signed_in(app, client)
    assert not signed_in(app, thief)
    # Signing in again works, and the old copy stays dead.
    again = sign_in(app)
    assert signed_in(app, again) and not signed_in(app, thief)


def test_a_password_change_ends_every_other_session_of_that_user(app, users):
    editor = sign_in(app)
    elsewhere = sign_in(app)
    admin = sign_in(app, "admin")
    response = admin.post(url(app, "tikisync.user_edit", user_id=users["editor"].id),
                          data={"role": "editor", "active": "y", "password": NEW_PASSWORD})
    assert response.status_code == 303
    assert not signed_in(app, editor) and not signed_in(app, elsewhere)
    assert signed_in(app, admin)  # other users keep theirs
    assert signed_in(app, sign_in(app, "editor", NEW_PASSWORD))


def test_changing_my_own_password_keeps_this_session_and_ends_the_others(app, users):
    admin = sign_in(app, "admin")
    copied = copy_of(app, admin)
    response = admin.post(url(app, "tikisync.user_edit", user_id=users["admin"].id),
                          data={"role": "admin", "active": "y", "password": NEW_PASSWORD})
    assert response.status_code == 303
    assert signed_in(app, admin)
    assert not signed_in(app, copied)


def test_saving_a_user_without_a_new_password_keeps_their_sessions(app, users):
    editor = sign_in(app)
    admin = sign_in(app, "admin")
    admin.post(url(app, "tikisync.user_edit", user_id=users["editor"].id),
               data={"role": "editor", "active": "y", "password": ""})
    assert signed_in(app, editor)


def test_the_cli_password_reset_ends_sessions(app, users, runner):
    from tikisync_web.models import User

    keeper = sign_in(app, "admin")
    with database.connection_context():
        User.update(role="viewer").where(User.id == users["admin"].id).execute()
    assert signed_in(app, keeper)  # a viewer now, still signed in
    # No admin left: ensure-admin gives `admin` a new random password, and ends its sessions.
    result = runner.invoke(args=["tikisync", "user", "ensure-admin"])
    assert result.exit_code == 0, result.output
    assert "sign in as admin" in result.output
    assert not signed_in(app, keeper)


def set_cookie_of(response):
    return "; ".join(response.headers.getlist("Set-Cookie"))


def test_the_standalone_session_cookie_is_same_site_lax(app, users):
    client = app.test_client()
    response = client.post(url(app, "tikisync.login"),
                           data={"username": "admin", "password": PASSWORD})
    cookie = set_cookie_of(response)
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie


def test_a_host_keeps_its_own_cookie_policy(db_url, tmp_path, users):
    from flask import Flask

    from tikisync_web import TikiSync

    host = Flask("host")
    host.config.update(SECRET_KEY="k", TIKISYNC_DATABASE=db_url, SESSION_COOKIE_SAMESITE="Strict")
    TikiSync(host)
    assert host.config["SESSION_COOKIE_SAMESITE"] == "Strict"


def csp_of(response):
    header = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("endpoint", ["tikisync.login", "tikisync.dashboard"])
def test_pages_forbid_scripts_from_elsewhere(app, auth, endpoint):
    auth.become("viewer")
    response = auth.client.get(url(app, endpoint))
    policy = csp_of(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'self'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # The pages need nothing else: every script they load is our own file.
    for script in soup(response).find_all("script"):
        assert script["src"].startswith(url(app, "tikisync.static", filename="tikisync/"))
        assert not (script.string or "").strip()


def test_error_pages_carry_the_policy_too(app, auth):
    auth.become("viewer")
    response = auth.client.get(url(app, "tikisync.item", item_id=99999))
    assert response.status_code == 404
    assert csp_of(response)["script-src"] == ["'self'"]


@pytest.mark.sqlite_only
def test_a_new_sqlite_database_is_readable_by_its_owner_only(tmp_path):
    previous = os.umask(0o022)  # the usual umask: files are made world-readable by default
    try:
        path = tmp_path / "fresh" / "tikisync.db"
        app = make_app(f"sqlite:///{path}", tmp_path)
        with app.app_context(), database.connection_context():
            database.execute_sql("SELECT 1")  # open it, so -wal and -shm exist
            for suffix in ("", "-wal", "-shm"):
                file = str(path) + suffix
                assert os.path.exists(file), suffix
                assert stat.S_IMODE(os.stat(file).st_mode) == 0o600, suffix
    finally:
        os.umask(previous)
        database.close()


@pytest.mark.sqlite_only
def test_an_existing_database_keeps_its_mode(tmp_path):
    path = tmp_path / "shared.db"
    path.touch(mode=0o640)
    os.chmod(path, 0o640)  # an admin chose group-readable: not ours to undo
    app = make_app(f"sqlite:///{path}", tmp_path)
    with app.app_context():
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    database.close()

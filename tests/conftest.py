"""Fixtures: app, client (CSRF-aware), login helpers, and the database of the chosen backend."""
import functools
import os

import peewee as pw
import pytest
from bs4 import BeautifulSoup
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer

from tests.support import databases
from tikisync_web import accounts, create_app, jobs
from tikisync_web.db import database

PASSWORD = "correct horse battery"
pytest_plugins = ["tests.support.fake_master"]  # the fake Tiki master fixtures, for every test module


class Client(FlaskClient):
    """A test client that sends the CSRF token with every form post, as a browser would."""

    send_csrf = True

    def csrf_token(self):
        app = self.application
        with self.session_transaction() as sess:
            if "csrf_token" not in sess:
                sess["csrf_token"] = os.urandom(20).hex()
            raw = sess["csrf_token"]
        secret = app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key
        return URLSafeTimedSerializer(secret, salt="wtf-csrf-token").dumps(raw)

    def open(self, *args, **kwargs):
        method = kwargs.get("method", "GET").upper()
        if self.send_csrf and method in ("POST", "PUT", "PATCH", "DELETE"):
            data = kwargs.get("data")
            if data is None:
                kwargs["data"] = data = {}
            if isinstance(data, dict) and "csrf_token" not in data:
                kwargs["data"] = {**data, "csrf_token": self.csrf_token()}
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def server_db_url():
    if databases.BACKEND == "sqlite":
        yield None
        return
    url = databases.create_server_database()
    if databases.BACKEND == "mariadb":
        # PyMySQL 1.2 builds a fresh TLS context (loading the system CA store, ~30 ms) on every
        # connect to "prefer" TLS; the app connects per request, so the suite would spend most
        # of its time there. Loopback needs no TLS.
        url += "&ssl_disabled=true"
    yield url
    if database.obj is not None and not database.is_closed():
        database.close()
    databases.drop_server_database(url)


def _close():
    if database.obj is not None and not database.is_closed():
        database.close()


def _clear_rows(url):
    """Empty every table of a database already at the latest schema, in one transaction:
    much cheaper on a server than dropping and re-creating the schema for every test.
    Returns False (and changes nothing) when the schema is missing or another version."""
    from tikisync_web import db as tdb
    from tikisync_web import migrations
    from tikisync_web.models import ALL_MODELS

    tdb.bind(url)
    expected = {model._meta.table_name for model in ALL_MODELS}
    with database.connection_context():
        present = {t for t in database.get_tables() if t.startswith("tikisync_")}
        if present != expected | {migrations.SchemaVersion._meta.table_name}:
            return False
        if migrations.current_version() != migrations.LATEST:
            return False
        # DELETE, children first: far cheaper than TRUNCATE on PostgreSQL for small tables.
        ordered = [model._meta.table_name for model in reversed(pw.sort_models(ALL_MODELS))]
        quote = "`" if tdb.is_mysql() else '"'
        with database.atomic():
            for table in ordered:
                database.execute_sql(f"DELETE FROM {quote}{table}{quote}")
    return True


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory, server_db_url):
    """A SQLite file holding the latest schema, made once: copying it is cheaper than
    creating every table again for each test."""
    if server_db_url is not None:
        return None
    from tikisync_web import db as tdb
    from tikisync_web import migrations

    path = tmp_path_factory.mktemp("template") / "tikisync.db"
    tdb.bind(f"sqlite:///{path}")
    migrations.upgrade()
    with database.connection_context():
        database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    _close()
    return path


@pytest.fixture
def db_url(tmp_path, server_db_url, sqlite_template):
    """A database for this test at the latest schema, empty of rows: a copy of the SQLite
    template, or the session's server database emptied (rows cleared when it holds the latest
    schema, otherwise every table dropped)."""
    if server_db_url is None:
        import shutil

        shutil.copyfile(sqlite_template, tmp_path / "tikisync.db")
        return f"sqlite:///{tmp_path}/tikisync.db"
    return _emptied(server_db_url)


def module_db_url(folder, server_db_url):
    """The database for a module-scoped app (state shared by a module's tests, made once)."""
    if server_db_url is None:
        return f"sqlite:///{folder}/tikisync.db"
    return _emptied(server_db_url)


def _emptied(server_db_url):
    """The session's server database without rows (or without our tables, when its schema is
    not the latest)."""
    _close()
    if not _clear_rows(server_db_url):
        _close()
        databases.empty_database(server_db_url)
    _close()
    return server_db_url


@pytest.fixture
def blank_db_url(tmp_path, server_db_url):
    """A database without any table of ours (for tests of schema creation and upgrades)."""
    if server_db_url is None:
        return f"sqlite:///{tmp_path}/tikisync.db"
    _close()
    databases.empty_database(server_db_url)
    return server_db_url


def make_app(db_url, tmp_path, **config):
    settings = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "TIKISYNC_DATABASE": db_url,
        "TIKISYNC_JOB_RUNNER": "inline",
        "TIKISYNC_PAGE_SIZE": 20,
    }
    settings.update(config)
    os.environ.setdefault("TIKISYNC_INSTANCE", str(tmp_path / "instance"))
    app = create_app(settings)
    app.test_client_class = Client
    return app


def finish_app():
    """After a test's app: its job threads end before its database goes."""
    jobs.wait_for_threads()
    if not database.is_closed():
        database.close()


@pytest.fixture
def app(db_url, tmp_path):
    app = make_app(db_url, tmp_path)
    yield app
    finish_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@functools.lru_cache(maxsize=1)
def password_hash():
    """PASSWORD hashed once per session: a real hash costs about 0.1 s, too much per test."""
    return accounts.hash_password(PASSWORD)


def make_user(username, role):
    """An account with PASSWORD, created without paying for a fresh hash."""
    from tikisync_web.models import User

    with database.connection_context():
        return User.create(username=username, role=role, password_hash=password_hash())


@pytest.fixture
def users(app):
    """One user per role: users["admin"], users["editor"], users["viewer"]."""
    with app.app_context():
        return {role: make_user(role, role) for role in ("admin", "editor", "viewer")}


def url(app, endpoint, **values):
    """url_for outside a request, for tests (never literal paths)."""
    from flask import url_for

    with app.test_request_context():
        return url_for(endpoint, **values)


class Auth:
    def __init__(self, client, users):
        self.client, self.users = client, users

    def login(self, role="admin"):
        response = self.client.post(url(self.client.application, "tikisync.login"),
                                    data={"username": role, "password": PASSWORD})
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        return response

    def become(self, role="admin"):
        """Sign in as `role` by setting the session directly (for tests not about signing in)."""
        from tikisync_web.views.common import SESSION_KEY

        with self.client.session_transaction() as sess:
            sess[SESSION_KEY] = self.users[role].id
        return self.users[role]

    def logout(self):
        return self.client.post(url(self.client.application, "tikisync.logout"))


@pytest.fixture
def auth(client, users):
    return Auth(client, users)


def soup(response):
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


@pytest.fixture
def db(app):
    """An open connection for tests that use the models directly."""
    with database.connection_context():
        yield database

"""Fixtures every test may use: a database of the chosen backend, the app, its test client
and CLI runner, users of each role and signing in. Helpers live in tests/support/; the
fixtures of the fake masters and of server instances come from the plugins below."""
import os
import shutil

import pytest

from tests.support import databases
from tests.support.apps import Auth, finish_app, make_app, make_user
from tikisync_web.db import database

pytest_plugins = [
    "tests.support.fake_master",  # make_master, fake_master: a fake Tiki over loopback HTTP
    "tests.support.master_api",  # master: our master's API with Tiki-speaking clients
    "tests.support.instances",  # instances, module_instances: real server processes
    "tests.support.schedules",  # clock: the schedules' clock, moved by the test
    "tests.support.receivers",  # smtp_server, hook_receiver: where notices arrive, on loopback
]

# TIKISYNC_SKIP_BROWSER=1 (a local opt-out) leaves the browser layer out of collection, so
# nothing imports Playwright. CI never sets it: there a missing Playwright fails loudly.
collect_ignore = ["browser"] if os.environ.get("TIKISYNC_SKIP_BROWSER") else []


def pytest_configure(config):
    # pytest-playwright empties its output folder (default test-results/) at the start of every
    # session, browser tests or not: give it a subfolder, so the screenshots the browser tests
    # keep under test-results/ (layout/, outcomes/, dashboard/) outlive the later
    # PostgreSQL and MariaDB runs of `make test`.
    if config.pluginmanager.has_plugin("playwright") and \
            getattr(config.option, "output", None) == "test-results":
        config.option.output = os.path.join("test-results", "playwright")


@pytest.fixture(scope="session")
def server_db_url():
    """The session's PostgreSQL or MariaDB database (None on SQLite), dropped at the end."""
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
    databases.close()
    databases.drop_server_database(url)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory, server_db_url):
    """A SQLite file holding the latest schema, made once: copying it is cheaper than
    creating every table again for each test."""
    if server_db_url is not None:
        return None
    return databases.sqlite_template(tmp_path_factory.mktemp("template") / "tikisync.db")


@pytest.fixture
def db_url(tmp_path, server_db_url, sqlite_template):
    """A database for this test at the latest schema, empty of rows: a copy of the SQLite
    template, or the session's server database emptied (rows cleared when it holds the latest
    schema, otherwise every table dropped)."""
    if server_db_url is None:
        shutil.copyfile(sqlite_template, tmp_path / "tikisync.db")
        return f"sqlite:///{tmp_path}/tikisync.db"
    return databases.emptied(server_db_url)


@pytest.fixture
def blank_db_url(tmp_path, server_db_url):
    """A database without any table of ours (for tests of schema creation and upgrades)."""
    if server_db_url is None:
        return f"sqlite:///{tmp_path}/tikisync.db"
    databases.close()
    databases.empty_database(server_db_url)
    return server_db_url


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


@pytest.fixture
def users(app):
    """One user per role: users["admin"], users["editor"], users["viewer"]."""
    with app.app_context():
        return {role: make_user(role, role) for role in ("admin", "editor", "viewer")}


@pytest.fixture
def auth(client, users):
    return Auth(client, users)


@pytest.fixture
def db(app):
    """An open connection for tests that use the models directly."""
    with database.connection_context():
        yield database

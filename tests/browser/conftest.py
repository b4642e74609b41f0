"""Browser layer: Playwright driving Debian's Chromium against a live server on loopback.

Playwright's own browser download cannot work on these machines, so the launch fixture points
at /usr/bin/chromium (`make test` installs it). A missing Playwright or Chromium fails the
layer loudly; only TIKISYNC_SKIP_BROWSER=1 (a local opt-out, read in tests/conftest.py)
leaves it out, and then this folder is not even collected.
"""
import os
import shutil

import pytest

from tests.support.apps import finish_app, make_app
from tests.support.browser import LiveServer

CHROMIUM = os.environ.get("TIKISYNC_CHROMIUM", "/usr/bin/chromium")
MISSING = ("the browser layer needs {what}: `make test` installs it "
           "(or set TIKISYNC_SKIP_BROWSER=1 to leave this layer out locally)")

try:
    import playwright.sync_api  # noqa: F401 - only to fail here, by name, when it is missing
except ImportError as error:
    raise ImportError(MISSING.format(what="Playwright (pip install -e '.[test]')")) from error


def pytest_configure(config):
    if not config.pluginmanager.has_plugin("playwright"):
        raise pytest.UsageError(MISSING.format(what="the pytest-playwright plugin"))


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.fail(f"Chromium is missing at {CHROMIUM}: `make test` installs Debian's chromium "
                    "(or set TIKISYNC_SKIP_BROWSER=1 to skip this layer locally)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 # Sites other than 127.0.0.1 on loopback (portal.test, sync.test, …): a
                 # cookie's site, http vs https and framing across sites behave as on a real
                 # intranet, where 127.0.0.1 and localhost hide the differences.
                 "--host-resolver-rules=MAP *.test 127.0.0.1", "--no-proxy-server"],
    }


@pytest.fixture
def live_app(db_url, tmp_path):
    app = make_app(db_url, tmp_path, TIKISYNC_JOB_RUNNER="thread", TIKISYNC_POLL_SECONDS=0.3)
    yield app
    finish_app()


@pytest.fixture
def live_server(live_app):
    server = LiveServer(live_app)
    yield server
    server.stop()


@pytest.fixture
def page(page):
    page.set_default_timeout(10_000)
    return page

"""Browser layer: Playwright driving Debian's Chromium against a live server on loopback.

Playwright's own browser download cannot work on these machines, so the launch fixture points
at /usr/bin/chromium (`make test` installs it). A missing Chromium fails the layer loudly;
only TIKISYNC_SKIP_BROWSER=1 (a local opt-out) skips it.
"""
import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from tests.conftest import finish_app, make_app

CHROMIUM = os.environ.get("TIKISYNC_CHROMIUM", "/usr/bin/chromium")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            if os.environ.get("TIKISYNC_SKIP_BROWSER"):
                item.add_marker(pytest.mark.skip(reason="TIKISYNC_SKIP_BROWSER is set"))


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
                 "--disable-component-update", "--disable-sync"],
    }


class LiveServer:
    """The app served by werkzeug in a thread, on a free loopback port."""

    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def link(self, endpoint, **values):
        from flask import url_for

        with self.app.test_request_context():
            return self.url + url_for(endpoint, **values)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


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


def sign_in(page, server, username, password):
    page.goto(server.link("tikisync.login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(server.link("tikisync.dashboard"))

"""The browser layer's helpers (no Playwright import here): the app served on loopback in a
thread, and signing in through the login form."""
import threading

from flask import url_for
from werkzeug.serving import make_server


class LiveServer:
    """The app served by werkzeug in a thread, on a free loopback port; over https with
    `tls=(certificate, key)`, and known to the browser as `name` (the browser conftest maps
    the *.test names to 127.0.0.1)."""

    def __init__(self, app, tls=None, name="127.0.0.1"):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True,
                                  ssl_context=tuple(map(str, tls)) if tls else None)
        self.port = self.server.server_port
        self.url = f"{'https' if tls else 'http'}://{name}:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def link(self, endpoint, **values):
        """The absolute URL of `endpoint` on this server."""
        with self.app.test_request_context():
            return self.url + url_for(endpoint, **values)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def sign_in(page, server, username, password):
    """Sign in through the login form, as a person would, and land on the dashboard."""
    page.goto(server.link("tikisync.login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(server.link("tikisync.dashboard"))

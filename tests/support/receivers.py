"""Real receivers on loopback for the notices: an SMTP server (aiosmtpd) and an HTTP server
that takes webhook POSTs. Both record what they received and stop by themselves at the end of
the test (fixtures `smtp_server`, `make_smtp_server`, `hook_receiver`).

    smtp = make_smtp_server(tls=(cert, key), logins={"mailer": "pw"})  # STARTTLS + AUTH
    smtp.messages        # [Received(sender, recipients, message)] (email.message objects)
    hooks.bodies         # [(headers, parsed JSON body)]
"""
import email
import json
import socket
import ssl
import threading
from dataclasses import dataclass
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    sender: str
    recipients: list
    message: email.message.EmailMessage

    @property
    def text(self):
        return self.message.get_content()


class _Keep:
    """aiosmtpd handler: keep every message."""

    def __init__(self, box):
        self.box = box

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        message = email.message_from_bytes(envelope.original_content, policy=policy.default)
        self.box.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class _Logins:
    def __init__(self, logins):
        self.logins = logins

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and \
            self.logins.get(auth_data.login.decode()) == auth_data.password.decode()
        # handled=False: aiosmtpd answers the refusal (535) itself.
        return AuthResult(success=ok, handled=False)


class _Controller(Controller):
    """aiosmtpd's threaded controller on a socket bound beforehand to a free loopback port."""

    def __init__(self, handler, sock, **kwargs):
        self._sock = sock
        super().__init__(handler, hostname="127.0.0.1", port=sock.getsockname()[1], **kwargs)

    def _create_server(self):
        return self.loop.create_server(self._factory_invoker, sock=self._sock,
                                       ssl=self.ssl_context)


class SmtpServer:
    def __init__(self, tls=None, logins=None):
        self.messages = []
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        kwargs = {"ready_timeout": 10.0}
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            kwargs.update(tls_context=context, require_starttls=True)
        if logins:
            kwargs.update(authenticator=_Logins(logins), auth_required=True,
                          auth_require_tls=True)
        self.controller = _Controller(_Keep(self.messages), sock, **kwargs)
        self.controller.start()

    def stop(self):
        self.controller.stop()


class _HookHandler(BaseHTTPRequestHandler):
    receiver = None
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else keep-alive answers stall ~40 ms (Nagle + ACK)
    timeout = 10

    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802 - http.server's name
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8")
        with self.receiver.lock:
            self.receiver.bodies.append((dict(self.headers.items()), json.loads(body)))
        self.send_response(self.receiver.status)
        self.send_header("Content-Length", "0")
        self.end_headers()


class HookReceiver:
    """Takes webhook POSTs on loopback and answers `status`."""

    def __init__(self, status=204):
        self.status = status
        self.bodies = []
        self.lock = threading.Lock()
        handler = type("Handler", (_HookHandler,), {"receiver": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def origin(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def url(self):
        return self.origin + "/hooks/tikisync"

    def events(self):
        return [body["event"] for _, body in self.bodies]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def make_smtp_server():
    started = []

    def factory(**kwargs):
        server = SmtpServer(**kwargs)
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()


@pytest.fixture
def smtp_server(make_smtp_server):
    """A plain SMTP server on loopback (no TLS, no AUTH)."""
    return make_smtp_server()


@pytest.fixture
def hook_receiver():
    receiver = HookReceiver()
    yield receiver
    receiver.stop()

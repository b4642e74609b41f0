"""A master's answers, recorded once and replayed: a stand-in, on loopback, for a master on
another machine, whose serving costs this host nothing.

    _replay.py UPSTREAM_URL PORT_FILE

Starts an HTTP server on a free loopback port (written to PORT_FILE once it listens) that
passes every request to UPSTREAM_URL and answers with the upstream's answer. A GET answered
200 is kept in memory, keyed by its path and its query parameters in any order. After
`GET /__replay__/replay` the kept answers are sent again as they were (a fresh Date header,
as a live server would), and what was not kept is still passed on. `GET /__replay__/stats`:
{"replayed": n, "passed": n, "kept": n}. Used by scale_status.py's two-workers part; stops on
SIGTERM.
"""
import http.server
import json
import socket
import sys
import threading
import urllib.parse
from email.utils import formatdate

import requests

_KEPT_HEADERS = ("content-type",)


class _State:
    def __init__(self, upstream):
        self.upstream = upstream.rstrip("/")
        self.replay = False
        self.kept = {}  # key -> (status, headers, body)
        self.counts = {"replayed": 0, "passed": 0}
        self.lock = threading.Lock()
        self.local = threading.local()

    def session(self):
        if getattr(self.local, "session", None) is None:
            self.local.session = requests.Session()
        return self.local.session


def _key(method, target):
    parts = urllib.parse.urlsplit(target)
    query = sorted(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    return method, parts.path, tuple(query)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None  # set by main

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args):
        pass

    def _send(self, status, headers, body):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Date", formatdate(usegmt=True))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _control(self):
        state = self.state
        if self.path == "/__replay__/replay":
            state.replay = True
        with state.lock:
            body = json.dumps({**state.counts, "kept": len(state.kept)}).encode()
        self._send(200, [("Content-Type", "application/json")], body)

    def _handle(self, method):
        if self.path.startswith("/__replay__/"):
            return self._control()
        state = self.state
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else None
        key = _key(method, self.path)
        if state.replay and method == "GET" and key in state.kept:
            with state.lock:
                state.counts["replayed"] += 1
            return self._send(*state.kept[key])
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("host", "content-length", "connection")}
        answer = state.session().request(method, state.upstream + self.path, data=data,
                                         headers=headers, allow_redirects=False, timeout=600)
        kept = ([(k, v) for k, v in answer.headers.items() if k.lower() in _KEPT_HEADERS]
                + ([("Location", answer.headers["Location"])]
                   if "Location" in answer.headers else []))
        reply = (answer.status_code, kept, answer.content)
        with state.lock:
            state.counts["passed"] += 1
            if not state.replay and method == "GET" and answer.status_code == 200:
                state.kept[key] = reply
        self._send(*reply)

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")


def main(upstream, port_file):
    _Handler.state = _State(upstream)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    with open(port_file, "w") as out:
        out.write(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main(*sys.argv[1:3])

"""Faults a fake master plays on chosen requests (tests/support/fake_master.py).

    master.faults.arm("cut_mid", on="insert_item")         # the first insert: applied, then
                                                           # its answer cut in the middle
    master.faults.arm("500", on="list_items", at={2, 3})   # the 2nd and 3rd page: a 500
    master.faults.arm("stall", at={5}, stall=1.0)          # the 5th API request, whatever it is
    master.faults.hook = lambda stage, action, number: ... # called at every API request
    master.faults.clear()

`on` is an action name (list_items, insert_item, update_item, export_fields, list_trackers,
…) or None for any API request; `at` counts the requests `on` selects, from 1. Each fault
plays once per request it matches, as many times as `at` says.

Kinds, and whether the master applies a write before playing it:

    500          not applied; HTTP 500 with Tiki's error JSON
    500_applied  applied, then HTTP 500 (the reply is lost, the write is not)
    cut_before   applied, then the connection closes before any byte of the answer
    cut_mid      applied, then the status, headers (full Content-Length) and half the body,
                 and the connection closes
    truncated    applied, then half the body with a Content-Length that matches it (valid
                 HTTP, truncated JSON)
    malformed    applied, then a 200 whose body is not JSON
    html         not applied; a 200 HTML login page (an expired session, a proxy)
    not_list     applied, then the answer with `result` as an object instead of a list
    stall        applied, then `stall` seconds of silence before the answer (past the
                 client's timeout)
    refuse_ticket  not applied; Tiki's 401 JSON for a CSRF ticket it does not hold

The session's HTML pages (actions login_form, login, ticket_form: tests/support/
fake_tiki_session.py) take the same faults; a page has no JSON to spoil, so truncated,
malformed and not_list cut it short (Content-Length matching), and 500_applied answers 500
after the login was made or the ticket handed out.

The hook is called with ("before", action, number) before the master acts and ("applied",
action, number) after it acted and before it answers; `number` is the API request's number
(master.api_count). A hook may block (a crash test holds the master there while it kills the
client), change the master's items (edits and deletes during a reload), or raise nothing.
"""
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

KINDS = ("500", "500_applied", "cut_before", "cut_mid", "truncated", "malformed", "html",
         "not_list", "stall", "refuse_ticket")
NOT_APPLIED = ("500", "html", "refuse_ticket")


@dataclass
class Fault:
    kind: str
    on: str | None = None
    at: set = field(default_factory=lambda: {1})
    stall: float = 1.0
    played: int = 0


class Faults:
    """The faults armed on one master, and its hook."""

    def __init__(self):
        self.lock = threading.Lock()
        self.armed = []
        self.seen = Counter()  # action (or None for all) -> API requests seen
        self.hook = None

    def arm(self, kind, on=None, at=(1,), stall=1.0):
        if kind not in KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {', '.join(KINDS)}")
        with self.lock:
            fault = Fault(kind, on, set(at), stall)
            self.armed.append(fault)
            return fault

    def clear(self):
        with self.lock:
            self.armed = []
            self.seen.clear()
        self.hook = None

    def take(self, action):
        """The fault this request plays, or None (counts the request)."""
        with self.lock:
            self.seen[None] += 1
            self.seen[action] += 1
            for fault in self.armed:
                if fault.on in (None, action) and self.seen[fault.on] in fault.at:
                    fault.played += 1
                    return fault
        return None

    def call_hook(self, stage, action, number):
        hook = self.hook
        if hook is not None:
            hook(stage, action, number)


def play_before(handler, fault):
    """Play a fault that answers before the master acts; True when it did."""
    if fault is None or fault.kind not in NOT_APPLIED:
        return False
    if fault.kind == "500":
        handler._error(500, "Internal error (a fault of the test)")
    elif fault.kind == "refuse_ticket":
        from tests.support.fake_tiki_session import BAD_TICKET

        handler._error(401, BAD_TICKET, as_json=True)
    else:
        from tests.support.fake_master_http import LOGIN_PAGE

        handler._send(200, LOGIN_PAGE.format(ticket="t").encode(), "text/html; charset=UTF-8")
    return True


def play_after(handler, fault, payload):
    """Answer `payload` (what the master did) the way `fault` says."""
    kind = fault.kind
    if kind == "500_applied":
        handler._error(500, "Internal error (a fault of the test)")
        return
    if kind == "cut_before":
        handler.close_connection = True
        return
    if kind == "not_list":
        if isinstance(payload, dict) and isinstance(payload.get("result"), list):
            payload = dict(payload, result={str(n): row for n, row in
                                            enumerate(payload["result"], start=1)})
        else:
            payload = [payload]
    body = json.dumps(payload).encode()
    if kind == "malformed":
        handler._send(200, b'{"result": [{"itemId": 1, "status": "o", fields: nope',
                      "application/json")
        return
    if kind == "truncated":
        handler._send(200, body[: max(1, len(body) // 2)], "application/json")
        return
    if kind == "stall":
        time.sleep(fault.stall)
        handler._send(200, body, "application/json")
        return
    if kind == "cut_mid":
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body[: max(1, len(body) // 2)])
        handler.wfile.flush()
        handler.close_connection = True
        return
    handler._send(200, body, "application/json")


def play_page(handler, fault, status, body, content_type, headers=()):
    """Send a session page (status, body, …) the way `fault` says (the master acted)."""
    kind = fault.kind
    if kind == "500_applied":
        handler._send(500, b"<html><body>Internal error</body></html>", "text/html")
    elif kind == "cut_before":
        handler.close_connection = True
    elif kind in ("truncated", "malformed", "not_list"):
        handler._send(status, body[: len(body) // 2], content_type, headers)
    elif kind == "cut_mid":
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(max(1, len(body))))
        for name, value in headers:
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body[: len(body) // 2])
        handler.wfile.flush()
        handler.close_connection = True
    else:
        if kind == "stall":
            time.sleep(fault.stall)
        handler._send(status, body, content_type, headers)

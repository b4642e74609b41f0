"""A fake Tiki master for tests: a real HTTP server on 127.0.0.1, both protocol generations.

    master = FakeMaster(base_path="/tiki")          # tracker 1 "SyncDemo", 3 items (Tiki 24.1)
    master.start()                                  # or use the fixtures below
    master.url                                      # "http://127.0.0.1:PORT/tiki"
    master.add_item(1, {"title": "x"}, status="o")  # -> new itemId
    master.items[4]                                 # {"itemId", "trackerId", "status", "fields"…}
    master.requests                                 # every request received (see Recorded)
    master.settings.max_records_cap = 20            # switches, see Settings
    master.faults.arm("cut_mid", on="insert_item")  # faults on chosen requests, and a
                                                    # hook: tests/support/fake_faults.py
    master.stop()

Serves, under ANY path prefix (so `/tiki` and `/tiki-other` both answer; `url` uses
`base_path`): Gen A `POST …/tiki-ajax_services.php?controller=C&action=A` (query and form body
merged, PHP bracket keys), Gen B `…/tiki-api.php?route=…` (GET reads, POST writes), and
`…/tiki-login.php` (a login form with a CSRF ticket; posting `user`/`pass` sets a session
cookie). Auth as Tiki does it: Gen A takes HTTP Basic or the session cookie (a wrong Basic
password is a 401 with an empty body); Gen B takes only `Authorization: Bearer` (Basic is
ignored there, so the request is anonymous). Anonymous requests see no trackers and get 403
JSON on tracker-admin actions, unless `settings.require_auth` is False.

Actions: tracker/list_trackers, export_fields, list_items, insert_item, update_item,
edit_field, update_items (our master's, with `settings.batch_updates`: fake_batch.py);
user/list_users; category/list_categories; Gen B also route=version. Answers
follow tiki-protocol.md §5 and tiki-examples/ (ids as numbers, raw values as strings, PHP's
empty array `[]` for empty objects). The `Date` header comes from `settings.clock` when set.

Fixtures: `fake_master` (one started master), `make_master(**kw)` (a factory; every master it
starts is stopped after the test). tests/conftest.py registers them for every module
(`pytest_plugins`).
"""
import base64
import json
import random
import ssl
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer

import pytest

from tests.support import fake_batch
from tests.support.fake_faults import Faults
from tests.support.fake_master_http import (
    ApiError,
    LoseReply,
    Recorded,
    handler_for,
    php_params,
    self_signed_cert,
)
from tests.support.fake_tiki_session import BAD_TICKET, Sessions

__all__ = ["FakeMaster", "Settings", "Recorded", "php_params", "self_signed_cert", "USER",
           "PASSWORD", "TOKEN", "fake_master", "make_master"]

USER, PASSWORD, TOKEN = "admin", "fake-master-pass", "fake-master-token-0123456789"

DEFAULT_FIELDS = [
    {"fieldId": 1, "name": "Title", "permName": "title", "type": "t",
     "options": '{"samerow":1}', "isMandatory": "y", "isMain": "y"},
    {"fieldId": 2, "name": "Amount", "permName": "amount", "type": "n",
     "options": '{"samerow":1,"decimals":2}'},
    {"fieldId": 3, "name": "Priority", "permName": "priority", "type": "d",
     "options": '{"options":["low","medium","high"]}'},
    {"fieldId": 4, "name": "Assignee", "permName": "assignee", "type": "u",
     "options": '{"autoassign":0,"multiple":0}'},
    {"fieldId": 5, "name": "Number", "permName": "number", "type": "q",
     "options": '{"start":100,"prepend":"SD-"}'},
]
DEFAULT_ITEMS = [
    ("o", {"title": "First item", "amount": "12.5", "priority": "high", "assignee": "bob",
           "number": "100"}),
    ("p", {"title": "Second item", "amount": "3", "priority": "low", "assignee": "carol",
           "number": "101"}),
    ("c", {"title": "Third item", "amount": "-7.25", "priority": "medium", "assignee": "",
           "number": "102"}),
]
DEFAULT_USERS = [
    {"userId": 1, "login": "admin", "email": "admin@example.org", "hash": "$2y$secret-hash",
     "groups": [1, 3]},
    {"userId": 2, "login": "bob", "email": "bob@example.org", "hash": "$2y$bob", "groups": [2]},
    {"userId": 3, "login": "carol", "email": "carol@example.org", "hash": "$2y$c",
     "groups": [2, 3]},
]
DEFAULT_CATEGORIES = [
    {"categId": 1, "name": "Sales", "parentId": 0},
    {"categId": 2, "name": "Support", "parentId": 0},
    {"categId": 3, "name": "EMEA", "parentId": 1}, {"categId": 4, "name": "Paris", "parentId": 3},
]
EXPORT_KEYS = ("fieldId", "name", "permName", "position", "type", "options", "isMain",
               "isTblVisible", "isSearchable", "isPublic", "isHidden", "isMandatory",
               "description", "descriptionIsParsed", "rules")


@dataclass
class Settings:
    """Switches; change them at any time (the handler reads them per request)."""

    require_auth: bool = True  # anonymous: no trackers, 403 on admin actions
    answer_status: int = None  # answer every API request with this status (401, 403, 500…)
    error_message: str = "Reserved for tracker administrators"  # the message of answer_status
    max_records_cap: int = None  # never return more than this many rows per page
    ignore_offset: bool = False  # every page starts at the first row
    unordered: bool = False  # rows in a stable but scrambled order (no ORDER BY, W9)
    strings: bool = False  # ids and counts as strings, as Tiki 9-23 send them
    empty: object = ""  # how an empty value is spelled in list_items: "", False, None or []
    result_shape: str = "list"  # list_items/list_users `result`: list | object | null | missing
    html_login: bool = False  # every API request answers 200 with an HTML login page
    truncate_json: bool = False  # JSON bodies cut in half (Content-Length matches the cut)
    fail_status: int = 503
    fail_requests: set = field(default_factory=set)  # 1-based API request numbers to fail
    fail_pages: set = field(default_factory=set)  # 1-based list_items requests to fail
    delay: float = 0.0  # seconds to sleep before every API answer
    lose_insert_reply: bool = False  # insert, then close the connection without an answer
    insert_without_id: bool = False  # answer inserts with itemId 0 and insert nothing (T19-23)
    generations: str = "AB"  # which endpoints exist: "A", "B" or "AB"
    version: str = "24.1"  # route=version answer (None: 404, as before Tiki 24.1)
    redirect_to: str = None  # an origin: every request is answered 307 to the same path there
    item_id_filter: bool = False  # honour itemId/itemId[] (our own master does, Tiki not)
    with_times: bool = False  # items carry lastModif/created (our own master does)
    legacy_export: bool = False  # Tiki 9-12 export: `sMandatory` typo, CSV options
    categories_need_parent: bool = False  # Tiki 9-23: no parentId -> 409
    limited_users: set = field(default_factory=set)  # accounts without tracker-admin rights
    clock: int = None  # fixed Unix time for Date headers and lastModif
    clock_offset: int = 0  # seconds added to the real time (a master whose clock is off)
    empty_dates_now: bool = False  # Tiki 24+: an empty date (f, j) is read as "now"
    reject_updates: str = None  # updates answer 200 with this feedback and change nothing
    batch_updates: bool = False  # serve (and announce) our master's update_items: fake_batch.py
    basic_off: bool = False  # Tiki's default login_http_basic=n: Gen A ignores HTTP Basic
    tickets: str = None  # insert_item over Gen A wants a CSRF ticket of the session, a
    # same-site Origin/Referer: "session" (Tiki 24.1 as installed) or "one-use" (Tiki 19-23);
    # see tests/support/fake_tiki_session.py


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A client that gave up (a timeout test) leaves a broken pipe: not worth a traceback.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


def _values(container):
    if isinstance(container, dict):
        return list(container.values())
    if isinstance(container, list):
        return container
    return [container] if container not in (None, "") else []


class FakeMaster:
    """See the module docstring."""

    def __init__(self, *, base_path="/tiki", tracker=None, fields=None, items=None, users=None,
                 categories=None, accounts=None, tokens=None, tls=None, **settings):
        self.base_path = base_path.rstrip("/")
        self.settings = Settings(**settings)
        self.accounts = dict(accounts if accounts is not None else {USER: PASSWORD})
        self.tokens = dict(tokens if tokens is not None else {TOKEN: USER})
        self.session_store = Sessions(self)
        self.tls = tls
        self.lock = threading.RLock()
        self.requests = []
        self.api_count = 0
        self.page_count = 0
        self.updated = Counter()  # item id -> updates applied to it (update_item(s))
        self.trackers, self.fields, self.items = {}, {}, {}
        self.users = [dict(u) for u in (users if users is not None else DEFAULT_USERS)]
        self.categories = [dict(c) for c in (categories if categories is not None
                                             else DEFAULT_CATEGORIES)]
        self._next_item = 1
        tracker = tracker or {"trackerId": 1, "name": "SyncDemo",
                              "description": "Demo tracker for sync tests"}
        self.add_tracker(tracker, fields if fields is not None else DEFAULT_FIELDS)
        for entry in (items if items is not None else DEFAULT_ITEMS):
            status, values = entry if isinstance(entry, tuple) else ("o", entry)
            self.add_item(tracker["trackerId"], values, status=status)
        self.faults = Faults()
        self.server = None

    # --- data --------------------------------------------------------------------------------

    def now(self):
        if self.settings.clock is not None:
            return self.settings.clock
        return int(time.time()) + self.settings.clock_offset

    def add_tracker(self, tracker, fields=()):
        tracker = dict(tracker)
        tracker.setdefault("description", "")
        self.trackers[int(tracker["trackerId"])] = tracker
        rows = []
        for position, spec in enumerate(fields, start=1):
            row = {"position": position * 10, "isMain": "n", "isTblVisible": "y",
                   "isSearchable": "y", "isPublic": "y", "isHidden": "n", "isMandatory": "n",
                   "description": "", "descriptionIsParsed": "n", "rules": "", "options": "{}"}
            row.update(spec)
            rows.append(row)
        self.fields[int(tracker["trackerId"])] = rows
        return tracker["trackerId"]

    def add_item(self, tracker_id=1, values=None, status="o"):
        with self.lock:
            item_id = self._next_item
            self._next_item += 1
            perms = [f["permName"] for f in self.fields[int(tracker_id)]]
            stamp = self.now()
            self.items[item_id] = {
                "itemId": item_id, "trackerId": int(tracker_id), "status": status,
                "fields": {p: str((values or {}).get(p, "")) for p in perms},
                "created": stamp, "lastModif": stamp}
            return item_id

    def delete_item(self, item_id):
        with self.lock:
            return self.items.pop(int(item_id), None)

    def tracker_items(self, tracker_id):
        return [i for i in self.items.values() if i["trackerId"] == int(tracker_id)]

    def requests_to(self, script):
        """The recorded requests whose path ends with `script` (e.g. "tiki-api.php")."""
        return [r for r in self.requests if r.path.endswith(script)]

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def port(self):
        return self.server.server_address[1]

    @property
    def origin(self):
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def url(self):
        return self.origin + self.base_path

    def start(self, port=0):
        """Serve (again, after stop(), on the same `port` when given: a master back up)."""
        self.server = _Server(("127.0.0.1", port), handler_for(self))
        self.server.daemon_threads = True
        if self.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(timeout=5)
            self.server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- answers -----------------------------------------------------------------------------

    def _id(self, value):
        return str(value) if self.settings.strings else value

    def _empty(self, value):
        return self.settings.empty if value in ("", None) else value

    def _item_json(self, item):
        values = item["fields"]
        if self.settings.empty_dates_now:
            dates = {f["permName"] for f in self.fields[item["trackerId"]]
                     if f["type"] in ("f", "j")}
            values = {p: str(self.now()) if p in dates and v in ("", None) else v
                      for p, v in values.items()}
        row = {"itemId": self._id(item["itemId"]), "status": item["status"],
               "fields": {p: self._empty(v) for p, v in values.items()} or []}
        if self.settings.with_times:
            row["lastModif"], row["created"] = item["lastModif"], item["created"]
        return row

    def _require_admin(self, user):
        if user is None and not self.settings.require_auth:
            return
        if user is None or user in self.settings.limited_users:
            raise ApiError(403, "Reserved for tracker administrators")

    def _tracker(self, params):
        try:
            tracker_id = int(params.get("trackerId") or 0)
        except (TypeError, ValueError):
            tracker_id = 0
        if tracker_id not in self.trackers:
            raise ApiError(404, "Not found")
        return tracker_id

    def _page(self, rows, params, gen):
        s = self.settings
        try:
            offset = int(params.get("offset") or 0)
            default = "-1" if gen == "B" else "0"
            size = int(params.get("maxRecords", default) or 0)
        except (TypeError, ValueError):
            raise ApiError(400, "Invalid data provided") from None
        if s.ignore_offset or offset < 0:
            offset = 0
        if s.max_records_cap and (size < 0 or size > s.max_records_cap):
            size = s.max_records_cap
        return rows[offset:] if size < 0 else rows[offset:offset + size]

    def _result(self, rows, extra):
        shape = self.settings.result_shape
        if shape == "object":
            extra["result"] = {str(i): row for i, row in enumerate(rows, start=7)}
        elif shape == "null":
            extra["result"] = None
        elif shape != "missing":
            extra["result"] = rows
        return extra

    def list_trackers(self, user, params):
        visible = [] if (user is None and self.settings.require_auth) else \
            sorted(self.trackers.values(), key=lambda t: t["trackerId"])
        data = [{"trackerId": self._id(t["trackerId"]), "name": t["name"],
                 "description": t["description"], "descriptionIsParsed": "n",
                 "created": 1795764270, "lastModif": 1795764271,
                 "items": self._id(len(self.tracker_items(t["trackerId"])))} for t in visible]
        return {"list": {str(t["trackerId"]): t["name"] for t in visible} or [],
                # Tiki counts every tracker, also those it then hides (tiki-examples/50).
                "data": data, "cant": self._id(len(self.trackers))}

    def export_fields(self, user, params):
        self._require_admin(user)
        tracker_id = self._tracker(params)
        lines = []
        for row in self.fields[tracker_id]:
            lines.append(f"[FIELD{row['fieldId']}]")
            for key in EXPORT_KEYS:
                value = row.get(key, "")
                if self.settings.legacy_export and key == "isMandatory":
                    key = "sMandatory"
                if self.settings.legacy_export and key == "options":
                    value = ",".join(str(v) for v in _values(
                        json.loads(value or "{}").get("options", [])))
                lines.append(f"{key} = {value}")
        return {"title": "Export Fields", "trackerId": tracker_id,
                "fields": self.fields[tracker_id], "export": "\n".join(lines) + "\n"}

    def list_items(self, user, params, gen):
        with self.lock:
            self.page_count += 1
            page_number = self.page_count
        self._require_admin(user)
        tracker_id = self._tracker(params)
        if page_number in self.settings.fail_pages:
            raise ApiError(self.settings.fail_status, "Service unavailable")
        rows = sorted(self.tracker_items(tracker_id), key=lambda i: i["itemId"])
        if params.get("status"):
            rows = [i for i in rows if i["status"] in params["status"]]
        if params.get("modifiedSince") not in (None, ""):
            rows = [i for i in rows if i["lastModif"] > int(params["modifiedSince"])]
        if self.settings.item_id_filter and params.get("itemId") not in (None, ""):
            wanted = {int(v) for v in _values(params["itemId"])}
            rows = [i for i in rows if i["itemId"] in wanted]
        if self.settings.unordered:
            rows.sort(key=lambda i: (i["itemId"] * 7919) % 101)
        page = [self._item_json(i) for i in self._page(rows, params, gen)]
        if self.settings.unordered:
            random.Random(page_number).shuffle(page)
        return self._result(page, {"trackerId": tracker_id, "offset": params.get("offset"),
                                   "maxRecords": params.get("maxRecords")})

    def _values_from(self, tracker_id, params):
        perms = {f["permName"] for f in self.fields[tracker_id]}
        values = params.get("fields") or {}
        if not isinstance(values, dict):
            raise ApiError(400, "Invalid data provided")
        return {p: str(v) for p, v in values.items() if p in perms}

    def insert_item(self, user, params):
        self._require_admin(user)
        tracker_id = self._tracker(params)
        values = self._values_from(tracker_id, params)
        if not values or self.settings.insert_without_id:
            return {"title": "Create Item", "trackerId": tracker_id, "itemId": 0,
                    "fields": self.fields[tracker_id]}
        for row in self.fields[tracker_id]:
            if row.get("isMandatory") == "y" and not values.get(row["permName"]):
                raise ApiError(409, f"<!--field[{row['permName']}]-->Field Required")
        item_id = self.add_item(tracker_id, values, status=params.get("status") or "o")
        if self.settings.lose_insert_reply:
            raise LoseReply()
        return dict(self._item_json(self.items[item_id]), itemTitle=values.get("title", ""))

    def update_item(self, user, params, path_item=None):
        self._require_admin(user)
        tracker_id = self._tracker(params)
        try:
            item_id = int(path_item if path_item is not None else params.get("itemId") or 0)
        except ValueError:
            item_id = 0
        if not item_id:
            raise ApiError(409, "<!--field[itemId]-->Field Required")
        item = self.items.get(item_id)
        if item is None or item["trackerId"] != tracker_id:
            raise ApiError(404, "Not found")
        if self.settings.reject_updates is not None:  # Tiki 18+: 200, errors as feedback
            return {"extra": "refresh", "feedback": [
                {"type": "error", "message": self.settings.reject_updates}]}
        with self.lock:
            item["fields"].update(self._values_from(tracker_id, params))
            if params.get("status"):
                item["status"] = params["status"]
            item["lastModif"] = self.now()
            self.updated[item_id] += 1
        return dict(self._item_json(item), extra="refresh")

    def edit_field(self, user, params):
        self._require_admin(user)
        tracker_id = self._tracker(params)
        for row in self.fields[tracker_id]:
            if str(row["fieldId"]) == str(params.get("fieldId")):
                return {"title": "Edit Field", "field": dict(row, fieldId=self._id(row["fieldId"]))}
        raise ApiError(404, "Field not found")

    def list_users(self, user, params, gen):
        groups = {int(g) for g in _values(params.get("groupIds"))}
        rows = [u for u in self.users if not groups or groups & set(u["groups"])]
        rows = [dict(u, userId=self._id(u["userId"])) for u in rows]
        if user is None and self.settings.require_auth:
            return {"result": None, "count": 0}
        return self._result(self._page(rows, params, gen), {"count": self._id(len(rows))})

    def list_categories(self, user, params):
        parent = params.get("parentId")
        if parent in (None, "") and self.settings.categories_need_parent:
            raise ApiError(409, "<!--field[parentId]-->Field Required")
        if parent in (None, ""):
            rows = self.categories if params.get("type") == "all" else \
                [c for c in self.categories if not c["parentId"]]
        else:
            wanted = {int(parent)}
            if str(params.get("descends")) == "1":
                grew = True
                while grew:
                    before = len(wanted)
                    wanted |= {c["categId"] for c in self.categories if c["parentId"] in wanted}
                    grew = len(wanted) > before
                wanted.discard(int(parent))
                rows = [c for c in self.categories if c["categId"] in wanted]
            else:
                rows = [c for c in self.categories if c["parentId"] == int(parent)]
        return {str(c["categId"]): {k: self._id(v) if k != "name" else v for k, v in c.items()}
                for c in rows} or []

    # --- auth --------------------------------------------------------------------------------

    def user_for(self, gen, record):
        """(user or None); raises ApiError(401) for a wrong Basic password or token."""
        header = record.authorization or ""
        if gen == "B":
            if header.lower().startswith("bearer "):
                user = self.tokens.get(header[7:].strip())
                if user is None:
                    raise ApiError(401, "Invalid token")
                return user
            return None
        if header.lower().startswith("basic ") and not self.settings.basic_off:
            try:
                name, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                raise ApiError(401, "") from None
            if self.accounts.get(name) != password:
                raise ApiError(401, "")
            return name
        return self.session_store.user(record)

    def dispatch(self, gen, record, params, route_match=None):
        user = self.user_for(gen, record)
        action = params.get("action")
        controller = params.get("controller")
        if gen == "B":
            controller, action, extra = route_match
            params.update(extra)
        sid = self.session_store.find(record) if gen == "A" else None
        if gen == "A" and self.settings.tickets and (controller, action) == (
                "tracker", "insert_item"):
            refused = self._ticket_refused(record, params, sid)
            if refused is not None:
                return refused
        payload = self._handle(controller, action, user, params, gen)
        if sid is not None and self.settings.tickets and isinstance(payload, dict):
            payload["nextTicket"] = self.session_store.ticket(sid)
        return payload

    def _ticket_refused(self, record, params, sid):
        """Tiki's checks before an insert over Gen A: a form (itemId 0) without a ticket, a
        401 for a foreign or missing site, or a ticket the session does not hold."""
        if not params.get("ticket"):
            return {"title": "Create Item", "trackerId": self._tracker(params), "itemId": 0,
                    "fields": self.fields[self._tracker(params)]}
        site = self.session_store.site_error(record)
        if site is not None:
            raise ApiError(401, site, as_json=True)
        if sid is None or not self.session_store.spend(sid, params["ticket"]):
            raise ApiError(401, BAD_TICKET, as_json=True)
        return None

    def _handle(self, controller, action, user, params, gen):
        handlers = {
            ("tracker", "list_trackers"): lambda: self.list_trackers(user, params),
            ("tracker", "export_fields"): lambda: self.export_fields(user, params),
            ("tracker", "list_items"): lambda: self.list_items(user, params, gen),
            ("tracker", "insert_item"): lambda: self.insert_item(user, params),
            ("tracker", "update_item"): lambda: self.update_item(
                user, params, params.get("_pathItem")),
            ("tracker", "update_items"): lambda: fake_batch.update_items(self, user, params),
            ("tracker", "edit_field"): lambda: self.edit_field(user, params),
            ("user", "list_users"): lambda: self.list_users(user, params, gen),
            ("category", "list_categories"): lambda: self.list_categories(user, params),
            ("api", "version"): lambda: self._version(),
        }
        handler = handlers.get((controller, action))
        if handler is None:
            raise ApiError(404, f"Action not found ({action} in {controller})")
        return handler()

    def _version(self):
        if self.settings.version is None:
            raise ApiError(404, "Route not found")
        answer = {"version": self.settings.version}
        if self.settings.batch_updates:
            answer["updates"] = True
        return answer


@pytest.fixture
def make_master():
    """A factory: make_master(**kw) starts a FakeMaster; all are stopped after the test."""
    started = []

    def factory(**kw):
        master = FakeMaster(**kw).start()
        started.append(master)
        return master

    yield factory
    for master in started:
        master.stop()


@pytest.fixture
def fake_master(make_master):
    """One started FakeMaster under /tiki, with Tiki 24.1's demo tracker."""
    return make_master()

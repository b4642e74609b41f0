"""TikiClient: the web-service calls tracker synchronization needs, over either generation.

Gen A (Tiki 8-23): `POST {base}/tiki-ajax_services.php?controller=C&action=A`, arguments
form-encoded with PHP brackets. Gen B (Tiki 24+): `{base}/tiki-api.php?route=PATH`, GET for
reads with the arguments in the query, POST for writes, Bearer tokens (tiki-protocol.md §2-§5).
The generation is fixed by the credential or detected: Gen B when a Bearer credential gets
JSON from `route=version` (or `route=trackers`), else Gen A. Lists are read page by page as
remote.paging says.
"""
from __future__ import annotations

import functools
import time
from collections.abc import Iterable, Iterator
from urllib.parse import urlencode

from . import errors as e
from . import exportfmt, now_dates, session_path, shapes
from .idset import IdSet
from .paging import Unfiltered, page_lists, wanted_pages
from .transport import Transport
from .urls import normalize_base

GENERATIONS = ("auto", "A", "B")
MAX_ID_FILTER = 200  # ids sent as a filter; beyond this only the client filters (URL length)


def form_pairs(params: dict) -> list[tuple[str, str]]:
    """PHP `http_build_query` encoding: nested dicts and lists become bracket keys, None is
    left out, booleans are 1/0. A key ending in `[]` with a list repeats the key."""
    pairs = []

    def add(key, value):
        if value is None:
            return
        if isinstance(value, bool):
            pairs.append((key, "1" if value else "0"))
        elif isinstance(value, dict):
            for sub, inner in value.items():
                add(f"{key}[{sub}]", inner)
        elif isinstance(value, (list, tuple)):
            for index, inner in enumerate(value):
                add(key if key.endswith("[]") else f"{key}[{index}]", inner)
        else:
            pairs.append((key, str(value)))

    for key, value in params.items():
        add(key, value)
    return pairs


class TikiClient:
    """One master. `auth` is a remote.auth credential object (or None for anonymous);
    `outbound(url)` may refuse URLs; `session` is an injectable requests.Session."""

    def __init__(self, base_url, *, generation="auto", auth=None, session=None, timeout=30,
                 verify=True, retries=3, backoff=0.5, outbound=None):
        if generation not in GENERATIONS:
            raise ValueError(f"generation must be one of {', '.join(GENERATIONS)}")
        self.base_url = normalize_base(base_url)
        self.auth = auth
        self._fixed = None if generation == "auto" else generation
        self._generation = self._fixed
        self.version = None  # what route=version said, when asked
        self.filters_ids = None  # False once the master showed it ignores an itemId filter
        # {tracker id: date permNames} from the last export_fields: their "now" reads empty
        self.date_perms = {}
        self.spelled = {}  # {tracker id: {permName: type}} of values with several spellings
        self.transport = Transport(self.base_url, auth=auth, session=session, timeout=timeout,
                                   verify=verify, retries=retries, backoff=backoff,
                                   outbound=outbound)

    def __repr__(self):
        return f"<TikiClient {self.base_url} generation={self._generation or 'auto'}>"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self.transport.close()

    @property
    def can_fork(self) -> bool:
        """True when `fork` gives an equivalent client for another thread: an HTTP session of
        our own, and a credential without state (a session login keeps cookies)."""
        return self.transport.owns_session and (
            self.auth is None or getattr(self.auth, "method", None) in ("basic", "bearer",
                                                                        "header"))

    def fork(self) -> TikiClient:
        """Another client for the same master, credential and settings with its own HTTP
        session, for use in another thread (requests.Session is not thread-safe)."""
        if not self.can_fork:
            raise ValueError("this client cannot be shared across threads")
        t = self.transport
        twin = TikiClient(self.base_url, generation=self.generation, auth=self.auth,
                          timeout=t.timeout, verify=t.verify, retries=t.retries,
                          backoff=t.backoff, outbound=t.outbound)
        twin.version = self.version
        twin.filters_ids = self.filters_ids
        twin.date_perms = self.date_perms
        twin.spelled = self.spelled
        return twin

    @property
    def last_server_time(self) -> int | None:
        """The master's clock (Unix seconds) from the Date header of the last answer."""
        return self.transport.last_server_time

    # --- generation --------------------------------------------------------------------------

    @property
    def generation(self) -> str:
        if self._generation is None:
            self.detect()
        return self._generation

    def detect(self) -> str:
        """"A" or "B"; asks the master only for a Bearer credential without a fixed choice."""
        if self._fixed:
            self._generation = self._fixed
        elif self.auth is not None and getattr(self.auth, "bearer", False):
            self._generation = self._probe_b()
        else:
            self._generation = "A"
        return self._generation

    def _probe_b(self):
        for route in ("version", "trackers"):
            try:
                answer = self.transport.json("GET", self._url_b(route))
            except e.Unauthorized:
                return "B"  # tiki-api.php is there and refused the token: the calls will say so
            except (e.NotFound, e.NotJson, e.Forbidden, e.RemoteValidationError,
                    e.ServerError, e.RedirectRefused):
                continue
            if isinstance(answer, dict) and route == "version" and answer.get("version"):
                self.version = str(answer["version"])
                return "B"
            if isinstance(answer, dict) and ("list" in answer or "data" in answer):
                return "B"
        return "A"

    # --- plumbing ----------------------------------------------------------------------------

    def _url_a(self, controller, action):
        return f"{self.base_url}/tiki-ajax_services.php?" + urlencode(
            [("controller", controller), ("action", action)])

    def _url_b(self, route, params=None):
        pairs = [("route", route)] + form_pairs(params or {})
        return f"{self.base_url}/tiki-api.php?" + urlencode(pairs, safe="/[]")

    def _read(self, controller, action, route, params_a, params_b, post_b=False):
        """(answer, url) of a read call; reads may be retried."""
        if self.generation == "A":
            url = self._url_a(controller, action)
            if session_path.session_of(self) is not None:
                return session_path.read(self, url, form_pairs(params_a)), url
            return self.transport.json("POST", url, data=form_pairs(params_a)), url
        if post_b:
            url = self._url_b(route)
            return self.transport.json("POST", url, data=form_pairs(params_b)), url
        url = self._url_b(route, params_b)
        return self.transport.json("GET", url), url

    def _write(self, controller, action, route, params_a, params_b):
        """(answer, url) of a write call: sent once, never retried (but for a session's
        refused ticket, which Tiki checks before it writes anything)."""
        url = self._url_a(controller, action) if self.generation == "A" else self._url_b(route)
        params = params_a if self.generation == "A" else params_b
        if self.generation == "A" and session_path.session_of(self) is not None:
            return session_path.write(self, url, action, params), url
        return self._send_write(url, params), url

    def _send_write(self, url, params, headers=None):
        try:
            return self.transport.json("POST", url, data=form_pairs(params), read=False,
                                       headers=headers)
        except e.NotATiki:
            raise  # no Tiki there: nothing was written
        except (e.NotJson, e.ServerError) as exc:
            exc.maybe_written = True  # the master got the request; it may have applied it
            raise

    def _pages(self, fetch, key, page_size):
        """Rows of every page of `fetch(offset, size)`, each once (see paging.page_lists)."""
        for page in page_lists(fetch, key, page_size, set(), base_url=self.base_url):
            yield from page

    # --- calls -------------------------------------------------------------------------------

    def list_trackers(self) -> list[dict]:
        """[{"id", "name", "description", "items"}] visible to the account."""
        answer, url = self._read("tracker", "list_trackers", "trackers", {}, {})
        found = shapes.trackers(answer, url)
        if not found and getattr(self.auth, "method", None) == "basic" \
                and self.auth.covers(self.transport.final_url or url) \
                and shapes.to_int(answer.get("cant")):
            # Tiki counts the trackers before it drops those the visitor may not see: trackers
            # exist, and an account that may list none is anonymous (tiki-examples/50).
            raise e.BasicIgnored(
                f"{self.base_url} ignored HTTP Basic and answered as to an anonymous visitor: "
                "on the master set the preference login_http_basic to always (Admin > Log in), "
                f"or give the credential {self.auth.identifier!r} the method session (log in "
                "with user and password)", url=url, status=200)
        return found

    def export_fields(self, tracker_id: int) -> tuple[str, list[dict]]:
        """(export text, parsed fields) of a remote tracker (§6)."""
        tracker_id = int(tracker_id)
        answer, url = self._read("tracker", "export_fields", f"trackers/{tracker_id}/fields/export",
                                 {"trackerId": tracker_id}, {})
        text = shapes.export_text(answer, url)
        fields = exportfmt.parse(text)
        self.date_perms[tracker_id] = now_dates.date_perms(fields)
        self.spelled[tracker_id] = now_dates.spelled(fields)
        return text, fields

    def iter_items(self, tracker_id: int, *, status: str | None = None,
                   modified_since: int | None = None, item_ids: Iterable[int] | None = None,
                   page_size: int = 1000, fmt: str = "raw", strict: bool = False
                   ) -> Iterator[dict]:
        """Every item (normalised, see remote.shapes.item), page by page, each once."""
        for page in self.iter_item_pages(tracker_id, status=status, modified_since=modified_since,
                                         item_ids=item_ids, page_size=page_size, fmt=fmt,
                                         strict=strict):
            yield from page

    def read_items(self, tracker_id: int, item_ids: Iterable[int],
                   modified_since: int | None = None) -> dict[int, dict]:
        """{itemId: item} of `item_ids` as the master holds them now.

        A master that filters list_items by itemId (ours) is asked for exactly those and no
        modifiedSince: the answer does not depend on its clock. A Tiki has no such filter: the
        first page shows it (a row not asked for), and from then on the items modified since
        `modified_since` are read (all of them when None) and those asked for kept, so an id
        missing from the answer is one that did not change since then."""
        wanted = sorted({int(i) for i in item_ids})
        found = {}
        if self.filters_ids is not False:
            try:
                for start in range(0, len(wanted), MAX_ID_FILTER):
                    chunk = wanted[start:start + MAX_ID_FILTER]
                    found.update((item["itemId"], item) for item in self.iter_items(
                        tracker_id, item_ids=chunk, page_size=len(chunk), strict=True))
                return found
            except Unfiltered:
                self.filters_ids = False
        rest = set(wanted) - found.keys()
        if rest:
            found.update((item["itemId"], item) for item in self.iter_items(
                tracker_id, item_ids=rest, modified_since=modified_since))
        return found

    def iter_item_pages(self, tracker_id: int, *, status: str | None = None,
                        modified_since: int | None = None,
                        item_ids: Iterable[int] | None = None, page_size: int = 1000,
                        fmt: str = "raw", ahead: int = 1,
                        seen: IdSet | None = None, strict: bool = False) -> Iterator[list[dict]]:
        """The items of iter_items as one list per page (never an empty one); `ahead`: pages
        asked for at once (see paging.page_lists), each thread with a fork of this client
        (one at a time when it cannot fork); `seen`: an IdSet that receives every item id;
        `strict`: a row outside `item_ids` raises paging.Unfiltered (see read_items)."""
        tracker_id = int(tracker_id)
        wanted = None if item_ids is None else {int(i) for i in item_ids}
        params = {}
        if fmt:
            params["format"] = fmt
        if status:
            params["status"] = "".join(status)
        if modified_since is not None:
            params["modifiedSince"] = int(modified_since)
        if wanted and len(wanted) <= MAX_ID_FILTER:
            # Our own master filters by id; a Tiki ignores this and we filter below.
            params["itemId[]"] = sorted(wanted)

        def fetch(offset, size, client=self):
            page = dict(params, offset=offset, maxRecords=size)
            started, clock = time.time(), time.monotonic()
            answer, url = client._read("tracker", "list_items", f"trackers/{tracker_id}",
                                       {"trackerId": tracker_id, **page}, page)
            span = now_dates.window(client.transport.reply_date, time.monotonic() - clock,
                                    started, time.time())
            result = shapes.result_list(answer, url)
            if result is None:
                raise e.BadShape(f"{url}: `result` is null instead of a list of items", url=url)
            items = []
            for row in result:
                item = shapes.fast_item(row)
                items.append(item if item is not None else shapes.item(row, url))
            now_dates.settle(items, client.spelled.get(tracker_id))
            return now_dates.blank_now(items, client.date_perms.get(tracker_id), span)

        def fetcher():  # for a thread asking for pages ahead: a client of its own
            twin = self.fork()
            return functools.partial(fetch, client=twin), twin.close

        seen = IdSet() if seen is None else seen
        # Without an equivalent client for each thread, pages come one at a time.
        pages = page_lists(fetch, _item_id, page_size, seen, ahead, self.base_url,
                           fetcher if self.can_fork else None)
        return pages if wanted is None else wanted_pages(pages, wanted, strict)

    def insert_item(self, tracker_id: int, status: str | None, fields: dict) -> dict:
        """Create an item; {"itemId": int > 0, "status", "fields", ...} or MissingItemId."""
        tracker_id = int(tracker_id)
        params = {"status": status or None, "fields": dict(fields)}
        answer, url = self._write("tracker", "insert_item", f"trackers/{tracker_id}/items",
                                  {"trackerId": tracker_id, **params}, params)
        if not isinstance(answer, dict):
            error = e.BadShape(f"{url} answered the insert with a {type(answer).__name__} "
                               "instead of an object, so whether the item was created cannot "
                               "be told: the next push looks for it before inserting again",
                               url=url)
            error.maybe_written = True
            raise error
        item_id = shapes.to_int(answer.get("itemId"))
        if not item_id or item_id < 0:
            shown = answer.get("itemId")
            hint = ("check the master's log" if self.generation == "B" else
                    session_path.missing_id_hint(self))
            raise e.MissingItemId(
                f"{url} answered the insert without an item id (itemId={shown!r}), so it must be "
                f"taken as not created: {hint}", url=url)
        if not isinstance(answer.get("fields"), dict):
            answer = dict(answer, fields={})  # the item exists: never lose its id over a shape
        return shapes.item(answer, url)

    def update_item(self, tracker_id: int, item_id: int, status: str | None,
                    fields: dict) -> dict:
        """Change an item (only the fields given). Gen B puts the id in the path only: a body
        itemId would win over it (W12). Tiki may answer 200 to a rejected change (W4): the
        caller re-reads the item to verify."""
        tracker_id, item_id = int(tracker_id), int(item_id)
        params = {"status": status or None, "fields": dict(fields)}
        answer, url = self._write("tracker", "update_item",
                                  f"trackers/{tracker_id}/items/{item_id}",
                                  {"trackerId": tracker_id, "itemId": item_id, **params}, params)
        result = {"itemId": item_id, "status": None, "fields": {}}
        if isinstance(answer, dict):
            answer = dict(answer, itemId=shapes.to_int(answer.get("itemId")) or item_id)
            if isinstance(answer.get("fields"), list) and answer["fields"]:
                answer["fields"] = {}  # Tiki 9 answers the field definitions here
            result = shapes.item(answer, url)
            if is_blank_status(answer.get("status")):
                result["status"] = None
            message = shapes.feedback(answer)
            if message:
                result["message"] = message  # what a 200 that rejected the change says
        return result

    def list_users(self, group_ids: Iterable[int] | None = None,
                   page_size: int = 1000) -> list[dict]:
        """[{"login", "userId"}] of every page; Forbidden when the account may not list users."""
        params = {"groupIds": [int(g) for g in group_ids]} if group_ids else {}

        def fetch(offset, size):
            page = dict(params, offset=offset, maxRecords=size)
            answer, url = self._read("user", "list_users", "users", page, page)
            result = shapes.result_list(answer, url)
            if result is None:
                raise e.Forbidden(f"{self.base_url} does not let this account list its users "
                                  "(it needs list_users or admin_users rights)", url=url)
            return [shapes.user(row, url) for row in result]

        return list(self._pages(fetch, lambda row: row["login"], page_size))

    def list_categories(self, parent_id: int | None = None,
                        descends: bool = False) -> list[dict]:
        """[{"categId", "name", "parentId"}]: children (or all descendants) of `parent_id`;
        without a parent, the roots (or all) - Tiki 9-23 answer 409 to that."""
        if parent_id is not None:
            params = {"parentId": int(parent_id), "descends": 1 if descends else 0}
        else:
            params = {"type": "all" if descends else "roots", "descends": 1 if descends else 0}
        answer, url = self._read("category", "list_categories", "categories", params, params)
        return shapes.categories(answer, url)

    def edit_field(self, tracker_id: int, field_id: int) -> dict:
        """A remote field's definition (read-only: no `name` is sent, so nothing changes)."""
        tracker_id, field_id = int(tracker_id), int(field_id)
        answer, url = self._read("tracker", "edit_field",
                                 f"trackers/{tracker_id}/fields/{field_id}",
                                 {"trackerId": tracker_id, "fieldId": field_id}, {}, post_b=True)
        return shapes.field(answer, url)


def _item_id(row):
    return row["itemId"]


def is_blank_status(value: object) -> bool:
    return value is None or value is False or value == "" or value == []

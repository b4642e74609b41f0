"""What the reliability suites (tests/test_reliability_*.py) share: a fake master and its clone
set up in one call, the operations run through the UI as an admin runs them (the job runner
inline), master and clone compared, and the checks every case makes.

    pair = Pair.make(app, make_master, gen="B")          # cloned and reloaded, 12 items
    outcome = pair.push()                                # through preview and push pages
    outcome.ok, outcome.messages, outcome.errors_500
    pair.differences()                                   # [] when master and clone agree

A message is "clear" when it is one line, carries no traceback and names the cause with the
words the fault's row expects (FAULTS).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from tests.support.apps import make_user, session_of
from tests.support.fake_master import DEFAULT_FIELDS
from tests.support.pages import soup, url
from tests.support.sync import client, connect, make_clone
from tests.support.waiting import wait_until
from tikisync_web.db import database
from tikisync_web.fields import normalize_raw
from tikisync_web.models import Field, Item, Job, Tracker, User
from tikisync_web.sync import reload as reload_mod

FIELDS = DEFAULT_FIELDS + [{"fieldId": 6, "name": "Due", "permName": "due", "type": "f",
                            "options": '{"datetime":"d"}'}]
TIMEOUT = 10  # the client's timeout in these suites: a loaded machine is no fault...
STALL_TIMEOUT, STALL = 1, 2.5  # ...but while a stall is played, a stall outlasts it


@dataclass(frozen=True)
class Fault:
    """A fault the fake master plays (tests/support/fake_faults.py), how many requests in a
    row it strikes (reads are retried: a cut that persists makes the read fail), and the words
    one of which a message about it must carry."""
    kind: str
    repeat: int
    words: tuple


FAULTS = {
    "500 on the k-th request": Fault("500", 1, ("the master failed (500",)),
    "500 after the master applied it": Fault("500_applied", 1, ("the master failed (500",)),
    "connection cut before the answer": Fault("cut_before", 4, (
        "closed before the answer",)),
    "connection cut mid-body": Fault("cut_mid", 4, ("cut in the middle of the answer",)),
    "truncated JSON": Fault("truncated", 1, ("invalid or truncated JSON",)),
    "malformed JSON": Fault("malformed", 1, ("invalid or truncated JSON",)),
    "200 HTML page": Fault("html", 1, ("HTML page instead of JSON",)),
    "result not a list": Fault("not_list", 1, ("not a list", "not an object",
                                                "instead of an object", "`result`")),
    "stall past the client timeout": Fault("stall", 1, ("did not answer within",)),
}
DOWN_WORDS = ("connection refused",)


@dataclass
class Outcome:
    """What an operation came to: `ok` (nothing failed), the messages shown for what failed,
    and the answers that were 500s (or carried a traceback)."""
    ok: bool = True
    messages: list = field(default_factory=list)
    errors_500: int = 0

    def fail(self, message):
        self.ok = False
        self.messages.append(message or "(no message)")


def clear(message, words):
    """True when `message` is one line, no traceback, and names the cause (one of `words`)."""
    return "\n" not in message.strip() and "Traceback" not in message and \
        any(word in message for word in words)


def admin_client(app):
    """A test client signed in as an admin (made once per database)."""
    with database.connection_context():
        admin = User.get_or_none(User.username == "admin") or make_user("admin", "admin")
    web = app.test_client()
    with web.session_transaction() as sess:
        sess.update(session_of(admin))
    return web


def item_form(web, app, item_id):
    """The edit form of an item, as a browser would post it unchanged."""
    page = soup(web.get(url(app, "tikisync.item_edit", item_id=item_id)))
    form = page.find("form", class_="ts-form")
    data = {i["name"]: i.get("value", "") for i in form.find_all("input")
            if i.get("name") and (i.get("type") != "checkbox" or i.has_attr("checked"))}
    for select in form.find_all("select"):
        chosen = select.find("option", selected=True) or select.find("option")
        data[select["name"]] = chosen["value"] if chosen else ""
    return data


def session_master_kw(tickets="one-use"):
    """A Tiki 19-23 as tests/test_session_tiki19.py plays it: no tiki-api.php, HTTP Basic
    off, inserts only with a session's CSRF ticket ("one-use", or "session" as 24.1)."""
    return {"generations": "A", "version": None, "basic_off": True, "tickets": tickets}


def configure(app):
    app.config.update(TIKISYNC_HTTP_TIMEOUT=TIMEOUT, TIKISYNC_HTTP_BACKOFF=0)


class Pair:
    """A fake master and a clone of its tracker 1 in the app's database."""

    def __init__(self, app, web, master, tracker_id):
        self.app, self.web, self.master, self.tracker_id = app, web, master, tracker_id
        self.url = master.url  # also while it is down

    @classmethod
    def make(cls, app, make_master, gen="B", items=12, cloned=True, method=None, **master_kw):
        """Gen B plays a Tiki 24+ (an empty date reads as "now"); Gen A one of 9-23, with
        HTTP Basic unless `method` says "session" (see session_master_kw)."""
        configure(app)
        master_kw.setdefault("empty_dates_now", gen == "B")
        master = make_master(items=[("o", {"title": f"item {n}", "amount": str(n),
                                           "priority": "low"}) for n in range(items)],
                             fields=FIELDS, **master_kw)
        connect(app, master, method=method or ("bearer" if gen == "B" else "basic"))
        tracker_id = None
        if cloned:
            tracker = make_clone(app, master)
            with client(app, master.url) as c:
                reload_mod.reload(tracker, c, page_size=5)
            tracker_id = tracker.id
        return cls(app, admin_client(app), master, tracker_id)

    # --- faults ---------------------------------------------------------------------------
    def arm(self, fault, at):
        """Play `fault` from the `at`-th API request on (counted from now)."""
        self.master.faults.clear()
        self.strike(fault.kind, at=range(at, at + fault.repeat))

    def strike(self, kind, **where):
        """Arm one fault (fake_faults.Faults.arm); a stall comes with a short client timeout."""
        if kind == "stall":
            self.app.config["TIKISYNC_HTTP_TIMEOUT"] = STALL_TIMEOUT
        self.master.faults.arm(kind, stall=STALL, **where)

    def calm(self):
        self.master.faults.clear()
        self.app.config["TIKISYNC_HTTP_TIMEOUT"] = TIMEOUT

    def down(self):
        """Stop the master; `up()` brings it back on the same port."""
        self._port = self.master.port
        self.master.stop()

    def up(self):
        self.master.start(port=self._port)

    # --- operations, as an admin does them in the UI ----------------------------------------
    def _page(self, outcome, response):
        if response.status_code >= 500 and response.status_code != 503 or \
                "Traceback" in response.get_data(as_text=True):
            outcome.errors_500 += 1
        return response

    def _job(self, outcome, response):
        self._page(outcome, response)
        job = Job.select().where(Job.tracker == self.tracker_id).order_by(Job.id.desc()).first()
        self._page(outcome, self.web.get(url(self.app, "tikisync.job", job_id=job.id)))
        self._page(outcome, self.web.get(url(self.app, "tikisync.sync",
                                             tracker_id=self.tracker_id)))
        if job.state != "done":
            outcome.fail(job.error)
        for failed in (job.result or {}).get("failed", []):
            outcome.fail(failed["error"])
        return outcome

    def reload(self):
        outcome = Outcome()
        return self._job(outcome, self.web.post(url(self.app, "tikisync.tracker_reload",
                                                    tracker_id=self.tracker_id)))

    def check(self):
        outcome = Outcome()
        return self._job(outcome, self.web.post(url(self.app, "tikisync.tracker_check",
                                                    tracker_id=self.tracker_id)))

    def push(self):
        """Preview everything there is to push, then push that plan."""
        outcome = Outcome()
        preview = self._page(outcome, self.web.get(url(self.app, "tikisync.push_preview",
                                                        tracker_id=self.tracker_id)))
        action = url(self.app, "tikisync.tracker_push", tracker_id=self.tracker_id)
        form = soup(preview).find("form", action=action)
        if form is None:
            return outcome  # nothing to push
        data = {i["name"]: i.get("value", "") for i in form.find_all("input", type="hidden")}
        return self._job(outcome, self.web.post(action, data=data))

    def resolve(self, item_id, choices):
        """Resolve a conflict field by field: {perm: "mine" | "theirs"}."""
        outcome = Outcome()
        data = {f"choice-{perm}": side for perm, side in choices.items()}
        answer = self._page(outcome, self.web.post(url(self.app, "tikisync.item_resolve",
                                                       item_id=item_id), data=data))
        if answer.status_code != 303:
            outcome.fail(soup(answer).get_text(" ", strip=True)[:300])
        return outcome

    def clone(self):
        """The clone wizard's preview and create steps; the new tracker becomes this pair's."""
        outcome = Outcome()
        action = url(self.app, "tikisync.clone_create")
        page = self._page(outcome, self.web.get(url(self.app, "tikisync.clone_preview",
                                                     url=self.url, tracker=1)))
        for _attempt in range(3):  # a preview that changed meanwhile is shown again: confirm
            problem = soup(page).find(id="clone-problem")
            if problem is not None:
                outcome.fail(" ".join(p.get_text(" ", strip=True)
                                      for p in problem.find_all("p")))
                return outcome
            form = soup(page).find("form", action=action)
            if form is None:
                outcome.fail(f"the clone answered {page.status_code} without a form")
                return outcome
            data = {i["name"]: i.get("value", "")
                    for i in form.find_all("input", type="hidden")}
            page = self._page(outcome, self.web.post(action, data=data))
            if page.status_code == 303:
                self.tracker_id = int(page.headers["Location"].rstrip("/").split("/")[-2])
                return outcome
        outcome.fail(f"the clone answered {page.status_code}")
        return outcome

    # --- what each side holds ----------------------------------------------------------------
    def perms(self):
        """The fields compared: synchronized ones, but the date a Tiki 24+ fills with "now"
        whenever it is read (it takes part in the push's adoption, not in comparisons)."""
        local = {f.perm_name for f in Field.select().where(Field.tracker == self.tracker_id)}
        remote = {f["permName"] for f in self.master.fields[1] if f["type"] not in ("q", "f")}
        return sorted(local & remote)

    def master_rows(self):
        perms = self.perms()
        return {i["itemId"]: (i["status"], {p: normalize_raw(i["fields"].get(p, ""))
                                            for p in perms})
                for i in self.master.tracker_items(1)}

    def clone_rows(self):
        """{remote id: (status, values)} of the synchronized items; local-only ones under
        ("new", local id)."""
        perms = self.perms()
        rows = {}
        for item in Item.select().where(Item.tracker == self.tracker_id):
            key = item.remote_id if item.remote_id is not None else ("new", item.id)
            rows[key] = (item.status, {p: normalize_raw((item.values or {}).get(p, ""))
                                       for p in perms})
        return rows

    def differences(self):
        """Where the clone and the master disagree (after a reload or a push that converged)."""
        theirs, mine = self.master_rows(), self.clone_rows()
        found = [f"local item {key[1]} was never pushed" for key in mine if isinstance(key, tuple)]
        found += [f"remote item {rid} has no local copy" for rid in theirs if rid not in mine]
        found += [f"local copy of remote item {rid} has no master item" for rid in mine
                  if not isinstance(rid, tuple) and rid not in theirs]
        found += [f"item {rid}: master {theirs[rid]} != clone {mine[rid]}" for rid in theirs
                  if rid in mine and theirs[rid] != mine[rid]]
        return found

    def duplicates(self):
        """Titles the master holds more than once (every item made here has its own title),
        and items an update was applied to more than once (an edit is sent once: after a lost
        answer the next push reads what the master holds before sending anything)."""
        titles = [i["fields"].get("title") for i in self.master.tracker_items(1)]
        twice = [f"item {item_id} updated {count} times"
                 for item_id, count in sorted(self.master.updated.items()) if count > 1]
        return sorted({t for t in titles if titles.count(t) > 1}) + twice

    def tracker(self):
        return Tracker.get_by_id(self.tracker_id)


class HeldReload:
    """A reload in a thread, held by the master before its `at`-th page (so inside its one
    transaction) until `release()`."""

    def __init__(self, app, master, tracker, at=3, page_size=10):
        self.gate, self.held, self.error = threading.Event(), threading.Event(), None
        master.faults.clear()

        def hold(stage, action, number):
            if stage == "before" and action == "list_items" and \
                    master.faults.seen["list_items"] == at:
                self.held.set()
                self.gate.wait(30)

        master.faults.hook = hold

        def run():
            try:
                with database.connection_context(), client(app, master.url) as c:
                    reload_mod.reload(tracker, c, page_size=page_size)
            except Exception as exc:  # noqa: BLE001 - the test looks at it
                self.error = exc

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        wait_until(self.held.is_set, tries=500, pause=0.02, what="the reload to be held")

    def release(self):
        self.gate.set()
        self.thread.join(30)
        assert self.error is None and not self.thread.is_alive(), self.error

"""The scheduler thread of a web process: on the standalone default (thread runner), the web
process runs its trackers' schedules itself.

Nothing starts at import or at init_app: the UI blueprint calls `ensure_started` on its first
request (STYLE rule 8), which also notes the address the site was reached at, for the links in
notices when TIKISYNC_PUBLIC_URL is not set. TIKISYNC_SCHEDULER says who runs schedules:
`auto` (the default: this thread when TIKISYNC_JOB_RUNNER is `thread`; `tikisync worker`
processes when it is `worker`; nobody for `inline`), `thread` (always here) or `off` (cron
with `tikisync run-due`, or workers). Several web processes may each run one: the claims of
jobs/schedules.py let exactly one of them take each due run. `stop_all` ends them (tests, a
clean shutdown).
"""
import logging
import threading

from ..db import database
from . import runner, schedules

log = logging.getLogger(__name__)
_LOCK = threading.Lock()
_RUNNING = []  # Scheduler objects of this process
_ROOTS = {}  # id(app) -> the URL root of its first request


def wanted(config):
    mode = str(config.get("TIKISYNC_SCHEDULER") or "auto").lower()
    if mode == "auto":
        return config.get("TIKISYNC_JOB_RUNNER") == "thread"
    return mode in ("thread", "on")


def sync_link_template(app):
    """The sync tab's absolute URL with `{id}` for the tracker; "" when no address is known."""
    root = app.config.get("TIKISYNC_PUBLIC_URL") or _ROOTS.get(id(app))
    if not root:
        return ""
    from flask import url_for

    with app.test_request_context(base_url=root):
        link = url_for("tikisync.sync", tracker_id=0, _external=True)
    return link.replace("/trackers/0/", "/trackers/{id}/")


def context_for(app):
    """The job context of scheduled runs: the config keys handlers read, and the link."""
    context = runner.context_from(app.config)
    context["TIKISYNC_SYNC_LINK"] = sync_link_template(app)
    return context


class Scheduler:
    """Looks at the schedules every TIKISYNC_SCHEDULER_TICK seconds (or when woken)."""

    def __init__(self, app):
        self.app = app
        self.tick = float(app.config.get("TIKISYNC_SCHEDULER_TICK") or 15)
        self.stopping = threading.Event()
        self.woken = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True, name="tikisync-scheduler")

    def _loop(self):
        while not self.stopping.is_set():
            try:
                with self.app.app_context(), database.connection_context():
                    schedules.run_due("thread", app=self.app, context=context_for(self.app))
            except Exception:  # noqa: BLE001 - the thread must outlive one bad look
                log.exception("the scheduler could not look at the schedules")
            self.woken.wait(self.tick)
            self.woken.clear()

    def wake(self):
        self.woken.set()

    def stop(self, timeout=10.0):
        self.stopping.set()
        self.woken.set()
        self.thread.join(timeout)
        return not self.thread.is_alive()


def running_for(app):
    return next((s for s in _RUNNING if s.app is app), None)


def ensure_started(app, url_root=None):
    """Start `app`'s scheduler thread if its configuration wants one and none runs yet."""
    if url_root and id(app) not in _ROOTS:
        _ROOTS[id(app)] = url_root
    if not wanted(app.config) or running_for(app) is not None:
        return running_for(app)
    with _LOCK:
        current = running_for(app)
        if current is None:
            current = Scheduler(app)
            _RUNNING.append(current)
            current.thread.start()
    return current


def wake(app):
    """Have `app`'s scheduler look now (after "Run now"); False when none runs here."""
    current = running_for(app)
    if current is not None:
        current.wake()
    return current is not None


def stop_all(timeout=10.0):
    """Stop every scheduler thread of this process; True when all ended."""
    with _LOCK:
        stopping = list(_RUNNING)
        _RUNNING.clear()
    ended = [s.stop(timeout) for s in stopping]
    _ROOTS.clear()
    return all(ended)

"""Jobs: long work (clone, reload, push) as database rows with progress.

Three runners: "thread" runs a job in a thread of the process that queued it (the embedded
default), "inline" runs it at once in the caller (tests, the CLI), "worker" leaves it queued
for `tikisync worker` processes, any number of them on any number of hosts sharing the
database. A job is claimed with a conditional UPDATE (queued -> running), which row-locks it
on PostgreSQL and MariaDB, so it runs once.

Progress goes to the job row from a reporter thread with its own connection, so a reload
that keeps one big transaction open still shows progress on PostgreSQL and MariaDB. SQLite
has a single writer: while that transaction is open the reporter cannot write, so this
process also keeps the live figures in memory (`snapshot` overlays them) and the row
catches up when the transaction ends.
"""
import logging
import os
import socket
import threading
import time
import traceback

import peewee as pw

from ..db import database, is_busy, write_transaction
from ..models import Job

log = logging.getLogger(__name__)
HANDLERS = {}
LIVE = {}  # job id -> Progress, for jobs running in this process
_LIVE_LOCK = threading.Lock()
_THREADS = set()  # runner threads of this process that have not ended
STALE_SECONDS = 60.0
REPORT_EVERY = 0.5


class JobBusy(Exception):
    """The tracker already has a queued or running job."""

    def __init__(self, job):
        self.job = job
        super().__init__(
            f"a {job.kind} of this tracker is already {job.state} (job {job.id}); wait for it "
            "to finish, or see its progress on the tracker's sync tab")


class JobFailed(Exception):
    """Raised by handlers for an expected failure; its message is shown as is."""


def handler(kind):
    """Decorator registering `fn(job, progress) -> result dict` for jobs of `kind`."""

    def register(fn):
        HANDLERS[kind] = fn
        return fn

    return register


def configure(stale_seconds=None):
    """Apply app settings (called by init_app)."""
    global STALE_SECONDS
    if stale_seconds:
        STALE_SECONDS = float(stale_seconds)


CONTEXT_KEYS = (
    "TIKISYNC_HTTP_TIMEOUT", "TIKISYNC_HTTP_BACKOFF", "TIKISYNC_CA_BUNDLE", "TIKISYNC_SECRET_KEY",
    "SECRET_KEY",
    # schedules (jobs/scheduled.py) and their notices (notify/)
    "TIKISYNC_SCHEDULE_RETRY", "TIKISYNC_SCHEDULE_RETRY_MAX", "TIKISYNC_SCHEDULE_PAUSE_AFTER",
    "TIKISYNC_SMTP_HOST", "TIKISYNC_SMTP_PORT", "TIKISYNC_SMTP_USER", "TIKISYNC_SMTP_PASSWORD",
    "TIKISYNC_SMTP_FROM", "TIKISYNC_SMTP_STARTTLS", "TIKISYNC_SMTP_SSL", "TIKISYNC_SMTP_TIMEOUT",
    "TIKISYNC_WEBHOOK_URL",
)


def context_from(config):
    """What handlers may need from the app's config, as a plain dict (no Flask in sync code)."""
    return {key: config.get(key) for key in CONTEXT_KEYS}


def worker_name():
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


class Progress:
    """Live progress of one job; handlers call `total`, `step` and `add`."""

    def __init__(self, job):
        self.job_id = job.id
        self.total_count = job.total
        self.done_count = job.done
        self.message = job.message
        self.changed = True

    def total(self, count, message=None):
        self.total_count = max(0, int(count or 0))
        if message is not None:
            self.message = message
        self.changed = True

    def step(self, done=None, message=None):
        if done is not None:
            self.done_count = int(done)
        if message is not None:
            self.message = message[:500]
        self.changed = True

    def add(self, count=1):
        self.done_count += count
        self.changed = True


def _gone_from_this_host(worker):
    """True when `worker` (host:pid:thread, see worker_name) is a process of this host that
    no longer runs (killed, crashed): its job can be taken over at once. A name given with
    `tikisync worker --name`, or another host's, is judged by its heartbeat only."""
    host, _, rest = (worker or "").partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # another user's process: alive
        return False
    try:  # a zombie (killed, its parent has not collected it yet) runs no more either
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rpartition(")")[2].split()[:1] == ["Z"]
    except OSError:
        return False


def reap_stale(now=None):
    """Mark running jobs whose heartbeat stopped, or whose process on this host is gone, as
    interrupted, and release their lock."""
    now = now or time.time()
    limit = now - STALE_SECONDS
    running = Job.select(Job.id, Job.worker, Job.heartbeat).where(Job.state == "running")
    ids = [j.id for j in running if j.id not in LIVE and (
        j.heartbeat is None or j.heartbeat < limit or _gone_from_this_host(j.worker))]
    # A thread-runner job queued by a process that has since stopped will never start.
    orphan = Job.select(Job.id).where(Job.state == "queued", Job.runner == "thread",
                                      Job.created < limit)
    ids += [j.id for j in orphan if j.id not in LIVE]
    if ids:
        Job.update(state="interrupted", lock_key=None, finished=now,
                   error="The process running this job stopped; nothing was half-applied. "
                         "Start it again.").where(Job.id.in_(ids),
                                                  Job.state.in_(["running", "queued"])).execute()
    return ids


def enqueue(kind, tracker=None, params=None, username="", runner="thread", message="Queued"):
    """Create a queued job; raises JobBusy when the tracker already has an active one."""
    if kind not in HANDLERS:
        raise ValueError(f"no handler for jobs of kind {kind!r}")
    reap_stale()
    key = f"tracker:{tracker.id if hasattr(tracker, 'id') else tracker}" if tracker else None
    try:
        with write_transaction():
            return Job.create(kind=kind, tracker=tracker, params=params or {}, username=username,
                              runner=runner, lock_key=key, message=message)
    except pw.IntegrityError:
        existing = Job.get_or_none(Job.lock_key == key)
        if existing is None:  # finished between the two statements: try once more
            return enqueue(kind, tracker, params, username, runner, message)
        raise JobBusy(existing) from None


def claim(job_id, worker=None):
    """Take a queued job; True if this caller got it (exactly one caller does)."""
    now = time.time()
    return Job.update(state="running", worker=(worker or worker_name())[:200], started=now,
                      heartbeat=now).where(Job.id == job_id, Job.state == "queued").execute() == 1


def claim_next(worker=None, kinds=None):
    """Claim the oldest queued worker job; returns it or None."""
    kinds = list(kinds or HANDLERS)
    candidates = (Job.select(Job.id).where(Job.state == "queued", Job.runner == "worker",
                                           Job.kind.in_(kinds))
                  .order_by(Job.created, Job.id).limit(20))
    for row in list(candidates):
        if claim(row.id, worker):
            return Job.get_by_id(row.id)
    return None


def _write(progress, extra=None):
    values = {"done": progress.done_count, "total": progress.total_count,
              "message": (progress.message or "")[:500], "heartbeat": time.time()}
    values.update(extra or {})
    Job.update(**values).where(Job.id == progress.job_id).execute()


def _reporter(progress, stop):
    """Write progress and heartbeat every REPORT_EVERY seconds from its own connection."""
    with database.connection_context():
        if isinstance(database.obj, pw.SqliteDatabase):
            database.execute_sql("PRAGMA busy_timeout = 50")  # never queue behind a reload
        while not stop.wait(REPORT_EVERY):
            try:
                _write(progress)
                progress.changed = False
            except pw.OperationalError:
                pass  # SQLite's single writer is busy: the figures stay live in memory


def run(job_id, context=None):
    """Run a claimed (or claimable) job to its end; never raises."""
    job = Job.get_by_id(job_id)
    if job.state == "queued" and not claim(job.id):
        return Job.get_by_id(job_id)
    job = Job.get_by_id(job_id)
    progress = Progress(job)
    with _LIVE_LOCK:
        LIVE[job.id] = progress
    stop = threading.Event()
    reporter = threading.Thread(target=_reporter, args=(progress, stop), daemon=True,
                                name=f"tikisync-job-{job.id}-report")
    reporter.start()
    outcome = {"state": "done", "error": "", "result": None}
    try:
        outcome["result"] = HANDLERS[job.kind](job, progress, context) or {}
    except JobFailed as exc:
        outcome.update(state="failed", error=str(exc))
    except Exception as exc:  # noqa: BLE001 - any failure ends the job, with its reason
        log.error("job %s (%s) failed:\n%s", job.id, job.kind, traceback.format_exc())
        outcome.update(state="failed", error=f"{type(exc).__name__}: {exc}")
    finally:
        stop.set()
        reporter.join(timeout=5)
        with _LIVE_LOCK:
            LIVE.pop(job.id, None)
    if database.in_transaction():
        database.rollback()
    _finish(progress, {"state": outcome["state"], "error": outcome["error"][:5000],
                       "result": outcome["result"], "finished": time.time(), "lock_key": None})
    return Job.get_by_id(job.id)


def _finish(progress, values, attempts=10):
    """The job's last write; while another transaction (a reload of another tracker on
    SQLite) holds the database past the busy timeout, it is tried again rather than lost."""
    for attempt in range(attempts):
        try:
            return _write(progress, values)
        except pw.OperationalError as exc:
            if not is_busy(exc) or attempt + 1 == attempts:
                raise


def start(job, app=None, context=None):
    """Run `job` as its runner says: now (inline), in a thread, or leave it to a worker."""
    if job.runner == "inline":
        return run(job.id, context)
    if job.runner == "thread":
        def target():
            if app is not None:
                with app.app_context(), database.connection_context():
                    run(job.id, context)
            else:
                with database.connection_context():
                    run(job.id, context)

        thread = threading.Thread(target=lambda: (target(), _THREADS.discard(thread)),
                                  daemon=True, name=f"tikisync-job-{job.id}")
        _THREADS.add(thread)
        thread.start()
    return job


def wait_for_threads(timeout=30.0):
    """Wait for this process's runner threads to end (tests, and a clean shutdown)."""
    for thread in list(_THREADS):
        thread.join(timeout)
    return not any(t.is_alive() for t in _THREADS)


def snapshot(job):
    """The job with live figures overlaid when this process runs it."""
    live = LIVE.get(job.id)
    if live is not None and job.state == "running":
        job.done, job.total, job.message = live.done_count, live.total_count, live.message
    return job


def active_for(tracker):
    return Job.get_or_none(Job.lock_key == f"tracker:{tracker.id}")


def work(worker=None, poll=1.0, exit_when_idle=False, stop=None, context=None, max_jobs=None,
         each_round=None):
    """The `tikisync worker` loop: claim and run queued jobs until stopped. `each_round()` is
    called before each claim (the CLI queues the due scheduled runs there)."""
    stop = stop or threading.Event()
    name = worker or worker_name()
    ran = 0
    while not stop.is_set():
        with database.connection_context():
            reap_stale()
            if each_round is not None:
                try:
                    each_round()
                except pw.DatabaseError:
                    log.exception("the look at the schedules failed; trying again next round")
                    if database.in_transaction():
                        database.rollback()
            job = claim_next(name)
            if job is not None:
                run(job.id, context)
                ran += 1
                if max_jobs and ran >= max_jobs:
                    break
                continue
        if exit_when_idle:
            break
        stop.wait(poll)
    return ran

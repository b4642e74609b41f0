"""Schedules of cloned trackers: reload or check every N minutes, optionally push safe changes.

Who runs them: whoever calls `run_due` — the web process's scheduler thread (scheduler.py),
each `tikisync worker` round, or `tikisync run-due` from cron. Any number of them may look
at the same database at once: a due run is taken by a conditional UPDATE that moves the
schedule's due time on only if it still holds the value that was read, and the run's job is
queued in the same transaction. So exactly one process queues each due run, and a process
that dies before committing leaves the run due. A run is a job of the tracker (kind
`auto-reload` / `auto-check`, scheduled.py), so it holds the tracker's job lock: it never
overlaps another job of that tracker, and a run due while one is active waits BUSY_DELAY.
A run whose process died (its job reaped as interrupted without an outcome) is recorded as
a failure and made due again at once, so it is picked up by the next look.

Time is `now()` of this module, which tests replace: no decision here reads another clock.
"""
import time

from .. import audit, credentials, settings
from ..db import write_transaction
from ..durations import DurationError
from ..durations import parse as parse_duration
from ..models import Job, Schedule
from ..remote import urls
from ..remote.errors import OutboundRefused
from . import runner

BUSY_DELAY = 60  # seconds a due run waits while another job of its tracker is active
USERNAME = "schedule"  # who the audit trail names for unattended runs
UNSET = object()
KINDS = ("reload", "check")


def now():
    """The schedules' clock, Unix seconds. Tests replace this function."""
    return int(time.time())


class ScheduleInvalid(ValueError):
    """Bad settings for a schedule: {field: message}; nothing was saved."""

    def __init__(self, errors):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def for_tracker(tracker):
    return Schedule.get_or_none(Schedule.tracker == tracker)


# --- settings ------------------------------------------------------------------------------

def _interval(value, name, errors):
    if value is UNSET or value is None or isinstance(value, int):
        return value
    try:
        return parse_duration(value)
    except DurationError as exc:
        errors[name] = str(exc)
        return None


def check_webhook(url):
    """The URL as given, or ValueError saying why a notice may not be posted there."""
    url = (url or "").strip()
    if not url:
        return ""
    try:
        urls.locate(url)
        credentials.check_outbound(url)
    except urls.UrlError as exc:
        raise ValueError(str(exc)) from None
    except OutboundRefused as exc:
        raise ValueError(str(exc)) from None
    return url


def _validated(tracker, reload_every, check_every, auto_push, webhook_url):
    errors = {}
    if not tracker.is_clone:
        errors["tracker"] = f"tracker {tracker.id} is local: only a cloned tracker has a master"
    reload_every = _interval(reload_every, "reload_every", errors)
    check_every = _interval(check_every, "check_every", errors)
    if auto_push is not None and auto_push not in ("off", "safe"):
        errors["auto_push"] = "automatic push is off or safe"
    if webhook_url is not None:
        try:
            webhook_url = check_webhook(webhook_url)
        except ValueError as exc:
            errors["webhook_url"] = str(exc)
    if errors:
        raise ScheduleInvalid(errors)
    return reload_every, check_every, webhook_url


def save(tracker, *, reload_every=UNSET, check_every=UNSET, auto_push=None, webhook_url=None,
         actor=""):
    """Create or change the schedule of a cloned tracker; returns it, or None when both
    intervals are now off (the schedule is removed). Intervals are seconds or texts like
    `15m`; UNSET keeps the current one, None turns it off; None keeps `auto_push` and
    `webhook_url`. Raises ScheduleInvalid and then saves nothing."""
    reload_every, check_every, webhook_url = _validated(tracker, reload_every, check_every,
                                                        auto_push, webhook_url)
    at = now()
    with write_transaction():
        current = for_tracker(tracker)
        row = current or Schedule(tracker=tracker, created=at)
        old = (row.reload_every, row.check_every)
        if reload_every is not UNSET:
            row.reload_every = reload_every
        if check_every is not UNSET:
            row.check_every = check_every
        if not row.reload_every and not row.check_every:
            if current is not None:
                remove(tracker, actor)
            return None
        row.auto_push = auto_push if auto_push is not None else row.auto_push
        row.webhook_url = webhook_url if webhook_url is not None else row.webhook_url
        # A new or changed interval counts from now; an unchanged one keeps its due time.
        if row.reload_every != old[0]:
            row.next_reload = at + row.reload_every if row.reload_every else None
        if row.check_every != old[1]:
            row.next_check = at + row.check_every if row.check_every else None
        row.updated = at
        row.save()
    audit.record("schedule.set", actor, tracker=tracker, reload_every=row.reload_every,
                 check_every=row.check_every, auto_push=row.auto_push,
                 webhook=bool(row.webhook_url))
    return row


def remove(tracker, actor=""):
    removed = Schedule.delete().where(Schedule.tracker == tracker).execute()
    if removed:
        audit.record("schedule.remove", actor, tracker=tracker)
    return bool(removed)


def _due_now(row, at):
    """Due times for a run now: a reload if there is one (it covers a check), else a check."""
    if row.reload_every:
        return {"next_reload": at,
                "next_check": at + row.check_every if row.check_every else None}
    return {"next_check": at}


def pause(row, reason="", actor=""):
    Schedule.update(paused=True, paused_reason=reason or f"Paused by {actor or 'an admin'}.",
                    updated=now()).where(Schedule.id == row.id).execute()
    audit.record("schedule.pause", actor, tracker=row.tracker_id, reason=reason)


def resume(row, actor=""):
    """Unpause, forget the failures, and make the next run due at once."""
    at = now()
    Schedule.update(paused=False, paused_reason="", failures=0, updated=at,
                    **_due_now(row, at)).where(Schedule.id == row.id).execute()
    audit.record("schedule.resume", actor, tracker=row.tracker_id)


def run_now(row, actor=""):
    """Make the next run due now (the scheduler takes it at its next look); False when paused
    or a run is already in flight."""
    at = now()
    changed = Schedule.update(updated=at, **_due_now(row, at)).where(
        Schedule.id == row.id, Schedule.paused == False, Schedule.job.is_null()  # noqa: E712
    ).execute()
    if changed:
        audit.record("schedule.run_now", actor, tracker=row.tracker_id)
    return bool(changed)


# --- claiming and running ------------------------------------------------------------------

def _following(previous, every, at):
    """The due time after one at `previous`: on the same beat, never in the past."""
    upcoming = (previous or at) + every
    return upcoming if upcoming > at else at + every


def _same(column, value):
    return column.is_null() if value is None else column == value


def claim(row, at, runner_name):
    """Move `row`'s due time on and queue its run, in one transaction; the Job, or None when
    another process took this run first (or the tracker is busy: the run waits BUSY_DELAY)."""
    kind = "reload" if row.next_reload is not None and row.next_reload <= at else "check"
    if kind == "reload":
        changes = {"next_reload": _following(row.next_reload, row.reload_every, at),
                   "next_check": at + row.check_every if row.check_every else None}
    else:
        changes = {"next_check": _following(row.next_check, row.check_every, at)}
    unchanged = ((Schedule.id == row.id) & (Schedule.paused == False)  # noqa: E712
                 & Schedule.job.is_null() & _same(Schedule.next_reload, row.next_reload)
                 & _same(Schedule.next_check, row.next_check))
    with write_transaction():
        if Schedule.update(updated=at, **changes).where(unchanged).execute() != 1:
            return None
        try:
            job = runner.enqueue(f"auto-{kind}", tracker=row.tracker_id,
                                 params={"schedule": row.id}, username=USERNAME,
                                 runner=runner_name, message=f"Scheduled {kind}, queued")
        except runner.JobBusy:
            Schedule.update(**{f"next_{kind}": at + BUSY_DELAY}).where(
                Schedule.id == row.id).execute()
            return None
        Schedule.update(job=job.id).where(Schedule.id == row.id).execute()
    return job


def due(at):
    """Schedules with a run due at `at` and none in flight."""
    return list(Schedule.select().where(
        (Schedule.paused == False) & Schedule.job.is_null()  # noqa: E712
        & ((Schedule.next_reload <= at) | (Schedule.next_check <= at)))
        .order_by(Schedule.id))


def stranded(context=None):
    """Record runs whose job ended without an outcome (its process died) as failures, due
    again at once; returns how many."""
    from . import scheduled

    rows = (Schedule.select(Schedule, Job).join(Job)
            .where(Job.state.not_in(["queued", "running"])))
    count = 0
    for row in list(rows):
        job = row.job
        error = job.error or f"the run ended as {job.state}"
        if scheduled.record_failure(row.id, job, error, context, delay=0,
                                    outcome="interrupted"):
            count += 1
    return count


def run_due(runner_name="inline", *, app=None, context=None, at=None):
    """One look at the schedules: record stranded runs, then take every due run and start it
    as `runner_name` says (inline: run it here and now). Returns the jobs taken."""
    at = now() if at is None else at
    if not settings.sync_enabled():
        return []
    runner.reap_stale()
    stranded(context)
    taken = []
    for row in due(at):
        job = claim(row, at, runner_name)
        if job is None:
            continue
        if runner_name == "inline":
            job = runner.run(job.id, context)
        elif runner_name == "thread":
            runner.start(job, app=app, context=context)
        taken.append(job)
    return taken


# --- reading -------------------------------------------------------------------------------

def iso(stamp):
    if stamp is None:
        return None
    from datetime import UTC, datetime

    return datetime.fromtimestamp(int(stamp), tz=UTC).isoformat()


def as_dict(row):
    """One schedule for `tikisync schedule list --json` (durations in seconds, ISO times)."""
    return {"tracker": row.tracker_id, "reload_every": row.reload_every,
            "check_every": row.check_every, "auto_push": row.auto_push,
            "next_run": iso(row.next_run), "next_kind": row.next_kind,
            "last_outcome": row.last_outcome or None, "last_run": iso(row.last_run),
            "last_message": row.last_message or None, "paused": bool(row.paused),
            "paused_reason": row.paused_reason or None, "failures": row.failures,
            "running": row.job_id is not None, "webhook_url": row.webhook_url or None}


def listing():
    return [as_dict(r) for r in Schedule.select().order_by(Schedule.tracker)]

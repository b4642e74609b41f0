"""A scheduled run (jobs of kind `auto-reload` / `auto-check`) and the record of its outcome.

The run reloads the tracker (or, for a check, asks the master what changed: a tracker never
reloaded is reloaded instead), then, when the schedule says `auto_push = safe`, pushes what
plan_push(force=False) plans: items created here and edits without conflict. Conflicts and
items deleted on the master always wait for a person.

Outcomes: a success resets the failure count; a failure sets the next try after a growing
delay (TIKISYNC_SCHEDULE_RETRY doubled per failure, at most TIKISYNC_SCHEDULE_RETRY_MAX and
the schedule's own interval), and after TIKISYNC_SCHEDULE_PAUSE_AFTER failures in a row the
schedule pauses itself. The outcome is written only by the run that owns the schedule
(`Schedule.job`), so a run recorded as stranded by another process is not recorded twice.
Notices (notify/): new conflicts, items the push could not send, the first failure of a
streak, and the pause; a run that changed nothing sends nothing.
"""
import logging
import traceback
from dataclasses import dataclass

from .. import notify
from ..db import database
from ..models import Job, Schedule, Tracker
from ..notify import messages
from ..remote.errors import RemoteError
from ..sync import push, reload, status
from ..sync.reload import ReloadError
from . import handlers, runner, schedules

log = logging.getLogger(__name__)
EXPECTED = (RemoteError, ReloadError, runner.JobFailed)
KINDS = ("auto-reload", "auto-check")
JOB_HISTORY = 100  # finished scheduled runs kept per tracker (their job pages)


@dataclass
class Policy:
    """How failed runs are retried (seconds), and when a schedule gives up."""

    retry_first: int = 60
    retry_max: int = 3600
    pause_after: int = 5

    @classmethod
    def from_context(cls, context):
        context = context or {}
        defaults = cls()
        return cls(
            retry_first=int(context.get("TIKISYNC_SCHEDULE_RETRY") or defaults.retry_first),
            retry_max=int(context.get("TIKISYNC_SCHEDULE_RETRY_MAX") or defaults.retry_max),
            pause_after=max(1, int(context.get("TIKISYNC_SCHEDULE_PAUSE_AFTER")
                                   or defaults.pause_after)))

    def delay(self, failures, every=None):
        """The wait before the next try after `failures` failed runs in a row."""
        wait = self.retry_first * 2 ** max(0, failures - 1)
        return int(min(wait, self.retry_max, every or self.retry_max))


def _kind(job):
    return job.kind.split("-", 1)[-1]


@runner.handler(KINDS[0])
@runner.handler(KINDS[1])
def scheduled_run(job, progress, context):
    schedule_id = (job.params or {}).get("schedule")
    try:
        result = _run(job, schedule_id, progress, context)
    except Exception as exc:
        if isinstance(exc, EXPECTED):
            error = str(exc)
        else:
            log.error("scheduled run %s failed:\n%s", job.id, traceback.format_exc())
            error = f"{type(exc).__name__}: {exc}"
        if database.in_transaction():
            database.rollback()
        record_failure(schedule_id, job, error, context)
        raise runner.JobFailed(error) from exc
    record_success(schedule_id, job, result, context)
    progress.step(message=messages.run_summary(result)[:500])
    return result


def _run(job, schedule_id, progress, context):
    row = Schedule.get_or_none(Schedule.id == schedule_id)
    if row is None:
        raise runner.JobFailed("the schedule of this run was removed")
    tracker = handlers._tracker(job)
    did = _kind(job)
    pushed = None
    with handlers.client_for_tracker(tracker, context) as client:
        if did == "reload" or tracker.last_reload_at is None:
            did = "reload"
            counts = reload.reload(tracker, client, progress=progress,
                                   username=schedules.USERNAME)
        else:
            progress.step(0, "Asking the master what changed")
            counts = status.check_remote(tracker, client)
        tracker = Tracker.get_by_id(tracker.id)
        if row.auto_push == "safe":
            plan = push.plan_push(tracker, force=False)
            if plan.entries:
                pushed = push.push(tracker, client, plan, username=schedules.USERNAME,
                                   progress=progress)
    return {"kind": did, "counts": counts, "push": pushed,
            "conflicts": status.classify(tracker)["conflicts"]}


def _finish(schedule_id, job, changes):
    """Write the outcome if this run still owns the schedule; the row as it was, or None."""
    row = Schedule.get_or_none(Schedule.id == schedule_id)
    if row is None:
        return None
    done = Schedule.update(job=None, last_job=job.id, updated=changes["last_run"],
                           **changes).where(Schedule.id == schedule_id,
                                            Schedule.job == job.id).execute()
    return row if done else None


def prune(tracker_id, keep=None):
    """Delete the finished scheduled runs of a tracker but the newest `keep` (a check every five
    minutes would otherwise add 288 job rows a day)."""
    keep = JOB_HISTORY if keep is None else keep
    ended = (Job.select(Job.id).where(Job.tracker == tracker_id, Job.kind.in_(KINDS),
                                      Job.lock_key.is_null())
             .order_by(Job.id.desc()))
    oldest_kept = ended.offset(keep - 1).limit(1).scalar()
    if oldest_kept is not None:
        Job.delete().where(Job.tracker == tracker_id, Job.kind.in_(KINDS),
                           Job.lock_key.is_null(), Job.id < oldest_kept).execute()


def record_success(schedule_id, job, result, context):
    at = schedules.now()
    failed = (result.get("push") or {}).get("failed", [])
    conflicts = list(result.get("conflicts") or [])
    row = _finish(schedule_id, job, {
        "last_run": at, "last_kind": result["kind"], "last_outcome": "ok", "failures": 0,
        "last_message": messages.run_summary(result)[:2000], "told_conflicts": conflicts,
        "told_failed": [f["id"] for f in failed]})
    if row is None:
        return
    prune(row.tracker_id)
    tracker = Tracker.get_by_id(row.tracker_id)
    told_conflicts, told_failed = set(row.told_conflicts or []), set(row.told_failed or [])
    notices = []
    new_conflicts = [i for i in conflicts if i not in told_conflicts]
    if new_conflicts:
        notices.append(messages.conflicts(tracker, result["kind"], new_conflicts, conflicts,
                                          result, at, context))
    new_failed = [f for f in failed if f["id"] not in told_failed]
    if new_failed:
        notices.append(messages.push_failed(tracker, result["kind"], new_failed, result, at,
                                            context))
    _send(row, notices, context)


def record_failure(schedule_id, job, error, context, *, delay=None, outcome="failed"):
    """Record a failed (or stranded) run: retry later, or pause. True when recorded here."""
    at = schedules.now()
    row = Schedule.get_or_none(Schedule.id == schedule_id)
    if row is None:
        return False
    policy = Policy.from_context(context)
    kind = _kind(job)
    failures = row.failures + 1
    every = row.reload_every if kind == "reload" else row.check_every
    changes = {"last_run": at, "last_kind": kind, "last_outcome": outcome,
               "last_message": error[:2000], "failures": failures}
    retry_at = None
    if failures >= policy.pause_after:
        changes.update(paused=True, paused_reason=(
            f"{failures} runs in a row failed; the last one said: {error}")[:2000])
    else:
        retry_at = at + (policy.delay(failures, every) if delay is None else delay)
        # The master is probably down for the other kind of run too: none runs before then.
        for other in schedules.KINDS:
            current = getattr(row, f"next_{other}")
            if (other == kind and getattr(row, f"{other}_every")) or \
                    (current is not None and current < retry_at):
                changes[f"next_{other}"] = retry_at
    if _finish(schedule_id, job, changes) is None:
        return False
    tracker = Tracker.get_by_id(row.tracker_id)
    if retry_at is None:
        notice = messages.paused(tracker, kind, error, failures, every, at, context)
    elif failures == 1:
        notice = messages.failed(tracker, kind, error, retry_at, failures, policy.pause_after,
                                 at, context)
    else:
        notice = None
    _send(row, [notice] if notice else [], context)
    return True


def _send(row, notices, context):
    if not notices:
        return
    problems = []
    for notice in notices:
        problems += notify.deliver(notice, context, webhook_url=row.webhook_url)
    Schedule.update(notice_error="; ".join(problems)[:2000]).where(
        Schedule.id == row.id).execute()

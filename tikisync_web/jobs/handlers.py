"""Job handlers: the glue between the runner (claims, progress) and sync/ (the work itself).

Handlers receive the job, its progress and a plain config dict (runner.context_from), build a
client for the tracker's master through credentials.client_for, and return the result shown
on the job page and printed by the CLI.
"""
import functools
from types import SimpleNamespace

from .. import credentials, settings
from ..db import DatabaseBusy
from ..models import Tracker
from ..remote.errors import RemoteError
from ..sync import preview, push, reload, schema, status
from ..sync.reload import ReloadError
from . import runner


def remote_config(context):
    """credentials.RemoteConfig from a job context (or a Flask config mapping)."""
    return credentials.RemoteConfig.from_app(SimpleNamespace(config=context or {}))


def client_for_tracker(tracker, context):
    if not tracker.is_clone:
        raise runner.JobFailed(f"tracker {tracker.id} is local: it has no master")
    return credentials.client_for(tracker.source_url, config=remote_config(context),
                                  generation=tracker.protocol or None)


def expected_failures(handler):
    """A master's refusal or silence is an expected end for a job: its message, as written for
    people, becomes the job's error (no traceback in the log)."""

    @functools.wraps(handler)
    def run(job, progress, context):
        try:
            return handler(job, progress, context)
        except (RemoteError, ReloadError) as exc:
            raise runner.JobFailed(str(exc)) from exc
        except DatabaseBusy as exc:
            raise runner.JobFailed(str(exc)) from exc

    return run


def _tracker(job):
    if job.tracker_id is None:
        raise runner.JobFailed("the job names no tracker")
    tracker = Tracker.get_or_none(Tracker.id == job.tracker_id)
    if tracker is None:
        raise runner.JobFailed(f"tracker {job.tracker_id} no longer exists")
    if not settings.sync_enabled():
        raise runner.JobFailed(settings.SYNC_DISABLED_MESSAGE)
    return tracker


@runner.handler("reload")
@expected_failures
def reload_job(job, progress, context):
    tracker = _tracker(job)
    with client_for_tracker(tracker, context) as client:
        counts = reload.reload(tracker, client, progress=progress, username=job.username)
    progress.step(message=_reload_summary(counts))
    return counts


def _count(n, thing):
    """ "1 item", "3 items": the job messages people read on the dashboard."""
    return f"{n} {thing}{'' if n == 1 else 's'}"


def _reload_summary(counts):
    parts = [f"{_count(counts['fetched'], 'item')} read", f"{counts['added']} added",
             f"{counts['updated']} updated", f"{counts['deleted']} deleted"]
    if counts["kept_local_modified"]:
        parts.append(f"{_count(counts['kept_local_modified'], 'local edit')} kept")
    if counts["deleted_on_master"]:
        parts.append(f"{counts['deleted_on_master']} deleted on the master but edited here")
    return ", ".join(parts)


@runner.handler("push")
@expected_failures
def push_job(job, progress, context):
    tracker = _tracker(job)
    plan = push.Plan()
    plan.entries = job.params.get("items", [])
    plan.skipped = job.params.get("skipped", [])
    with client_for_tracker(tracker, context) as client:
        result = push.push(tracker, client, plan, username=job.username, progress=progress,
                           force=bool(job.params.get("force")))
    progress.step(message=f"{len(result['pushed'])} pushed, {len(result['failed'])} failed, "
                          f"{len(result['skipped'])} skipped")
    return result


@runner.handler("preview")
@expected_failures
def preview_job(job, progress, context):
    """A large push preview's "Master now": the master's values of the items it would edit."""
    tracker = _tracker(job)
    plan = push.Plan()
    plan.entries = job.params.get("items", [])
    progress.total(len(plan.entries), "Reading the items from the master")
    with client_for_tracker(tracker, context) as client:
        now = preview.master_now(tracker, client, plan)
    progress.step(len(plan.entries), f"{_count(len(now), 'item')} read from the master")
    return {"now": {str(item_id): state for item_id, state in now.items()}}


@runner.handler("check")
@expected_failures
def check_job(job, progress, context):
    tracker = _tracker(job)
    progress.step(0, "Asking the master what changed")
    with client_for_tracker(tracker, context) as client:
        counts = status.check_remote(tracker, client)
    progress.step(counts["checked"],
                  f"{_count(counts['changed_on_master'], 'item')} changed on the master")
    return counts


@runner.handler("meta")
@expected_failures
def meta_job(job, progress, context):
    tracker = _tracker(job)
    with client_for_tracker(tracker, context) as client:
        result = schema.refresh_fields(tracker, client, username=job.username)
    progress.step(message=f"{_count(len(result['changed']), 'field')} refreshed")
    return result

"""Schedules: `tikisync schedule set|list|pause|resume|remove` and `tikisync run-due` (cron)."""
import sys

import click
from flask import current_app

from .. import durations, settings
from ..jobs import scheduler, schedules
from ..models import Schedule, Tracker
from . import emit, fail, tikisync


class OneLineUsageError(click.UsageError):
    """A usage error told in one line (no usage text), exit status 2."""

    def show(self, file=None):
        click.echo(f"Error: {self.format_message()}", err=True)


class Duration(click.ParamType):
    """`15m`, `2h`, `1h30m`, `1d` or `off`, as seconds (None for off)."""

    name = "DURATION"

    def convert(self, value, param, ctx):
        if value is None or isinstance(value, int):
            return value
        try:
            return durations.parse(value)
        except durations.DurationError as exc:
            raise OneLineUsageError(f"{param.opts[0] if param else 'duration'}: {exc}") from None


def _clone(tracker_id):
    tracker = Tracker.get_or_none(Tracker.id == tracker_id)
    if tracker is None:
        fail(f"no tracker {tracker_id}; see `tikisync tracker list`")
    if not tracker.is_clone:
        fail(f"tracker {tracker_id} is local: only a cloned tracker has a master to follow")
    return tracker


def _existing(tracker_id):
    row = schedules.for_tracker(_clone(tracker_id))
    if row is None:
        fail(f"tracker {tracker_id} has no schedule; `tikisync schedule set {tracker_id} "
             "--reload-every 15m` makes one")
    return row


def describe(row):
    """One line: what runs how often, and what comes next."""
    parts = []
    if row.reload_every:
        parts.append(f"reload every {durations.short(row.reload_every)}")
    if row.check_every:
        parts.append(f"check every {durations.short(row.check_every)}")
    parts.append("auto-push safe" if row.auto_push == "safe" else "no auto-push")
    if row.paused:
        state = f"PAUSED: {row.paused_reason}"
    elif row.job_id is not None:
        state = "running now"
    else:
        state = f"next: {row.next_kind} at {schedules.iso(row.next_run)}"
    last = (f"; last: {row.last_outcome} {schedules.iso(row.last_run)}"
            if row.last_outcome else "")
    return f"tracker {row.tracker_id}: {', '.join(parts)}; {state}{last}"


@tikisync.group("schedule")
def schedule():
    """Unattended reloads, checks and safe pushes of cloned trackers."""


@schedule.command("set")
@click.argument("tracker_id", type=int)
@click.option("--reload-every", type=Duration(), default=None,
              help="Reload from the master this often (15m, 2h, 1h30m; off for never).")
@click.option("--check-every", type=Duration(), default=None,
              help="Ask the master what changed this often (off for never).")
@click.option("--auto-push", type=click.Choice(["safe", "off"]), default=None,
              help="safe: after each run, push new items and edits without conflict.")
@click.option("--webhook", default=None, metavar="URL",
              help="Post this tracker's notices here (an allowed origin; empty: the default).")
def schedule_set(tracker_id, reload_every, check_every, auto_push, webhook):
    """Create or change the schedule of a cloned tracker (options not given are kept)."""
    tracker = _clone(tracker_id)
    ctx = click.get_current_context()
    given = {name: ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE
             for name in ("reload_every", "check_every")}
    current = schedules.for_tracker(tracker)
    if current is None and not (reload_every or check_every):
        raise OneLineUsageError("a new schedule needs --reload-every or --check-every")
    try:
        row = schedules.save(
            tracker, actor="cli",
            reload_every=reload_every if given["reload_every"] else schedules.UNSET,
            check_every=check_every if given["check_every"] else schedules.UNSET,
            auto_push=auto_push, webhook_url=webhook)
    except schedules.ScheduleInvalid as exc:
        fail(str(exc))
    if row is None:
        click.echo(f"schedule of tracker {tracker_id} removed (no interval left)")
    else:
        click.echo(describe(row))


@schedule.command("list")
@click.option("--json", "as_json", is_flag=True)
def schedule_list(as_json):
    """Every schedule: intervals, next run, last outcome, paused or not."""
    if as_json:
        emit(schedules.listing())
        return
    rows = list(Schedule.select().order_by(Schedule.tracker))
    for row in rows:
        click.echo(describe(row))
    if not rows:
        click.echo("no schedules; `tikisync schedule set TRACKER_ID --reload-every 15m` adds one")


@schedule.command("pause")
@click.argument("tracker_id", type=int)
def schedule_pause(tracker_id):
    """Stop running a tracker's schedule until it is resumed."""
    row = _existing(tracker_id)
    schedules.pause(row, "Paused from the command line.", actor="cli")
    click.echo(f"schedule of tracker {tracker_id} paused; `tikisync schedule resume "
               f"{tracker_id}` starts it again")


@schedule.command("resume")
@click.argument("tracker_id", type=int)
def schedule_resume(tracker_id):
    """Start a paused schedule again: its failures are forgotten and it runs at once."""
    row = _existing(tracker_id)
    schedules.resume(row, actor="cli")
    click.echo(describe(schedules.for_tracker(row.tracker_id)))


@schedule.command("remove")
@click.argument("tracker_id", type=int)
def schedule_remove(tracker_id):
    """Delete a tracker's schedule."""
    _existing(tracker_id)
    schedules.remove(tracker_id, actor="cli")
    click.echo(f"schedule of tracker {tracker_id} removed")


def _outcome(job):
    return {"done": "ok"}.get(job.state, job.state)


@tikisync.command("run-due")
@click.option("--json", "as_json", is_flag=True)
def run_due(as_json):
    """Run every scheduled run that is due, one after the other, and exit (for cron)."""
    if not settings.sync_enabled():
        click.echo(settings.SYNC_DISABLED_MESSAGE + " Nothing ran.", err=True)
    app = current_app._get_current_object()
    taken = schedules.run_due("inline", context=scheduler.context_for(app))
    ran = [{"tracker": job.tracker_id,
            "kind": (job.result or {}).get("kind") or job.kind.split("-", 1)[-1],
            "outcome": _outcome(job), "job": job.id,
            "message": job.message if job.state == "done" else job.error}
           for job in taken]
    if as_json:
        emit({"ran": ran})
    else:
        for row in ran:
            click.echo(f"tracker {row['tracker']}: {row['kind']} {row['outcome']}: "
                       f"{row['message']}")
        if not ran:
            paused = Schedule.select().where(Schedule.paused == True).count()  # noqa: E712
            click.echo("nothing was due" + (f"; {paused} paused schedule(s): see `tikisync "
                                            "schedule list`" if paused else ""))
    if any(row["outcome"] != "ok" for row in ran):
        sys.exit(1)

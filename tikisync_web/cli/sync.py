"""Clone, reload, status, push, resolve and the job worker."""
import contextlib
import signal
import sys
import threading

import click
from flask import current_app

from .. import credentials, jobs, settings
from ..db import database
from ..fields import field_type
from ..jobs import handlers
from ..models import Item, Tracker
from ..remote.errors import RemoteError
from ..sync import clone as clone_mod
from ..sync import push as push_mod
from ..sync import resolve as resolve_mod
from ..sync import schema
from ..sync import status as status_mod
from . import emit, fail, partly_failed, tikisync


def _context():
    return jobs.context_from(current_app.config)


def _require_sync():
    if not settings.sync_enabled():
        fail(settings.SYNC_DISABLED_MESSAGE.rstrip(".") + " (tikisync: Settings page)")


def _clone_tracker(tracker_id):
    tracker = Tracker.get_or_none(Tracker.id == tracker_id)
    if tracker is None:
        fail(f"no tracker {tracker_id}; see `tikisync tracker list`")
    if not tracker.is_clone:
        fail(f"tracker {tracker_id} is local: it was not cloned from a master")
    return tracker


@contextlib.contextmanager
def _master_of(tracker_id):
    """(tracker, client) for a cloned tracker's master; remote trouble ends the command with
    its one-line message."""
    _require_sync()
    tracker = _clone_tracker(tracker_id)
    try:
        with handlers.client_for_tracker(tracker, _context()) as client:
            yield tracker, client
    except RemoteError as exc:
        fail(str(exc))


@tikisync.command("clone")
@click.argument("url")
@click.argument("remote_tracker_id", type=int)
@click.option("--dry-run", is_flag=True, help="Show what would be created; create nothing.")
@click.option("--json", "as_json", is_flag=True)
def clone(url, remote_tracker_id, dry_run, as_json):
    """Clone remote tracker REMOTE_TRACKER_ID of the master at URL (fields only; then reload)."""
    _require_sync()
    config = handlers.remote_config(_context())
    try:
        with credentials.client_for(url, config=config) as client:
            plan = clone_mod.plan_clone(client, remote_tracker_id)
            protocol = client.generation
            base = client.base_url
    except (RemoteError, clone_mod.CloneError) as exc:
        fail(str(exc))
    tracker_id = None
    if not dry_run:
        tracker = clone_mod.create_clone(plan, base, protocol=protocol,
                                         credential=credentials.match(base), username="cli")
        tracker_id = tracker.id
    report = plan.report(tracker_id)
    if as_json:
        emit(report)
    else:
        _print_clone(plan, report, dry_run)
    if report["failed"]:
        partly_failed("the master's data for " + ", ".join(f["perm"] for f in report["failed"])
                      + " could not be read: see the reasons; `tikisync refresh-fields` "
                      "tries again")


def _print_clone(plan, report, dry_run):
    click.echo(("would create" if dry_run else f"created tracker {report['tracker']}") +
               f" “{plan.name}”: {len(report['kept'])} fields kept, "
               f"{len(report['transformed'])} transformed, {len(report['skipped'])} skipped")
    for t in report["transformed"]:
        click.echo(f"  ~ {t['perm']}: {t['from']} -> {t['to']} ({t['reason']})")
    for s in report["skipped"]:
        click.echo(f"  - {s['perm']} ({s['type']}): {s['reason']}")


@tikisync.command("refresh-fields")
@click.argument("tracker_id", type=int)
@click.option("--json", "as_json", is_flag=True)
def refresh_fields(tracker_id, as_json):
    """Reload field definitions from the master (names, options, flags; Tiki's sync_meta)."""
    with _master_of(tracker_id) as (tracker, client):
        result = schema.refresh_fields(tracker, client, username="cli")
    if as_json:
        emit(result)
    else:
        click.echo(f"{len(result['changed'])} fields refreshed")
        for change in result["changed"]:
            click.echo(f"  {change['perm']}: {', '.join(change['changed'])}")
        for kept in result.get("skipped", []):
            click.echo(f"  {kept['perm']} left as it is: {kept['reason']}")
    if result["failed"]:
        partly_failed("the master's data for " + ", ".join(f["perm"] for f in result["failed"])
                      + " could not be read: those fields were left as they are")


@tikisync.command("drift")
@click.argument("tracker_id", type=int)
@click.option("--json", "as_json", is_flag=True)
def drift(tracker_id, as_json):
    """Compare the master's fields with those adopted at clone time."""
    with _master_of(tracker_id) as (tracker, client):
        text, _ = client.export_fields(tracker.remote_tracker_id)
    result = schema.drift(tracker, text)
    if as_json:
        emit(result)
    elif not any(result.values()):
        click.echo("no drift: the master's fields are those adopted")
    else:
        for row in result["added"]:
            click.echo(f"added: {row['perm']} ({row['type']}) “{row['name']}”; "
                       f"`tikisync adopt {tracker_id} {row['perm']}` adds it here")
        for row in result["removed"]:
            click.echo(f"removed: {row['perm']} ({row['type']}) “{row['name']}”")
        for row in result["retyped"]:
            click.echo(f"retyped: {row['perm']} {row['from']} -> {row['to']}; "
                       "`tikisync refresh-fields` takes the new type")


@tikisync.command("adopt")
@click.argument("tracker_id", type=int)
@click.argument("perms", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True)
def adopt(tracker_id, perms, as_json):
    """Add fields that appeared on the master since the clone (see `tikisync drift`)."""
    with _master_of(tracker_id) as (tracker, client):
        plans = schema.adopt_fields(tracker, client, perms, username="cli")
    result = {"added": [{"perm": p.perm, "type": p.local_type, "from": p.remote_type}
                        for p in plans if p.action != "skipped"],
              "skipped": [{"perm": p.perm, "type": p.remote_type, "reason": p.reason}
                          for p in plans if p.action == "skipped"],
              "unknown": sorted(set(perms) - {p.perm for p in plans}),
              # asked for and not added, for a reason other than a type that is never cloned
              "failed": [{"perm": p.perm, "reason": p.reason} for p in plans
                         if p.problem or (p.action == "skipped" and
                                          field_type(p.remote_type).policy != "skip")]}
    if as_json:
        emit(result)
    else:
        for row in result["added"]:
            click.echo(f"added {row['perm']} as type {row['type']} "
                       f"(type {row['from']} on the master)")
        for row in result["skipped"]:
            click.echo(f"not added {row['perm']} ({row['type']}): {row['reason']}")
        for perm in result["unknown"]:
            click.echo(f"not added {perm}: not a field added on the master since the clone")
    missed = [f["perm"] for f in result["failed"]] + result["unknown"]
    if missed:
        partly_failed("not adopted: " + ", ".join(missed))


class _TerminalProgress:
    """A progress bar on stderr for interactive runs."""

    def __init__(self, enabled):
        self.enabled = enabled

    def update(self, job):
        if not self.enabled:
            return
        total = job.total or 0
        width = 30
        filled = int(width * min(job.done, total) / total) if total else 0
        bar = "#" * filled + "-" * (width - filled)
        click.echo(f"\r[{bar}] {job.done}/{total or '?'} {job.message[:50]:<50}", nl=False,
                   err=True)


def _run_job(kind, tracker, params, show_progress):
    """Run a job of this process in a thread, drawing its progress, and return the job."""
    try:
        job = jobs.enqueue(kind, tracker=tracker, params=params, username="cli", runner="inline")
    except jobs.JobBusy as exc:
        fail(str(exc))
    bar = _TerminalProgress(show_progress)
    app = current_app._get_current_object()
    box = {}

    def target():
        with app.app_context(), database.connection_context():
            box["job"] = jobs.run(job.id, _context())

    thread = threading.Thread(target=target, name="tikisync-cli-job")
    thread.start()
    while thread.is_alive():
        thread.join(0.2)
        bar.update(jobs.snapshot(job.__class__.get_by_id(job.id)))
    if show_progress:
        click.echo("", err=True)
    return box.get("job") or job.__class__.get_by_id(job.id)


def _finished(job):
    if job.state != "done":
        fail(f"{job.kind} failed, local data unchanged: {job.error or job.state}")
    return job.result


@tikisync.command("reload")
@click.argument("tracker_id", type=int)
@click.option("--json", "as_json", is_flag=True)
def reload(tracker_id, as_json):
    """Reload a cloned tracker from its master, in one transaction; local work is kept."""
    _require_sync()
    tracker = _clone_tracker(tracker_id)
    job = _run_job("reload", tracker, {}, show_progress=not as_json and sys.stderr.isatty())
    counts = _finished(job)
    if as_json:
        emit(counts)
    else:
        click.echo(handlers._reload_summary(counts))


@tikisync.command("status")
@click.argument("tracker_id", type=int)
@click.option("--offline", is_flag=True, help="Do not ask the master; judge from what is stored.")
@click.option("--json", "as_json", is_flag=True)
def status(tracker_id, offline, as_json):
    """What is new, modified, in conflict or deleted on the master (values, not clocks)."""
    _require_sync()
    tracker = _clone_tracker(tracker_id)
    if offline or tracker.last_reload_at is None:
        result = status_mod.status(tracker)
    else:
        with _master_of(tracker_id) as (tracker, client):
            result = status_mod.status(tracker, client)
    if as_json:
        emit(result)
        return
    click.echo(f"last reload: {result['last_reload'] or 'never'}")
    for key in ("new", "modified", "conflicts", "deleted_on_master"):
        ids = result[key]
        shown = f" ({', '.join(map(str, ids[:20]))}{'…' if len(ids) > 20 else ''})" if ids else ""
        click.echo(f"{key.replace('_', ' ')}: {len(ids)}{shown}")


@tikisync.command("push")
@click.argument("tracker_id", type=int)
@click.option("--new", "new", is_flag=True, help="Push items created here.")
@click.option("--modified", is_flag=True, help="Push edits of synchronized items.")
@click.option("--item", "item_ids", type=int, multiple=True, help="Only these local items.")
@click.option("--force", is_flag=True, help="Overwrite the master on conflicting fields.")
@click.option("--dry-run", is_flag=True, help="Show the plan; send nothing.")
@click.option("--json", "as_json", is_flag=True)
def push(tracker_id, new, modified, item_ids, force, dry_run, as_json):
    """Push local work to the master, item by item (both kinds when neither flag is given)."""
    _require_sync()
    tracker = _clone_tracker(tracker_id)
    if not new and not modified:
        new = modified = True
    plan = push_mod.plan_push(tracker, new=new, modified=modified, item_ids=item_ids or None,
                              force=force)
    if dry_run:
        result = {"pushed": [], "failed": [], "skipped": plan.skipped,
                  "plan": plan.entries}
    else:
        job = _run_job("push", tracker, {"items": plan.entries, "skipped": plan.skipped,
                                         "force": force},
                       show_progress=not as_json and sys.stderr.isatty())
        result = _finished(job)
    if as_json:
        emit(result)
    else:
        _print_push(result)
    if result["failed"]:
        partly_failed(f"{len(result['failed'])} of "
                      f"{len(result['failed']) + len(result['pushed'])} items failed "
                      "(each with its reason above); push again once it is fixed")


def _print_push(result):
    for entry in result.get("plan", []):
        click.echo(f"would push {entry['kind']} item {entry['id']}: "
                   f"{', '.join(entry['fields']) or 'status'}")
    for row in result["pushed"]:
        click.echo(f"pushed {row['kind']} item {row['id']} -> remote {row['remote_id']}")
    for row in result["failed"]:
        click.echo(f"FAILED item {row['id']}: {row['error']}")
    for row in result["skipped"]:
        click.echo(f"skipped item {row['id']}: {row['reason']}")


@tikisync.command("resolve")
@click.argument("item_id", type=int)
@click.option("--mine", is_flag=True, help="Keep the local values (overwrite the master on push).")
@click.option("--theirs", is_flag=True, help="Take the master's values.")
@click.option("--field", "fields", multiple=True, metavar="PERM=mine|theirs",
              help="The side kept for one conflicting field. The item status is @status, "
                   "or status when the tracker has no field called status (with one, "
                   "status names that field).")
def resolve(item_id, mine, theirs, fields):
    """Resolve a conflict of a local item, all at once or field by field."""
    _require_sync()
    if sum(bool(x) for x in (mine, theirs, fields)) != 1:
        raise click.UsageError("give exactly one of --mine, --theirs or --field PERM=mine|theirs")
    item = Item.get_or_none(Item.id == item_id)
    if item is None:
        fail(f"no item {item_id}")
    choices = {}
    for pair in fields:
        perm, sep, side = pair.partition("=")
        if not sep or side not in ("mine", "theirs"):
            raise click.UsageError(f"--field takes PERM=mine or PERM=theirs, not {pair!r}")
        choices[perm.strip()] = side
    try:
        result = resolve_mod.resolve(item, choices, username="cli", all_mine=mine,
                                     all_theirs=theirs)
    except resolve_mod.ResolveError as exc:
        fail(str(exc))
    click.echo(f"item {item_id}: " + ("deleted here" if result is None else "resolved; "
               "push it to send the chosen values" if not theirs else "resolved"))


@tikisync.command("worker")
@click.option("--poll", default=1.0, show_default=True, help="Seconds between looks for work.")
@click.option("--name", default=None, help="Worker name shown on its jobs (default host:pid).")
@click.option("--exit-when-idle", is_flag=True, help="Stop when no job is queued (for cron).")
@click.option("--max-jobs", type=int, default=None, help="Stop after this many jobs.")
@click.option("--no-schedules", is_flag=True,
              help="Only run queued jobs; leave the due scheduled runs to others.")
def worker(poll, name, exit_when_idle, max_jobs, no_schedules):
    """Run queued jobs (TIKISYNC_JOB_RUNNER=worker), and the due scheduled runs, until stopped
    with Ctrl-C or SIGTERM (TIKISYNC_SCHEDULER=off also leaves the schedules alone)."""
    from ..jobs import scheduler, schedules

    app = current_app._get_current_object()
    each_round = None
    if not no_schedules and str(app.config.get("TIKISYNC_SCHEDULER")).lower() != "off":
        def each_round():
            schedules.run_due("worker", context=scheduler.context_for(app))
    stop = threading.Event()

    def finish(_signum, _frame):
        click.echo("stopping after the current job…", err=True)
        stop.set()

    signal.signal(signal.SIGTERM, finish)
    signal.signal(signal.SIGINT, finish)
    ran = jobs.work(worker=name, poll=poll, exit_when_idle=exit_when_idle, stop=stop,
                    context=scheduler.context_for(app), max_jobs=max_jobs,
                    each_round=each_round)
    click.echo(f"worker stopped after {ran} job(s)", err=True)

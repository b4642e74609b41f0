"""The synchronization tab of a cloned tracker: reload, check, push (with preview)."""
import hashlib
import json

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_htmx import make_response as hx_make_response

from .. import jobs, settings
from ..jobs import handlers
from ..models import Item, Job, Tracker
from ..remote.errors import RemoteError
from ..sync import preview as preview_mod
from ..sync import push as push_mod
from ..sync import status as status_mod
from .blueprint import bp, get_or_404, notify
from .common import as_id, current_user, htmx, int_arg, render_page, require
from .jobs import start_job
from .titles import item_title_of

LISTS = ("new", "modified", "conflicts", "deleted_on_master")
LIST_SIZE = 50


def sync_tracker(tracker_id):
    """The cloned tracker, or a clear refusal (switch off, or a local tracker)."""
    tracker = get_or_404(Tracker, tracker_id, "tracker")
    if not settings.sync_enabled():
        abort(403, settings.SYNC_DISABLED_MESSAGE)
    if not tracker.is_clone:
        abort(404, f"“{tracker.name}” is a local tracker: it has no master to synchronize with. "
                   "Clone a remote tracker to synchronize it.")
    return tracker


def remote_item_url(tracker, remote_id):
    return f"{tracker.source_url}/tiki-view_tracker_item.php?itemId={remote_id}"


def _lists(tracker):
    lists = status_mod.classify(tracker)
    pages = {}
    for key in LISTS:
        ids = lists[key]
        page = int_arg(f"{key}_page", 1, maximum=max(1, -(-len(ids) // LIST_SIZE)))
        shown = ids[(page - 1) * LIST_SIZE: page * LIST_SIZE]
        rows = {i.id: i for i in Item.select().where(Item.id.in_(shown))}
        pages[key] = {"count": len(ids), "page": page, "pages": max(1, -(-len(ids) // LIST_SIZE)),
                      "items": [rows[i] for i in shown if i in rows]}
    return pages


@bp.route("/trackers/<int:tracker_id>/sync", endpoint="sync")
@require("admin")
def sync(tracker_id):
    """Source, last reload, the running job, and the lists of local work to push."""
    tracker = sync_tracker(tracker_id)
    return render_page(
        "tikisync/sync.html", fragments={"sync-lists": "tikisync/_sync_lists.html"},
        **sync_context(tracker))


def sync_context(tracker):
    """What sync.html shows of a tracker (its partials' forms may be added by their views)."""
    job = jobs.active_for(tracker)
    recent = (Job.select().where(Job.tracker == tracker).order_by(Job.id.desc()).limit(1).first()
              if job is None else job)
    return {"tracker": tracker, "job": jobs.snapshot(recent) if recent else None,
            "lists": _lists(tracker), "title_of": item_title_of(tracker),
            "remote_item_url": remote_item_url}


def _start(tracker, kind, params=None, label=""):
    try:
        job = start_job(kind, tracker=tracker, params=params or {},
                        username=current_user().username)
    except jobs.JobBusy as exc:
        if htmx:
            body = render_template("tikisync/_job.html", job=jobs.snapshot(exc.job))
            return hx_make_response(body, 409)
        notify(str(exc), "warning")
        return redirect(url_for("tikisync.sync", tracker_id=tracker.id), 303)
    if htmx:
        return render_template("tikisync/_job.html", job=jobs.snapshot(job))
    notify(f"{label} started.", "info")
    return redirect(url_for("tikisync.job", job_id=job.id), 303)


@bp.route("/trackers/<int:tracker_id>/reload", methods=["POST"], endpoint="tracker_reload")
@require("admin")
def tracker_reload(tracker_id):
    """Reload data from source, as a job (local work is kept)."""
    return _start(sync_tracker(tracker_id), "reload", label="Reload from source")


@bp.route("/trackers/<int:tracker_id>/check", methods=["POST"], endpoint="tracker_check")
@require("admin")
def tracker_check(tracker_id):
    """Ask the master what changed since the last look (modifiedSince, judged by values)."""
    return _start(sync_tracker(tracker_id), "check", label="Check of the master")


@bp.route("/trackers/<int:tracker_id>/refresh-fields", methods=["POST"],
          endpoint="tracker_refresh_fields")
@require("admin")
def tracker_refresh_fields(tracker_id):
    """Reload field definitions (Tiki's sync_meta), as a job."""
    return _start(sync_tracker(tracker_id), "meta", label="Reload of the field definitions")


def _requested_plan(tracker):
    """The selected item ids, the force flag and the plan they make now (GET or POST)."""
    selected = sorted({i for i in map(as_id, request.values.getlist("items")) if i is not None})
    force = request.values.get("force") == "1"
    return selected, force, push_mod.plan_push(tracker, item_ids=selected or None, force=force)


def plan_digest(plan):
    body = json.dumps(plan.as_dict(), sort_keys=True, default=str)
    return hashlib.sha1(body.encode("utf-8"), usedforsecurity=False).hexdigest()


@bp.route("/trackers/<int:tracker_id>/push", endpoint="push_preview")
@require("admin")
def push_preview(tracker_id):
    """Exactly what a push of the selected items will send: items, fields, old and new."""
    tracker = sync_tracker(tracker_id)
    selected, force, plan = _requested_plan(tracker)
    now, unread, reading = _master_now(tracker, plan)
    return render_template("tikisync/push_preview.html", tracker=tracker, plan=plan,
                           selected=selected, digest=plan_digest(plan), force=force,
                           now=now, unread=unread, reading=reading,
                           read_limit=PREVIEW_READ_LIMIT,
                           fields={f.perm_name: f for f in tracker.ordered_fields()},
                           title_of=item_title_of(tracker),
                           items={i.id: i for i in Item.select().where(
                               Item.id.in_([e["id"] for e in plan.entries] or [0]))})


# Above this many edits the preview does not read the master (it would keep the page waiting);
# "Master now" then shows the values of the last reload or check, and says so.
PREVIEW_READ_LIMIT = 200


def _master_now(tracker, plan):
    """(the master's current values per edited item, or {}; why they are not shown; the job
    reading them for a large preview, while it runs)."""
    edits = [e for e in plan.entries if e["kind"] == "edit"]
    if not edits:
        return {}, None, None
    if len(edits) > PREVIEW_READ_LIMIT:
        return _read_by_job(tracker, plan, len(edits))
    try:
        with handlers.client_for_tracker(tracker, current_app.config) as client:
            return preview_mod.master_now(tracker, client, plan), None, None
    except (RemoteError, ValueError) as exc:
        return {}, f"the master could not be read now: {exc}", None


def _read_by_job(tracker, plan, count):
    """A large preview reads the master in a job (the button on the page starts it); its
    result counts only for the plan it was started for."""
    job = Job.get_or_none(Job.id == as_id(request.args.get("read")), Job.tracker == tracker,
                          Job.kind == "preview")
    if job is not None and job.active:
        return {}, "the master is being read, see the job below", jobs.snapshot(job)
    if job is not None and job.state == "done" and \
            job.params.get("digest") == plan_digest(plan) and isinstance(job.result, dict):
        return {int(k): v for k, v in (job.result.get("now") or {}).items()}, None, None
    if job is not None and job.state != "done":
        return {}, f"reading the master failed: {job.error or job.message}", None
    return {}, (f"{count} edits are more than the preview reads from the master at once "
                f"({PREVIEW_READ_LIMIT}); read them with the button below"), None


@bp.route("/trackers/<int:tracker_id>/push/read", methods=["POST"],
          endpoint="push_preview_read")
@require("admin")
def push_preview_read(tracker_id):
    """Read the master for a large preview, as a job; then the preview again, with its values."""
    tracker = sync_tracker(tracker_id)
    selected, force, plan = _requested_plan(tracker)
    edits = [e for e in plan.entries if e["kind"] == "edit"]
    try:
        job = start_job("preview", tracker=tracker, username=current_user().username,
                        params={"items": edits, "digest": plan_digest(plan)})
    except jobs.JobBusy as exc:
        notify(str(exc), "warning")
        job = None
    return redirect(url_for("tikisync.push_preview", tracker_id=tracker.id, items=selected,
                            force="1" if force else None, read=job.id if job else None), 303)


@bp.route("/trackers/<int:tracker_id>/push", methods=["POST"], endpoint="tracker_push")
@require("admin")
def tracker_push(tracker_id):
    """Run the previewed plan as a job; if anything changed since the preview, show it again."""
    tracker = sync_tracker(tracker_id)
    selected, force, plan = _requested_plan(tracker)
    if plan_digest(plan) != request.form.get("digest"):
        notify("Something changed since the preview; here is the plan as it is now.", "warning")
        return redirect(url_for("tikisync.push_preview", tracker_id=tracker.id, items=selected,
                                force="1" if force else None), 303)
    if not plan.entries:
        notify("Nothing to push.", "info")
        return redirect(url_for("tikisync.sync", tracker_id=tracker.id), 303)
    return _start(tracker, "push", {"items": plan.entries, "skipped": plan.skipped,
                                    "force": force}, label="Push")


@bp.route("/tiki-view_tracker_item.php", endpoint="view_tracker_item")
@require("viewer")
def view_tracker_item():
    """Tiki's item URL (clones link here): the local item with that id."""
    item_id = as_id(request.args.get("itemId"))
    if item_id is None:
        abort(404, "No such item.")
    return redirect(url_for("tikisync.item", item_id=item_id), 302)

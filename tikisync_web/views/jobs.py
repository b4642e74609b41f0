"""Job pages and the self-polling progress widget."""
from flask import current_app, render_template, url_for
from flask_htmx import make_response as hx_make_response

from .. import jobs
from ..models import Field, Item, Job
from ..values import STATUS_KEY
from .blueprint import bp, get_or_404
from .common import render_page, require

FINISH_EVENTS = {"tikisync:job-finished": None, "tikisync:items-changed": None}


def start_job(kind, tracker=None, params=None, username=""):
    """Queue a job for the configured runner and start it; raises jobs.JobBusy."""
    app = current_app._get_current_object()
    job = jobs.enqueue(kind, tracker=tracker, params=params, username=username,
                       runner=app.config["TIKISYNC_JOB_RUNNER"])
    jobs.start(job, app=app, context=jobs.context_from(app.config))
    return Job.get_by_id(job.id)


@bp.route("/jobs/<int:job_id>", endpoint="job")
@require("viewer")
def job_page(job_id):
    """A job's progress and outcome, as a full page (refresh link without JavaScript)."""
    job = jobs.snapshot(get_or_404(Job, job_id, "job"))
    return render_page("tikisync/job.html", fragments={"job-outcome": "tikisync/_job_outcome.html"},
                       job=job, outcome=push_outcome(job))


@bp.route("/jobs/<int:job_id>/progress", endpoint="job_progress")
@require("viewer")
def job_progress(job_id):
    """The progress widget alone; polled by itself until the job ends."""
    job = jobs.snapshot(get_or_404(Job, job_id, "job"))
    body = render_template("tikisync/_job.html", job=job)
    if job.active:
        response = hx_make_response(body)
    else:
        # The final widget has no trigger, so polling stops by itself; the event lets the
        # item list and the sync lists refresh.
        response = hx_make_response(body, trigger=FINISH_EVENTS)
    response.headers["Cache-Control"] = "no-store"
    return response


def job_url(job):
    return url_for("tikisync.job", job_id=job.id)


# Why a push left an item alone, in words (sync/push: plan.py, edits.py, new_items.py).
SKIP_REASONS = {
    "conflict": "in conflict: the master changed the same fields; resolve it first",
    "deleted_on_master": "deleted on the master: decide whether to create it again",
    "unchanged": "nothing to push",
    "changed since the preview": "changed since the preview: preview the push again",
    "already pushed": "already on the master",
}
# Skipped items whose next step is the three-way view.
TO_RESOLVE = ("conflict", "deleted_on_master")


def push_outcome(job):
    """One row per item a push job pushed, failed or skipped, in that order, with the item (None
    when it has since been deleted) and the words for what happened to it; None for other jobs."""
    if job.kind != "push" or not isinstance(job.result, dict):
        return None
    entries = [("Pushed", e) for e in job.result.get("pushed", [])] + \
        [("Failed", e) for e in job.result.get("failed", [])] + \
        [("Skipped", e) for e in job.result.get("skipped", [])]
    ids = [e.get("id") for _, e in entries if isinstance(e, dict)]
    found = {i.id: i for i in Item.select().where(Item.id.in_(ids))} if ids else {}
    fields = list(Field.select().where(Field.tracker == job.tracker_id).order_by(Field.position))
    names = {f.perm_name: f.name for f in fields}
    main = next((f for f in fields if f.flag("isMain")), fields[0] if fields else None)
    rows = []
    for word, entry in entries:
        if not isinstance(entry, dict):
            continue
        reason = entry.get("reason", "")
        item = found.get(entry.get("id"))
        title = str((item.values or {}).get(main.perm_name, "")) if item and main else ""
        rows.append({"word": word, "id": entry.get("id"), "item": item, "title": title,
                     "detail": _detail(word, entry, names), "resolve": reason in TO_RESOLVE})
    return rows


def _detail(word, entry, names):
    if word == "Failed":
        return entry.get("error") or "failed"
    if word == "Skipped":
        reason = entry.get("reason", "")
        return SKIP_REASONS.get(reason, reason.replace("_", " "))
    fields = ", ".join("the status" if p == STATUS_KEY else names.get(p, p)
                       for p in entry.get("fields", []))
    if entry.get("kind") == "new":
        done = f"created on the master as item {entry.get('remote_id')}"
        if entry.get("adopted"):
            done += " (found there after a lost reply, not created twice)"
        return done
    return f"sent {fields}" if fields else "sent"

"""Job pages and the self-polling progress widget."""
from flask import current_app, render_template, url_for
from flask_htmx import make_response as hx_make_response

from .. import jobs
from ..models import Job
from .blueprint import bp, get_or_404
from .common import require

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
    return render_template("tikisync/job.html", job=job)


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

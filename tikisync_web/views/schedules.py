"""A cloned tracker's schedule: its form on the sync tab, pause, resume, "run now", and the
status widget the dashboard and the sync tab show (it polls itself while a run is due)."""
from flask import abort, current_app, g, redirect, render_template, url_for
from flask_htmx import make_response as hx_make_response

from ..forms.schedules import ScheduleForm
from ..jobs import scheduler, schedules
from ..models import Schedule
from .blueprint import bp, get_or_404, notify
from .common import current_user, htmx, render_page, require
from .jobs import FINISH_EVENTS
from .sync_tab import sync_context, sync_tracker

SCHEDULE_FRAGMENTS = {"schedule": "tikisync/_schedule.html"}


def _schedule_of(tracker):
    """The tracker's schedule, all of them read once per request (the dashboard's rows)."""
    if "tikisync_schedules" not in g:
        g.tikisync_schedules = {row.tracker_id: row for row in Schedule.select()}
    return g.tikisync_schedules.get(getattr(tracker, "id", tracker))


def state_of(tracker):
    """none | paused | running | due | waiting: what the status widget shows (and whether it
    polls: while due or running)."""
    row = _schedule_of(tracker)
    if row is None:
        return "none"
    if row.paused:
        return "paused"
    if row.job_id is not None:
        return "running"
    return "due" if row.next_run is not None and row.next_run <= schedules.now() else "waiting"


def who_runs():
    """Words for who runs this site's schedules, from its configuration."""
    config = current_app.config
    mode = str(config.get("TIKISYNC_SCHEDULER") or "auto").lower()
    if scheduler.wanted(config):
        return "this web application itself"
    if mode == "auto" and config.get("TIKISYNC_JOB_RUNNER") == "worker":
        return "the `tikisync worker` processes"
    return "`tikisync run-due`, when cron calls it (the scheduler of this site is off)"


@bp.app_template_filter("tikisync_in")
def in_words(stamp):
    """A future Unix time in words: "in 14 minutes", "now"."""
    if not stamp:
        return ""
    seconds = int(stamp) - schedules.now()
    if seconds <= 0:
        return "now"
    if seconds < 60:
        return "in less than a minute"
    # Rounded to the nearest unit: a run due in 899 s reads "in 15 minutes".
    for unit, size, below in (("minute", 60, 90 * 60), ("hour", 3600, 48 * 3600),
                              ("day", 86400, None)):
        if below is None or seconds < below:
            n = max(1, round(seconds / size))
            return f"in {n} {unit}{'s' if n > 1 else ''}"
    return ""  # pragma: no cover - the last unit has no bound


@bp.context_processor
def _schedule_globals():
    return {"tikisync_schedule_of": _schedule_of, "tikisync_schedule_form": ScheduleForm.of,
            "tikisync_schedule_state": state_of,
            "tikisync_now": schedules.now, "tikisync_schedule_runner": who_runs}


def _after(tracker, message, kind="success"):
    """The answer to a successful schedule action: the fragment (htmx) or back to the tab."""
    g.pop("tikisync_schedules", None)
    if htmx:
        return render_template("tikisync/_schedule.html", tracker=tracker, schedule_message=message)
    notify(message, kind)
    return redirect(url_for("tikisync.sync", tracker_id=tracker.id, _anchor="schedule"), 303)


@bp.route("/trackers/<int:tracker_id>/schedule", methods=["POST"], endpoint="schedule_save")
@require("admin")
def schedule_save(tracker_id):
    """Create, change or (both intervals empty) remove the tracker's schedule."""
    tracker = sync_tracker(tracker_id)
    form = ScheduleForm()
    if form.validate_on_submit():
        reload_every, check_every = form.seconds(form.reload_every), form.seconds(form.check_every)
        if reload_every is None and check_every is None and _schedule_of(tracker) is None:
            form.reload_every.errors.append("Give at least one interval (or both, e.g. a "
                                            "reload every 2h and a check every 15m).")
        else:
            try:
                row = schedules.save(tracker, reload_every=reload_every, check_every=check_every,
                                     auto_push="safe" if form.auto_push.data else "off",
                                     webhook_url=form.webhook_url.data or "",
                                     actor=current_user().username)
            except schedules.ScheduleInvalid as exc:
                for name, message in exc.errors.items():
                    getattr(form, name, form.reload_every).errors.append(
                        message[:1].upper() + message[1:] + ".")
            else:
                return _after(tracker, "Schedule removed." if row is None else
                              f"Schedule saved; next: {row.next_kind} {in_words(row.next_run)}.")
    return render_page("tikisync/sync.html", fragments=SCHEDULE_FRAGMENTS, status=422,
                       schedule_form=form, **sync_context(tracker))


def _schedule(tracker_id):
    tracker = sync_tracker(tracker_id)
    row = schedules.for_tracker(tracker)
    if row is None:
        abort(404, f"“{tracker.name}” has no schedule; set one on its synchronization tab.")
    return tracker, row


@bp.route("/trackers/<int:tracker_id>/schedule/pause", methods=["POST"],
          endpoint="schedule_pause")
@require("admin")
def schedule_pause(tracker_id):
    """Stop the schedule until someone resumes it."""
    tracker, row = _schedule(tracker_id)
    user = current_user().username
    schedules.pause(row, f"Paused by {user}.", actor=user)
    return _after(tracker, "Schedule paused.")


@bp.route("/trackers/<int:tracker_id>/schedule/resume", methods=["POST"],
          endpoint="schedule_resume")
@require("admin")
def schedule_resume(tracker_id):
    """Start the schedule again: failures forgotten, the next run due at once."""
    tracker, row = _schedule(tracker_id)
    schedules.resume(row, actor=current_user().username)
    scheduler.wake(current_app._get_current_object())
    return _after(tracker, "Schedule resumed; its next run is due now.")


@bp.route("/trackers/<int:tracker_id>/schedule/run", methods=["POST"],
          endpoint="schedule_run_now")
@require("admin")
def schedule_run_now(tracker_id):
    """Make the next scheduled run due now; the scheduler takes it at its next look."""
    tracker, row = _schedule(tracker_id)
    if not schedules.run_now(row, actor=current_user().username):
        return _after(tracker, "The schedule is paused or already running: nothing changed.",
                      "warning")
    scheduler.wake(current_app._get_current_object())
    return _after(tracker, f"The next run is due now; {who_runs()} takes it.")


@bp.route("/trackers/<int:tracker_id>/schedule/status", endpoint="schedule_status")
@require("viewer")
def schedule_status(tracker_id):
    """The status widget alone (next run, last outcome); polls itself while a run is due."""
    from ..models import Tracker

    tracker = get_or_404(Tracker, tracker_id, "tracker")
    body = render_template("tikisync/_schedule_status.html", tracker=tracker)
    if htmx and state_of(tracker) not in ("due", "running"):
        # The widget's last answer: the sync tab's lists refresh on this event, as after a job.
        response = hx_make_response(body, trigger=FINISH_EVENTS)
    else:
        response = current_app.make_response(body)
    response.headers["Cache-Control"] = "no-store"
    return response

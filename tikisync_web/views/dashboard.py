"""The dashboard: every tracker at a glance, refreshed by itself when a job ends."""
import peewee as pw

from .. import jobs, settings
from ..models import Item, Job, Tracker
from ..sync import item_states
from .blueprint import bp
from .common import current_user, is_fragment_request, render_page, require

RECENT = 8
BADGE, BADGE_TEMPLATE = "conflict-badge-slot", "tikisync/_conflict_badge.html"
# Finished jobs looked at for each clone's last outcome and schema drift.
LOOK_BACK = 200


@bp.route("/", endpoint="dashboard")
@require("viewer")
def dashboard():
    """Trackers with their item counts, sources, local work, jobs and actions."""
    if is_fragment_request(BADGE):  # the header's badge, refreshing itself after a job
        return render_page("tikisync/dashboard.html", fragments={BADGE: BADGE_TEMPLATE})
    counts = (Item.select(Item.tracker, pw.fn.COUNT(Item.id).alias("n"))
              .group_by(Item.tracker))
    by_tracker = {row.tracker_id: row.n for row in counts}
    trackers = list(Tracker.select().order_by(Tracker.name, Tracker.id))
    pending, running, last, drift = {}, {}, {}, set()
    if settings.sync_enabled():
        # Where each clone's items stand, for every role: from hashes, no network.
        # classify()'s numbers, for every clone at once (item_states.counts).
        pending = item_states.counts([t for t in trackers if t.is_clone and t.last_reload_at])
        last, drift = _last_outcomes()
        if current_user().can("admin"):
            running = {j.tracker_id: jobs.snapshot(j) for j in
                       Job.select().where(Job.lock_key.is_null(False),
                                          Job.tracker.is_null(False))}
    recent = list(Job.select(Job, Tracker).join(Tracker, pw.JOIN.LEFT_OUTER)
                  .where(Job.lock_key.is_null()).order_by(Job.id.desc()).limit(RECENT))
    return render_page("tikisync/dashboard.html",
                       fragments={"dashboard-trackers": "tikisync/_dashboard_trackers.html"},
                       trackers=trackers, counts=by_tracker, pending=pending, running=running,
                       last=last, drift=drift, recent=[jobs.snapshot(j) for j in recent])


def _last_outcomes():
    """({tracker id: its last finished job}, {ids of trackers whose last reload or field
    refresh found schema drift}), from the recent finished jobs."""
    last, drift, judged = {}, set(), set()
    for job in (Job.select().where(Job.lock_key.is_null(), Job.tracker.is_null(False))
                .order_by(Job.id.desc()).limit(LOOK_BACK)):
        last.setdefault(job.tracker_id, job)
        if job.kind in ("reload", "meta") and job.state == "done" and \
                job.tracker_id not in judged:
            judged.add(job.tracker_id)
            found = (job.result or {}).get("drift") if isinstance(job.result, dict) else None
            if isinstance(found, dict) and any(found.values()):
                drift.add(job.tracker_id)
    return last, drift


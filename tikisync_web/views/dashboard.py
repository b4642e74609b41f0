"""The dashboard: every tracker at a glance."""
import peewee as pw

from .. import jobs, settings
from ..models import Item, Job, Tracker
from ..sync import status
from .blueprint import bp
from .common import current_user, render_page, require


@bp.route("/", endpoint="dashboard")
@require("viewer")
def dashboard():
    """Trackers with their item counts and sources."""
    counts = (Item.select(Item.tracker, pw.fn.COUNT(Item.id).alias("n"))
              .group_by(Item.tracker))
    by_tracker = {row.tracker_id: row.n for row in counts}
    trackers = list(Tracker.select().order_by(Tracker.name, Tracker.id))
    pending, running = {}, {}
    if current_user().can("admin") and settings.sync_enabled():
        # What is waiting to be pushed, per clone: computed from hashes, no network.
        pending = {t.id: status.classify(t) for t in trackers if t.is_clone and t.last_reload_at}
        running = {j.tracker_id: jobs.snapshot(j) for j in
                   Job.select().where(Job.lock_key.is_null(False), Job.tracker.is_null(False))}
    recent = list(Job.select(Job, Tracker).join(Tracker, pw.JOIN.LEFT_OUTER)
                  .where(Job.lock_key.is_null()).order_by(Job.id.desc()).limit(8))
    return render_page("tikisync/dashboard.html", trackers=trackers, counts=by_tracker,
                       pending=pending, running=running,
                       recent=[jobs.snapshot(j) for j in recent])

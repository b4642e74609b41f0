"""The dashboard: every tracker at a glance."""
import peewee as pw

from ..models import Item, Tracker
from .blueprint import bp
from .common import render_page, require


@bp.route("/", endpoint="dashboard")
@require("viewer")
def dashboard():
    """Trackers with their item counts and sources."""
    counts = (Item.select(Item.tracker, pw.fn.COUNT(Item.id).alias("n"))
              .group_by(Item.tracker))
    by_tracker = {row.tracker_id: row.n for row in counts}
    trackers = list(Tracker.select().order_by(Tracker.name, Tracker.id))
    return render_page("tikisync/dashboard.html", trackers=trackers, counts=by_tracker)

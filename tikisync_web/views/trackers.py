"""Creating, renaming and deleting trackers."""
from flask import redirect, render_template, url_for

from .. import audit, sortindex
from ..db import write_transaction
from ..forms.common import ConfirmForm
from ..forms.trackers import TrackerForm
from ..models import Item, Tracker, now
from .blueprint import bp, get_or_404, notify
from .common import current_user, form_status, require


@bp.route("/trackers/new", methods=["GET", "POST"], endpoint="tracker_new")
@require("admin")
def tracker_new():
    """Create a local tracker."""
    form = TrackerForm()
    if form.validate_on_submit():
        with write_transaction():
            tracker = Tracker.create(name=form.name.data.strip(),
                                     description=form.description.data or "")
            audit.record("tracker.create", current_user().username, tracker=tracker,
                         name=tracker.name)
        notify(f"Tracker “{tracker.name}” created. Add its fields now.", "success")
        return redirect(url_for("tikisync.fields", tracker_id=tracker.id), 303)
    return render_template("tikisync/tracker_form.html", form=form, tracker=None), form_status()


@bp.route("/trackers/<int:tracker_id>/edit", methods=["GET", "POST"], endpoint="tracker_edit")
@require("admin")
def tracker_edit(tracker_id):
    """Rename a tracker or change its description."""
    tracker = get_or_404(Tracker, tracker_id, "tracker")
    form = TrackerForm(obj=tracker)
    if form.validate_on_submit():
        with write_transaction():
            Tracker.update(name=form.name.data.strip(), description=form.description.data or "",
                           modified=now()).where(Tracker.id == tracker.id).execute()
            audit.record("tracker.update", current_user().username, tracker=tracker,
                         name=form.name.data.strip())
        notify("Tracker saved.", "success")
        return redirect(url_for("tikisync.items", tracker_id=tracker.id), 303)
    return render_template("tikisync/tracker_form.html", form=form,
                           tracker=tracker), form_status()


@bp.route("/trackers/<int:tracker_id>/delete", methods=["GET", "POST"], endpoint="tracker_delete")
@require("admin")
def tracker_delete(tracker_id):
    """Delete a tracker and all its items, after confirmation."""
    tracker = get_or_404(Tracker, tracker_id, "tracker")
    form = ConfirmForm()
    if form.validate_on_submit():
        with write_transaction():
            count = Item.select().where(Item.tracker == tracker).count()
            audit.record("tracker.delete", current_user().username, name=tracker.name,
                         items=count)
            tracker.delete_instance(recursive=True)
            sortindex.drop(tracker.id)
        notify(f"Tracker “{tracker.name}” and its {count} items were deleted.", "success")
        return redirect(url_for("tikisync.dashboard"), 303)
    count = Item.select().where(Item.tracker == tracker).count()
    return render_template(
        "tikisync/confirm.html", form=form, title=f"Delete tracker “{tracker.name}”?",
        message=f"This deletes the tracker, its fields and its {count} items. It cannot be undone.",
        action=url_for("tikisync.tracker_delete", tracker_id=tracker.id), button="Delete tracker",
        cancel=url_for("tikisync.items", tracker_id=tracker.id))

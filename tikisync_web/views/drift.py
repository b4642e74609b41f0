"""Schema drift of a clone (the master's fields now against those adopted), and adopting new
remote fields (beyond Tiki)."""
from flask import redirect, url_for

from .. import credentials as creds
from ..forms.clone import AdoptForm
from ..remote.errors import RemoteError
from ..sync import schema
from .blueprint import bp, notify
from .common import current_user, form_status, render_page, require
from .remote_problems import describe
from .sync_tab import sync_tracker


def _client_for(tracker):
    return creds.client_for(tracker.source_url, generation=tracker.protocol or None)


def _drift_page(tracker, form=None, invalid=False, problem=None):
    """The drift page, from one export_fields call to the tracker's master; `invalid`: the
    adoption form is shown again with its errors."""
    result = None
    if problem is None:
        try:
            with _client_for(tracker) as client:
                text, _ = client.export_fields(tracker.remote_tracker_id)
            result = schema.drift(tracker, text)
        except RemoteError as exc:
            problem = describe(exc, tracker.source_url, creds.match(tracker.source_url))
    form = (form or AdoptForm(formdata=None)).fill_added(result["added"] if result else [])
    return render_page("tikisync/drift.html", status=form_status(invalid), tracker=tracker,
                       drift=result, problem=problem, form=form)


@bp.route("/trackers/<int:tracker_id>/drift", endpoint="tracker_drift")
@require("admin")
def tracker_drift(tracker_id):
    """The master's fields now, compared with those adopted: added, removed, retyped."""
    return _drift_page(sync_tracker(tracker_id))


@bp.route("/trackers/<int:tracker_id>/drift", methods=["POST"], endpoint="tracker_adopt")
@require("admin")
def tracker_adopt(tracker_id):
    """Add the chosen new remote fields to the clone, with the clone's field policy."""
    tracker = sync_tracker(tracker_id)
    form = AdoptForm()
    perms = [p for p in (form.perm.data or []) if p]
    if not form.validate() or not perms:
        form.perm.errors = list(form.perm.errors or []) + ["Choose at least one field to add."]
        return _drift_page(tracker, form, invalid=True)
    try:
        with _client_for(tracker) as client:
            plans = schema.adopt_fields(tracker, client, perms,
                                        username=current_user().username)
    except RemoteError as exc:
        return _drift_page(tracker, form, problem=describe(
            exc, tracker.source_url, creds.match(tracker.source_url)))
    made = [p for p in plans if p.action != "skipped"]
    if made:
        notify("Added: " + "; ".join(
            f"“{p.name}” ({p.perm}){', ' + p.reason if p.reason else ''}" for p in made) + ".",
            "success")
    for p in plans:
        if p.action == "skipped":
            notify(f"“{p.name}” ({p.perm}) was not added: {p.reason}.", "warning")
    if not plans:
        notify("Nothing was added: those fields are no longer new on the master.", "warning")
    return redirect(url_for("tikisync.fields", tracker_id=tracker.id), 303)

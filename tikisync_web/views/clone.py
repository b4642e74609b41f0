"""The clone wizard, one URL per step (DESIGN §6, tiki-protocol.md §7.1): the master's URL, its
trackers, a preview of every field, then create. Steps 1-3 are GETs with query parameters, so
reload and back show a full page; htmx swaps only the wizard (the `clone-wizard` fragment)."""
from flask import abort, redirect, request, url_for
from flask_htmx import make_response as hx_make_response
from werkzeug.datastructures import MultiDict

from .. import credentials as creds
from .. import settings
from ..forms.clone import CreateForm, SourceForm
from ..models import AuditEvent, Tracker
from ..remote import urls
from ..remote.errors import OutboundRefused, RemoteError
from ..sync import clone as clone_mod
from .blueprint import bp, get_or_404
from .common import (
    as_id,
    current_user,
    form_status,
    is_fragment_request,
    render_page,
    require,
)
from .remote_problems import describe

WIZARD = "clone-wizard"  # the id of every step's root element, the one htmx swaps
STEPS = {"source": "tikisync/_clone_source.html", "confirm": "tikisync/_clone_confirm.html",
         "trackers": "tikisync/_clone_trackers.html", "preview": "tikisync/_clone_preview.html",
         "done": "tikisync/_clone_done.html"}
TITLES = {"source": "Clone a remote tracker", "confirm": "No credential for this master",
          "trackers": "Pick a tracker to clone", "preview": "What the clone will hold",
          "done": "Tracker cloned"}


def _guard():
    if not settings.sync_enabled():
        abort(403, settings.SYNC_DISABLED_MESSAGE)


def _step(step, invalid=False, **context):
    """The wizard page at `step`; only the wizard itself for htmx requests that target it.
    `invalid`: the step's answers are shown again with what is wrong (steps 2 and 3 are GETs,
    so the request method does not tell)."""
    return render_page("tikisync/clone.html", fragments={WIZARD: STEPS[step]},
                       status=form_status(invalid),
                       step=step, step_template=STEPS[step], title=TITLES[step],
                       wizard=WIZARD, **context)


def _source_form(data=None):
    form = SourceForm(formdata=data if data is not None else (request.args or None))
    return form.fill_credentials(creds.all_credentials())


def _base_url(form):
    """The master's base URL from step 1's answers; None (and errors on the form) if unusable."""
    typed = (form.url.data or "").strip()
    cred = creds.get(form.credential.data) if form.credential.data else None
    if not typed and cred is None:
        form.url.errors = ["Type the master's URL, or pick a stored credential."]
        return None
    try:
        return urls.normalize_base(typed or cred.url)
    except urls.UrlError as exc:
        form.url.errors = [str(exc)[:1].upper() + str(exc)[1:] + "."]
        return None


def _anonymous(values):
    return values.get("anonymous") == "1"


def _gate(base, anonymous, form=None):
    """A response when the wizard may not contact `base` yet: refused by the outbound policy
    (step 1 again, with what to do), or no credential applies and the admin has not confirmed
    going on without one. None when the master may be asked."""
    try:
        creds.check_outbound(base)
    except OutboundRefused as exc:
        form = form or _source_form(MultiDict({"url": base}))
        return _step("source", invalid=True, form=form, problem=describe(exc, base, None))
    if creds.match(base) is None and not anonymous:
        return _step("confirm", base=base)
    return None


@bp.route("/clone", endpoint="clone")
@require("admin")
def clone_start():
    """Step 1: the master's URL, typed or taken from a stored credential."""
    _guard()
    form = _source_form()
    return _step("source", form=form, problem=None)


def _source_from_query():
    """(base URL, anonymous, None) of the master named in the query string, or (None, None,
    the page to show instead: the source step with its error, or the credential warning)."""
    _guard()
    form = _source_form()
    base = _base_url(form)
    if base is None:
        return None, None, _step("source", invalid=True, form=form, problem=None)
    anonymous = _anonymous(request.args)
    blocked = _gate(base, anonymous, form)
    return (None, None, blocked) if blocked is not None else (base, anonymous, None)


@bp.route("/clone/trackers", endpoint="clone_trackers")
@require("admin")
def clone_trackers():
    """Step 2: the master's trackers (after a warning when no credential applies)."""
    base, anonymous, elsewhere = _source_from_query()
    if elsewhere is not None:
        return elsewhere
    cred = creds.match(base)
    trackers, problem = [], None
    try:
        with creds.client_for(base) as client:
            trackers = client.list_trackers()
    except RemoteError as exc:
        problem = describe(exc, base, cred)
    return _step("trackers", base=base, cred=cred, anonymous=anonymous, trackers=trackers,
                 problem=problem)


def _tracker_arg(values):
    return as_id(values.get("tracker"))


def _plan(base, tracker_id):
    """(plan, generation, problem) for remote tracker `tracker_id` of `base`."""
    try:
        with creds.client_for(base) as client:
            plan = clone_mod.plan_clone(client, tracker_id)
            return plan, client.generation, None
    except (RemoteError, clone_mod.CloneError) as exc:
        return None, None, describe(exc, base, creds.match(base))


def _existing(base, tracker_id):
    """The first local clone of that remote tracker, if there is one."""
    return (Tracker.select().where(Tracker.source_url == base.rstrip("/"),
                                   Tracker.remote_tracker_id == tracker_id)
            .order_by(Tracker.id).first())


def _preview(base, tracker_id, anonymous, plan, problem, changed=False, ask=False):
    """The preview; `ask`: a create that did not know of an existing clone comes back to it."""
    existing = _existing(base, tracker_id)
    form = CreateForm(formdata=None, data={
        "url": base, "tracker": tracker_id, "anonymous": "1" if anonymous else "",
        "digest": plan.digest() if plan else "", "again": existing.id if existing else ""})
    return _step("preview", invalid=ask, base=base, cred=creds.match(base), anonymous=anonymous,
                 tracker_id=tracker_id, plan=plan, problem=problem, form=form, changed=changed,
                 existing=existing, ask=ask)


@bp.route("/clone/preview", endpoint="clone_preview")
@require("admin")
def clone_preview():
    """Step 3: every remote field and what the clone will make of it; nothing is created."""
    base, anonymous, elsewhere = _source_from_query()
    if elsewhere is not None:
        return elsewhere
    tracker_id = _tracker_arg(request.args)
    if tracker_id is None:
        return redirect(url_for("tikisync.clone_trackers", url=base,
                                anonymous="1" if anonymous else None))
    plan, _, problem = _plan(base, tracker_id)
    return _preview(base, tracker_id, anonymous, plan, problem)


@bp.route("/clone", methods=["POST"], endpoint="clone_create")
@require("admin")
def clone_create():
    """Step 4: create the local tracker and its fields, as previewed."""
    _guard()
    form = CreateForm()
    source = _source_form(MultiDict({"url": form.url.data or ""}))
    base, tracker_id = _base_url(source), _tracker_arg(request.form)
    if base is None or tracker_id is None or not form.validate():
        return _step("source", invalid=True, form=source, problem=None)
    anonymous = _anonymous(request.form)
    blocked = _gate(base, anonymous, source)
    if blocked is not None:
        return blocked
    plan, generation, problem = _plan(base, tracker_id)
    if problem is not None:
        return _preview(base, tracker_id, anonymous, None, problem)
    if plan.digest() != form.digest.data:
        # The master changed since the preview: show what would be created now.
        return _preview(base, tracker_id, anonymous, plan, None, changed=True)
    existing = _existing(base, tracker_id)
    if existing is not None and form.again.data != str(existing.id):
        # Back, then "Create" again (or a second tab): ask before making a second copy.
        return _preview(base, tracker_id, anonymous, plan, None, ask=True)
    tracker = clone_mod.create_clone(plan, base, protocol=generation, credential=creds.match(base),
                                     username=current_user().username)
    done = url_for("tikisync.clone_done", tracker_id=tracker.id)
    if is_fragment_request(WIZARD):
        body, status = _done(tracker)
        return hx_make_response(body, status, push_url=done,
                                trigger={"tikisync:tracker-cloned": tracker.id})
    return redirect(done, 303)


def _report(tracker):
    event = (AuditEvent.select().where(AuditEvent.tracker == tracker,
                                       AuditEvent.action == "tracker.clone")
             .order_by(AuditEvent.id.desc()).first())
    summary = event.summary if event is not None else {}
    return {"kept": summary.get("kept", []), "transformed": summary.get("transformed", []),
            "skipped": summary.get("skipped", [])}


def _done(tracker):
    return _step("done", tracker=tracker, report=_report(tracker),
                 fields={f.perm_name: f for f in tracker.ordered_fields()})


@bp.route("/trackers/<int:tracker_id>/cloned", endpoint="clone_done")
@require("admin")
def clone_done(tracker_id):
    """After the clone: what was made, and where to go next (fields, sync, reload)."""
    _guard()
    tracker = get_or_404(Tracker, tracker_id, "tracker")
    if not tracker.is_clone:
        abort(404, f"“{tracker.name}” is a local tracker: it was not cloned.")
    return _done(tracker)

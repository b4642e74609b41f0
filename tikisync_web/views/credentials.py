"""Credentials for remote masters and the outbound allow-list (admin only)."""
from flask import redirect, render_template, request, url_for
from flask_htmx import make_response as hx_make_response

from .. import credentials as creds
from ..credential_methods import GENERATIONS, METHODS
from ..forms.common import ConfirmForm
from ..forms.credentials import CredentialForm, OriginForm
from ..models import AllowedOrigin, Credential, Tracker
from .blueprint import bp, get_or_404, notify
from .common import current_user, form_status, is_fragment_request, require

TEST_FRAGMENT = "tikisync/_credential_test.html"


def test_target(cred):
    """The id of a credential's test-result element (the fragment's root)."""
    return f"credential-test-{cred.id}"


def _page(form=None, origin_form=None):
    """The credentials page; a form given is shown again with its errors."""
    return render_template(
        "tikisync/credentials.html", credentials=creds.all_credentials(),
        form=form or CredentialForm(formdata=None),
        origin_form=origin_form or OriginForm(formdata=None),
        origins=list(AllowedOrigin.select().order_by(AllowedOrigin.origin)),
        methods=METHODS, generations=GENERATIONS,
        test_target=test_target), form_status()


@bp.route("/credentials", endpoint="credentials")
@require("admin")
def credentials():
    """Credentials, with add, test, edit and delete; the allowed remote sites."""
    return _page()


@bp.route("/credentials", methods=["POST"], endpoint="credential_create")
@require("admin")
def credential_create():
    """Store a new credential."""
    form = CredentialForm()
    if form.validate_on_submit():
        try:
            cred = creds.add(actor=current_user().username, **form.values())
        except creds.CredentialInvalid as exc:
            form.attach(exc.errors)
        else:
            notify(f"Credential {cred.identifier} saved for {cred.url}.", "success")
            return redirect(url_for("tikisync.credentials"), 303)
    return _page(form=form)


@bp.route("/credentials/<int:cred_id>/edit", methods=["GET", "POST"], endpoint="credential_edit")
@require("admin")
def credential_edit(cred_id):
    """Change a credential; an empty secret keeps the stored one."""
    cred = get_or_404(Credential, cred_id, "credential")
    form = CredentialForm()
    if request.method == "GET":
        form.fill_from(cred)
    elif form.validate_on_submit():
        try:
            cred = creds.update(cred, actor=current_user().username, **form.values())
        except creds.CredentialInvalid as exc:
            form.attach(exc.errors)
        else:
            notify(f"Credential {cred.identifier} saved.", "success")
            return redirect(url_for("tikisync.credentials"), 303)
    return render_template("tikisync/credential_form.html", form=form, cred=cred), form_status()


@bp.route("/credentials/<int:cred_id>/delete", methods=["GET", "POST"],
          endpoint="credential_delete")
@require("admin")
def credential_delete(cred_id):
    """Delete a credential, after confirmation."""
    cred = get_or_404(Credential, cred_id, "credential")
    form = ConfirmForm()
    if form.validate_on_submit():
        creds.delete(cred, actor=current_user().username)
        notify(f"Credential {cred.identifier} deleted.", "success")
        return redirect(url_for("tikisync.credentials"), 303)
    used = Tracker.select().where(Tracker.credential == cred).count()
    note = (f" {used} cloned tracker(s) use it; they will reach {cred.url} without a "
            "credential until you add a new one." if used else "")
    return render_template(
        "tikisync/confirm.html", form=form, title=f"Delete credential {cred.identifier}?",
        message=f"The credential for {cred.url} and its stored secret are removed." + note,
        action=url_for("tikisync.credential_delete", cred_id=cred.id),
        button="Delete credential", cancel=url_for("tikisync.credentials"))


@bp.route("/credentials/<int:cred_id>/test", methods=["POST"], endpoint="credential_test")
@require("admin")
def credential_test(cred_id):
    """Try a credential against its master; the result is shown on the credentials page."""
    cred = get_or_404(Credential, cred_id, "credential")
    result = creds.probe(cred)
    if is_fragment_request(test_target(cred)):
        body = render_template(TEST_FRAGMENT, cred=cred, result=result, test_target=test_target)
        return hx_make_response(body, 200, trigger={"tikisync:credential-tested": cred.id})
    notify(f"Test of {cred.identifier}: {result['message']}",
           "success" if result["ok"] else "error")
    return redirect(url_for("tikisync.credentials"), 303)


@bp.route("/credentials/origins", methods=["POST"], endpoint="origin_create")
@require("admin")
def origin_create():
    """Allow a remote site (an origin) that has no credential."""
    form = OriginForm()
    if form.validate_on_submit():
        try:
            origin = creds.add_origin(form.origin.data, actor=current_user().username)
        except creds.CredentialInvalid as exc:
            form.origin.errors = [exc.errors["origin"][:1].upper() + exc.errors["origin"][1:] + "."]
        else:
            notify(f"{origin} is now an allowed remote site.", "success")
            return redirect(url_for("tikisync.credentials"), 303)
    return _page(origin_form=form)


@bp.route("/credentials/origins/<int:origin_id>/delete", methods=["POST"],
          endpoint="origin_delete")
@require("admin")
def origin_delete(origin_id):
    """Stop allowing a remote site."""
    row = get_or_404(AllowedOrigin, origin_id, "allowed site")
    creds.remove_origin(row.origin, actor=current_user().username)
    notify(f"{row.origin} is no longer an allowed remote site.", "success")
    return redirect(url_for("tikisync.credentials"), 303)

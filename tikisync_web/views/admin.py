"""Admin pages: users, API tokens, settings."""
from flask import redirect, render_template, request, url_for

from .. import accounts, audit, settings
from ..db import write_transaction
from ..forms.accounts import SettingsForm, TokenForm, UserEditForm, UserForm
from ..forms.common import ConfirmForm, options_of
from ..models import ApiToken, User
from .blueprint import bp, get_or_404, notify
from .common import current_user, form_status, login, require


def _users_page(form):
    users = list(User.select().order_by(User.username))
    return render_template("tikisync/admin_users.html", users=users, form=form), form_status()


@bp.route("/admin/users", endpoint="users")
@require("admin")
def users():
    """Accounts and their roles."""
    return _users_page(UserForm())


@bp.route("/admin/users", methods=["POST"], endpoint="user_create")
@require("admin")
def user_create():
    """Add an account."""
    form = UserForm()
    if form.validate_on_submit():
        try:
            with write_transaction():
                user = accounts.create_user(form.username.data, form.role.data,
                                            form.password.data, email=form.email.data)
                audit.record("user.create", current_user().username, user=user.username,
                             role=user.role)
        except accounts.AuthError as exc:
            form.username.errors = [str(exc)[:1].upper() + str(exc)[1:] + "."]
        else:
            notify(f"User {user.username} added as {user.role}.", "success")
            return redirect(url_for("tikisync.users"), 303)
    return _users_page(form)


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"], endpoint="user_edit")
@require("admin")
def user_edit(user_id):
    """Change a role, (de)activate, or set a new password."""
    user = get_or_404(User, user_id, "user")
    form = UserEditForm(obj=user)
    if form.validate_on_submit():
        me = current_user()
        if user.id == me.id and (form.role.data != "admin" or not form.active.data):
            form.role.errors = ["You cannot remove your own admin role or deactivate yourself."]
        else:
            email = (form.email.data or "").strip()
            with write_transaction():
                User.update(role=form.role.data, active=form.active.data, email=email).where(
                    User.id == user.id).execute()
                if form.password.data:
                    accounts.set_password(user.id, form.password.data)  # ends their sessions
                audit.record("user.update", me.username, user=user.username,
                             role=form.role.data, active=form.active.data,
                             password=bool(form.password.data), email=email)
            if form.password.data and user.id == me.id:
                login(User.get_by_id(me.id))  # ... but the one making the change stays in
            notify(f"User {user.username} saved.", "success")
            return redirect(url_for("tikisync.users"), 303)
    return render_template("tikisync/admin_user.html", user=user, form=form), form_status()


def _token_form():
    form = TokenForm()
    form.username.choices = options_of(
        (u.username, f"{u.username} ({u.role})")
        for u in User.select().where(User.active == True).order_by(User.username))  # noqa: E712
    return form


def _tokens_page(form, new_token=None):
    """The tokens and the form to create one; after a creation, the new token (shown once)."""
    tokens = list(ApiToken.select(ApiToken, User).join(User).order_by(ApiToken.created.desc()))
    invalid = request.method == "POST" and new_token is None
    return render_template("tikisync/admin_tokens.html", tokens=tokens, form=form,
                           new_token=new_token, revoke_form=ConfirmForm()), form_status(invalid)


@bp.route("/admin/tokens", endpoint="tokens")
@require("admin")
def tokens():
    """API tokens for Tiki 24+ clients (tiki-api.php, Bearer)."""
    return _tokens_page(_token_form())


@bp.route("/admin/tokens", methods=["POST"], endpoint="token_create")
@require("admin")
def token_create():
    """Create an API token; it is shown once."""
    form = _token_form()
    if form.validate_on_submit():
        user = User.get(User.username == form.username.data)
        with write_transaction():
            token = accounts.create_token(user, form.label.data)
            audit.record("token.create", current_user().username, user=user.username,
                         label=form.label.data or "")
        return _tokens_page(_token_form(), new_token=token)
    return _tokens_page(form)


@bp.route("/admin/tokens/<int:token_id>/revoke", methods=["POST"], endpoint="token_revoke")
@require("admin")
def token_revoke(token_id):
    """Revoke an API token at once."""
    token = get_or_404(ApiToken, token_id, "token")
    with write_transaction():
        audit.record("token.revoke", current_user().username, user=token.user.username,
                     label=token.label)
        token.delete_instance()
    notify("Token revoked; clients using it are refused from now on.", "success")
    return redirect(url_for("tikisync.tokens"), 303)


@bp.route("/admin/settings", methods=["GET", "POST"], endpoint="settings")
@require("admin")
def settings_page():
    """Site settings (the "Synchronize remote trackers" switch)."""
    form = SettingsForm()
    if request.method == "GET":
        form.remote_sync.data = settings.sync_enabled()
    if form.validate_on_submit():
        settings.put(settings.REMOTE_SYNC, "y" if form.remote_sync.data else "n")
        audit.record("settings.update", current_user().username, remote_sync=form.remote_sync.data)
        notify("Settings saved.", "success")
        return redirect(url_for("tikisync.settings"), 303)
    return render_template("tikisync/admin_settings.html", form=form), form_status()

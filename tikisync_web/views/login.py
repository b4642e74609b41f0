"""Signing in and out."""
import time

from flask import redirect, render_template, request, url_for

from .. import accounts
from .. import browser_policy as policy
from ..forms.accounts import LoginForm
from ..models import User
from .blueprint import bp, notify
from .common import (
    current_user,
    form_status,
    host_loader,
    login,
    login_url,
    logout,
    render_page,
    safe_next,
)


@bp.route("/login", methods=["GET", "POST"], endpoint="login")
def login_page():
    """Sign in."""
    if host_loader() is not None:
        # The host signs people in: never a second sign-in form inside its site.
        if current_user() is not None:
            return redirect(url_for("tikisync.dashboard"), 303)
        return redirect(login_url(safe_next(request.args.get("next"))), 303)
    form = LoginForm()
    if current_user() is not None and request.method == "GET":
        return redirect(url_for("tikisync.dashboard"))
    if form.validate_on_submit():
        user = accounts.authenticate(form.username.data, form.password.data)
        if user is not None:
            login(user)
            User.update(last_login=int(time.time())).where(User.id == user.id).execute()
            home = url_for("tikisync.dashboard")
            return redirect(safe_next(request.args.get("next")) or home, 303)
        form.password.errors = ["Wrong username or password."]
    return render_template("tikisync/login.html", form=form,
                           probe=not policy.has_session_cookie()), form_status()


@bp.route("/cookie-check", endpoint="cookie_check")
def cookie_check():
    """Did the cookie the sign-in page set come back? Nothing (204) if so; else why not, and
    the page to open in a tab of its own (asked by the sign-in page, once, when it loads)."""
    reason = policy.probe_reason()
    if reason is None:
        return "", 204
    target = safe_next(request.args.get("next")) or url_for("tikisync.login")
    return render_page("tikisync/cookie_refused.html",
                       {"tikisync-signin": "tikisync/_cookie_refused.html"},
                       reason=reason, target=target, framed=True)


@bp.route("/logout", methods=["POST"], endpoint="logout")
def logout_action():
    """Sign out."""
    logout()
    notify("You are signed out.")
    return redirect(url_for("tikisync.login"), 303)

"""Signing in and out."""
import time

from flask import redirect, render_template, request, url_for

from .. import accounts
from ..forms.accounts import LoginForm
from ..models import User
from .blueprint import bp, notify
from .common import current_user, form_status, login, logout, safe_next


@bp.route("/login", methods=["GET", "POST"], endpoint="login")
def login_page():
    """Sign in."""
    form = LoginForm()
    if current_user() is not None and request.method == "GET":
        return redirect(url_for("tikisync.dashboard"))
    if form.validate_on_submit():
        username, address = form.username.data, request.remote_addr
        try:
            user = accounts.sign_in(username, form.password.data, address)
        except accounts.Throttled as exc:
            form.password.errors = [str(exc)]
            return render_template("tikisync/login.html", form=form), 429, {
                "Retry-After": str(exc.seconds)}
        if user is not None:
            login(user)
            User.update(last_login=int(time.time())).where(User.id == user.id).execute()
            home = url_for("tikisync.dashboard")
            return redirect(safe_next(request.args.get("next")) or home, 303)
        form.password.errors = ["Wrong username or password."]
        wait = accounts.sign_in_wait(username, address)
        if wait:
            form.password.errors.append(f"Too many failed sign-ins: wait {wait} seconds before "
                                        "trying again.")
    return render_template("tikisync/login.html", form=form), form_status()


@bp.route("/logout", methods=["POST"], endpoint="logout")
def logout_action():
    """Sign out."""
    logout()
    notify("You are signed out.")
    return redirect(url_for("tikisync.login"), 303)

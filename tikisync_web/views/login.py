"""Signing in and out."""
import time

from flask import redirect, render_template, request, url_for

from .. import accounts
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
    return render_template("tikisync/login.html", form=form), form_status()


@bp.route("/logout", methods=["POST"], endpoint="logout")
def logout_action():
    """Sign out."""
    logout()
    notify("You are signed out.")
    return redirect(url_for("tikisync.login"), 303)

"""An intranet portal that mounts tikisync-web at /sync: its own pages and sign-in, its people
mapped to our roles, its own layout around our pages, one of our templates overridden, and a
page that frames the synchronization dashboard. See README.md beside this file.

    pip install 'tikisync-web[server]'
    gunicorn -b 127.0.0.1:8899 'portal:create_portal()'      # from this folder
    flask --app 'portal:create_portal()' tikisync …          # our command line, same database
"""
import os
import secrets
from typing import NamedTuple

from flask import Flask, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired

from tikisync_web import TikiSync

# The portal's own people: login -> (group, password). A real portal has LDAP or a database;
# these demo accounts stand in for it (PORTAL_PEOPLE='{"dan": ["it", "…"]}' replaces them).
DEMO_PEOPLE = {
    "alice": ("it", "portal-demo"),
    "bob": ("staff", "portal-demo"),
    "carol": ("guests", "portal-demo"),
}

# The documented mapping: which tikisync role each portal group gets. A group not listed
# here gets no access to /sync (the portal's sign-in page tells the person so).
ROLE_OF_GROUP = {"it": "admin", "staff": "editor", "guests": "viewer"}


class Person(NamedTuple):
    group: str
    password_hash: str


class SignInForm(FlaskForm):
    login = StringField("Login", validators=[InputRequired()])
    password = PasswordField("Password", validators=[InputRequired()])


def create_portal(config=None):
    app = Flask(__name__, instance_path=os.environ.get("PORTAL_INSTANCE") or None)
    app.config.update(
        TIKISYNC_DATABASE="sqlite:///" + os.path.join(app.instance_path, "portal-sync.db"),
        # Our pages inside the portal's layout (templates/portal/sync_layout.html).
        TIKISYNC_BASE_TEMPLATE="portal/sync_layout.html",
        PEOPLE=DEMO_PEOPLE,
        # The page /team frames this URL: our dashboard under /sync (same origin, nothing to
        # configure), or a tikisync-web served elsewhere (README: embedding across sites).
        SYNC_FRAME_URL=None,
    )
    # From the environment, Flask's way: PORTAL_SECRET_KEY=…, PORTAL_PEOPLE='{…}',
    # PORTAL_SYNC_FRAME_URL=…, PORTAL_TIKISYNC_DATABASE=postgresql://… (any TIKISYNC_* key).
    app.config.from_prefixed_env("PORTAL")
    app.config.update(config or {})
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app.instance_path)
    people = {login: Person(group, generate_password_hash(password))
              for login, (group, password) in app.config["PEOPLE"].items()}
    person = mount_sync(app, people)
    add_pages(app, people, person)
    return app


def mount_sync(app, people):
    """tikisync-web at /sync, told who is signed in to the portal."""
    sync = TikiSync(app, url_prefix="/sync")
    sync.login_view = "sign_in"  # where /sync sends someone not signed in to the portal

    @sync.user_loader
    def portal_person():
        """Who is signed in to the portal, as (username, role); None when nobody is."""
        login = session.get("portal_login")
        if login not in people or people[login].group not in ROLE_OF_GROUP:
            return None
        return login, ROLE_OF_GROUP[people[login].group]

    return portal_person


def add_pages(app, people, portal_person):
    """The portal's own pages: home, sign-in and out, and the team page that frames us."""

    @app.context_processor
    def portal_globals():
        login = session.get("portal_login")
        return {"portal_login": login if login in people else None,
                "sign_out_form": FlaskForm(),
                # A page loaded inside a frame (ours, in /team) is shown without the portal's
                # header: the page around the frame already has it.
                "portal_framed": request.headers.get("Sec-Fetch-Dest") == "iframe"}

    @app.route("/")
    def home():
        return render_template("portal/home.html")

    @app.route("/login", methods=["GET", "POST"])
    def sign_in():
        if portal_person() is not None:
            return redirect(_safe(request.args.get("next")) or url_for("home"))
        if session.get("portal_login") in people:
            # Signed in, yet sent here by /sync: their group has no role (ROLE_OF_GROUP).
            return render_template("portal/login.html", form=None), 403
        form = SignInForm()
        if form.validate_on_submit():
            person = people.get(form.login.data)
            if person and check_password_hash(person.password_hash, form.password.data):
                session.clear()
                session["portal_login"] = form.login.data
                return redirect(_safe(request.args.get("next")) or url_for("home"), 303)
            form.password.errors.append("Wrong login or password.")
        return render_template("portal/login.html", form=form), (
            422 if request.method == "POST" else 200)

    @app.route("/logout", methods=["POST"])
    def sign_out():
        if FlaskForm().validate_on_submit():
            session.clear()
        return redirect(url_for("home"), 303)

    @app.route("/team")
    def team():
        if session.get("portal_login") not in people:
            return redirect(url_for("sign_in", next=url_for("team")))
        frame = app.config["SYNC_FRAME_URL"] or url_for("tikisync.dashboard")
        return render_template("portal/team.html", sync_url=frame)


def _safe(target):
    """A path on this site to return to after signing in, or None."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return None


def _instance_secret(folder):
    path = os.path.join(folder, "portal_secret")
    os.makedirs(folder, exist_ok=True)
    if not os.path.exists(path):
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
            out.write(secrets.token_urlsafe(48))
    with open(path) as source:
        return source.read().strip()

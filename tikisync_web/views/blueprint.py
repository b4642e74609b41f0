"""The UI blueprint and its hooks; every hook is scoped to it (STYLE rule 7)."""
import json

import peewee as pw
from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    make_response,
    render_template,
    request,
    session,
)
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from werkzeug.routing import IntegerConverter
from wtforms.validators import ValidationError

from .. import browser_policy as policy
from .. import fields as ft
from .. import settings
from ..db import BUSY_MESSAGE, database, is_busy
from ..jobs import scheduler
from ..models import MAX_ID, Tracker
from ..resources import folder
from ..sync import item_states
from .common import current_user, host_loader, htmx, load_user


class IdConverter(IntegerConverter):
    """A row id: 1 to 10 ASCII digits, at most MAX_ID. A longer number (2^63, 4,300 digits)
    does not match the path at all, so it is a 404 from the URL map before a view or the
    database sees it (SQLite overflows at 2^63, PostgreSQL and MariaDB at 2^31)."""

    regex = r"[0-9]{1,10}"

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=MAX_ID)


class _Blueprint(Blueprint):
    """Our routes write `<int:…>`; every one of them takes an id (IdConverter)."""

    def add_url_rule(self, rule, *args, **kwargs):
        super().add_url_rule(rule.replace("<int:", "<tikisync_id:"), *args, **kwargs)


bp = _Blueprint(
    "tikisync", __name__,
    template_folder=folder("templates"),
    static_folder=folder("static"),
    static_url_path="/static",
)
# Before any route is added: the rules are compiled against the app's converters. The name is
# ours alone, so the host's own converters are left as they are.
bp.record_once(lambda state: state.app.url_map.converters.setdefault("tikisync_id", IdConverter))
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
MESSAGES_KEY = "tikisync_messages"


@bp.before_request
def _open():
    # Close at teardown only what we opened: a host (or a test) may hold the connection.
    g.tikisync_opened_db = database.connect(reuse_if_open=True)
    # The web process runs the schedules itself on the standalone default; the thread starts
    # with the first request, never at import (jobs/scheduler.py).
    scheduler.ensure_started(current_app._get_current_object(), request.url_root)
    load_user()
    if request.endpoint == "tikisync.static":
        return None
    if request.method in UNSAFE:
        _check_csrf()
    elif reason := policy.frame_will_refuse_cookie():
        return _cookie_refused(reason, 200)
    _refuse_nul()
    return None


def _refuse_nul():
    # PostgreSQL cannot store a NUL in text, and no form of ours has a use for one: refuse it
    # whole, wherever it comes, rather than fail at the database or keep it silently.
    for source in (request.args, request.form):
        for name, value in source.items(multi=True):
            if "\x00" in name or "\x00" in value:
                abort(400, f"The field {name[:40].replace(chr(0), '')!r} contains a NUL "
                           "character, which cannot be stored: remove it and send again.")


def _check_csrf():
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        raise CSRFError("This request came from another site and was refused.")
    if origin := policy.foreign_origin():
        raise CSRFError(f"This request came from {origin}, not from this site "
                        f"({request.host}), and was refused. Behind a reverse proxy, pass the "
                        "Host header on, or set TIKISYNC_BEHIND_PROXY.")
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    token = request.form.get("csrf_token") or request.headers.get("X-CSRFToken")
    try:
        validate_csrf(token)
    except ValidationError:
        if reason := policy.refused_cookie_reason():
            abort(_cookie_refused(reason, 400))
        raise CSRFError("The form has expired or did not come from this site.") from None


def _cookie_refused(reason, status):
    """The page that says why this browser keeps no session cookie here and offers the same
    page in a new tab, instead of a sign-in form that can only fail."""
    target = request.script_root + request.full_path.rstrip("?")
    body = render_template("tikisync/cookie_refused.html", reason=reason, target=target)
    return make_response(body, status)


@bp.teardown_request
def _close(exc):
    if g.pop("tikisync_opened_db", False) and not database.is_closed():
        database.close()


@bp.after_request
def _headers(response):
    if response.mimetype == "text/html":
        response.vary.add("HX-Request")
        response.vary.add("HX-Target")
        response.headers.setdefault("Content-Security-Policy",
                                    policy.content_security_policy(current_app.config))
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


def notify(message, kind="info"):
    """Queue a message for the next page this user sees."""
    queue = session.get(MESSAGES_KEY, [])
    queue.append([kind, message])
    session[MESSAGES_KEY] = queue[-5:]


def _pop_messages():
    return session.pop(MESSAGES_KEY, []) if MESSAGES_KEY in session else []


@bp.context_processor
def _template_globals():
    return {
        "tikisync_base_template": current_app.config["TIKISYNC_BASE_TEMPLATE"],
        "tikisync_load_assets": current_app.config["TIKISYNC_LOAD_ASSETS"],
        "tikisync_csrf_token": generate_csrf,
        "tikisync_csrf_header": lambda: json.dumps({"X-CSRFToken": generate_csrf()}),
        "tikisync_messages": _pop_messages,
        "tikisync_sync_enabled": settings.sync_enabled,
        "current_user": current_user(),
        "tikisync_host_signs_in": host_loader() is not None,
        "htmx": htmx,
        "field_type": ft.field_type,
        "field_display": ft.display,
        "field_choices": ft.choices,
        "format_date": ft.format_date,
        "poll_seconds": current_app.config["TIKISYNC_POLL_SECONDS"],
        "tikisync_active_job": _active_job,
        "tikisync_conflicts": _conflicts,
    }


def _active_job(tracker):
    from .. import jobs

    job = jobs.active_for(tracker)
    return jobs.snapshot(job) if job is not None else None


def _conflicts():
    """Items waiting for someone to resolve them (in conflict, or deleted on the master and
    edited here) across every clone: {"total", "trackers": [(tracker, count)]}, for the page
    header's badge. From hashes, no network; at most three queries, however many clones."""
    clones = list(Tracker.select().where(Tracker.source_url.is_null(False),
                                         Tracker.last_reload_at.is_null(False))
                  .order_by(Tracker.name))
    counts = item_states.waiting_to_resolve(clones)
    found = [(tracker, counts[tracker.id]) for tracker in clones if counts.get(tracker.id)]
    return {"total": sum(n for _, n in found), "trackers": found}


def _error_page(status, title, message):
    body = render_template("tikisync/error.html", status=status, title=title, message=message)
    return body, status


@bp.errorhandler(pw.OperationalError)
def _database_error(error):
    if not is_busy(error):
        raise error
    return _error_page(503, "Try again in a moment", BUSY_MESSAGE[:1].upper() +
                       BUSY_MESSAGE[1:] + ". Nothing was changed.")


@bp.errorhandler(CSRFError)
def _csrf_error(error):
    return _error_page(400, "Request refused",
                       f"{error.description} Reload the page and try again.")


@bp.errorhandler(400)
def _bad_request(error):
    return _error_page(400, "Bad request", getattr(error, "description", str(error)))


@bp.errorhandler(403)
def _forbidden(error):
    return _error_page(403, "Not allowed", getattr(error, "description", str(error)))


@bp.errorhandler(404)
def _not_found(error):
    return _error_page(404, "Not found", getattr(error, "description", str(error)))


@bp.errorhandler(500)
def _server_error(error):
    return _error_page(500, "Something went wrong",
                       "This page failed on the server; nothing you did caused it. Try again; "
                       "if it keeps failing, an administrator finds the details in the log.")


def not_found_page(error):
    """The standalone host's page for a URL that matches no route (our blueprint never sees
    it, so its own 404 handler cannot answer): the house error page, not Werkzeug's."""
    globals_ = _template_globals()
    globals_["current_user"] = None  # nobody was loaded: the route was never reached
    body = render_template("tikisync/error.html", status=404, title="Not found",
                           message="There is no page at this address; it may have moved, or "
                                   "the link was mistyped.", **globals_)
    return body, 404


def get_or_404(model, ident, what):
    try:
        ident = int(ident)
    except (TypeError, ValueError):
        abort(404, f"There is no {what} {ident}.")
    row = model.get_or_none(model.id == ident)
    if row is None:
        abort(404, f"There is no {what} {ident}; it may have been deleted.")
    return row

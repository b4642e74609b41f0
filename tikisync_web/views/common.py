"""What every view uses: the signed-in user, role checks, full page vs fragment rendering."""
import functools
import unicodedata
from urllib.parse import urlencode, urlsplit

from flask import abort, current_app, g, redirect, render_template, request, session, url_for
from flask_htmx import HTMX
from flask_htmx import make_response as hx_make_response

from .. import accounts
from ..models import MAX_ID, User

# Reads request headers only; it is never init_app'ed, so the host app is left untouched.
htmx = HTMX()
SESSION_KEY = "tikisync_user_id"
# The user's session generation when this session signed in: signing out and a new password
# move the user's on, and every cookie holding an older one (a copy, a stolen one) is dead.
GENERATION_KEY = "tikisync_generation"


def host_loader():
    """The host's user loader (TikiSync.user_loader), or None when we sign people in."""
    return getattr(current_app.extensions.get("tikisync"), "host_user_loader", None)


def load_user():
    loader = host_loader()
    if loader is not None:
        user = accounts.host_user(loader())  # the host's session: its sign-out is the host's
    else:
        user_id = session.get(SESSION_KEY)
        user = User.get_or_none(User.id == user_id) if isinstance(user_id, int) else None
        if user is not None and session.get(GENERATION_KEY) != user.session_generation:
            user = None  # signed out since, or a new password: this cookie is dead
    g.tikisync_user = user if user is not None and user.active else None
    # A host-signed-in person whose account an admin disabled here: refused, not sent to
    # the host's sign-in page (which would send them straight back).
    g.tikisync_disabled = loader is not None and user is not None and not user.active


def login_url(next_url=None):
    """Where an anonymous visitor signs in: our page, or the host's (TikiSync.login_view)."""
    if host_loader() is None:
        return url_for("tikisync.login", next=next_url)
    view = current_app.extensions["tikisync"].login_view
    if not view:
        abort(403, "Sign in to the site first.")
    target = view if "/" in view else url_for(view)
    if next_url:
        target += ("&" if "?" in target else "?") + urlencode({"next": next_url})
    return target


def current_user():
    return g.get("tikisync_user")


def login(user):
    session[SESSION_KEY] = user.id
    session[GENERATION_KEY] = user.session_generation
    session.permanent = True
    g.tikisync_user = user


def logout():
    """Sign out: this session, and every copy of its cookie, everywhere (the cookie alone
    cannot be recalled, so the user's generation moves on; other sessions of this user end
    too)."""
    user = current_user()
    if user is not None:
        User.update(session_generation=User.session_generation + 1).where(
            User.id == user.id).execute()
    session.pop(SESSION_KEY, None)
    session.pop(GENERATION_KEY, None)
    g.tikisync_user = None


def safe_next(target):
    """A same-site path to return to after login, or None. Control characters (a CR/LF would
    split the Location header), line separators and backslashes (which browsers read as `/`,
    so `/\\evil` is another site) are refused whole, not cleaned."""
    if not target or len(target) > 2000:
        return None
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") or c == "\\" for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def require(role="viewer"):
    """Decorator: signed-in user with at least `role`; others go to login or get 403."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            user = current_user()
            if user is None and g.get("tikisync_disabled"):
                abort(403, "Your account is disabled here; ask an administrator.")
            if user is None:
                # script_root too: under a WSGI script root, full_path alone leads elsewhere.
                here = request.script_root + request.full_path.rstrip("?")
                target = login_url(here)
                if htmx:
                    return hx_make_response("", 401, location=target)
                return redirect(target, 303 if request.method != "GET" else 302)
            if not user.can(role):
                abort(403, f"This needs the {role} role; you are signed in as "
                           f"{accounts.with_article(user.role)}.")
            return view(*args, **kwargs)

        return wrapped

    return decorate


def is_fragment_request(name):
    """True when htmx asks for the fragment `name` (not boosted, not a history restore)."""
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request \
        and htmx.target == name


def form_status(invalid=None):
    """The status of a page that shows a form: 422 when it comes back with its errors, else 200
    (STYLE rule 4; the htmx config swaps 422 too). By default a POST that got as far as
    rendering is the invalid one, since a valid submission redirected before."""
    if invalid is None:
        invalid = request.method == "POST"
    return 422 if invalid else 200


def render_page(template, fragments=None, status=200, trigger=None, **context):
    """The full page, or one declared fragment when htmx targets it (STYLE rule 2)."""
    chosen = template
    for target, partial in (fragments or {}).items():
        if is_fragment_request(target):
            chosen = partial
            break
    body = render_template(chosen, **context)
    if trigger:
        return hx_make_response(body, status, trigger=trigger)
    return body, status


def page_size():
    return int(current_app.config["TIKISYNC_PAGE_SIZE"])


def as_id(text):
    """The row id a request spells, or None: 1 to 10 ASCII digits ("²".isdigit() is True, and
    int() refuses 4,300 digits), at most MAX_ID."""
    text = str(text or "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 10):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


def int_arg(name, default=1, minimum=1, maximum=10**9):
    try:
        value = int(request.args.get(name, default))
    except (TypeError, ValueError):
        return default
    return max(minimum, min(maximum, value))

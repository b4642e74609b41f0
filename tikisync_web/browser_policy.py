"""What browsers are told, in one place: the Content-Security-Policy of our pages and the
attributes of the session cookie, standalone and inside a portal's frame.

Two parts that change for different reasons:
- the standalone defaults (CSP_DIRECTIVES, the cookie's SameSite when nobody frames us);
- framing: TIKISYNC_FRAME_ANCESTORS becomes CSP frame-ancestors; when it names other sites,
  the standalone session cookie is `SameSite=None; Secure; Partitioned` on https (the only way
  a browser keeps a cookie inside another site's frame), writes must come from our own Origin,
  and a page that cannot keep its cookie in a frame says so and offers a new tab instead of
  failing with "the form has expired".
"""
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request
from flask.sessions import SecureCookieSessionInterface

# --- standalone defaults -----------------------------------------------------------------
# Directives every page of ours carries besides frame-ancestors (script-src and friends).
CSP_DIRECTIVES: tuple[str, ...] = ()


def content_security_policy(config):
    return "; ".join((f"frame-ancestors {' '.join(config['TIKISYNC_FRAME_ANCESTORS'])}",
                      *CSP_DIRECTIVES))


# --- framing -----------------------------------------------------------------------------
def other_sites(config):
    """The origins of TIKISYNC_FRAME_ANCESTORS beyond our own ('self', 'none')."""
    return [source for source in config["TIKISYNC_FRAME_ANCESTORS"]
            if source not in ("'self'", "'none'")]


def framed_cross_site(config):
    return bool(other_sites(config))


def _cross_site_cookie():
    """True when this response's session cookie must survive inside another site's frame."""
    return (has_request_context() and request.is_secure
            and framed_cross_site(current_app.config))


class FramingSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with the cookie's attributes chosen per request: on https,
    when other sites may frame us, `SameSite=None; Secure; Partitioned`; otherwise the app's
    SESSION_COOKIE_* settings. A plain-http request never gets a Secure cookie, which its
    browser would drop (sign-in would then fail with "the form has expired")."""

    def get_cookie_samesite(self, app):
        return "None" if _cross_site_cookie() else super().get_cookie_samesite(app)

    def get_cookie_secure(self, app):
        return True if _cross_site_cookie() else super().get_cookie_secure(app)

    def get_cookie_partitioned(self, app):
        return True if _cross_site_cookie() else super().get_cookie_partitioned(app)


def startup_problems(app, standalone):
    """Misconfigurations of framing, said plainly when the app starts."""
    config = app.config
    problems = []
    plain = [source for source in other_sites(config) if source.lower().startswith("http:")]
    if plain:
        problems.append(
            f"TIKISYNC_FRAME_ANCESTORS lists plain-http origins ({', '.join(plain)}): a browser "
            "keeps a session cookie inside another site's frame only when it is "
            "SameSite=None; Secure, and a Secure cookie needs https on both sites. Signing in "
            "inside those frames will fail (the frame offers to open in a new tab instead). On "
            "a plain-http intranet, serve tikisync-web under the portal's own origin through "
            "its reverse proxy and keep TIKISYNC_FRAME_ANCESTORS at 'self' (README, "
            "\"Embedding in a portal\"); across sites, use https for both.")
    if framed_cross_site(config) and not standalone and not _host_cookie_is_cross_site(app):
        problems.append(
            "TIKISYNC_FRAME_ANCESTORS lets other sites frame us, but the host's session cookie "
            "is not SameSite=None; Secure; Partitioned, so a browser drops it inside their "
            "frames. Set SESSION_COOKIE_SAMESITE='None', SESSION_COOKIE_SECURE=True and "
            "SESSION_COOKIE_PARTITIONED=True on the host (and serve it over https), or "
            "embed it from the same origin.")
    return problems


def _host_cookie_is_cross_site(app):
    config = app.config
    return (str(config.get("SESSION_COOKIE_SAMESITE")) == "None"
            and config.get("SESSION_COOKIE_SECURE") and config.get("SESSION_COOKIE_PARTITIONED"))


def foreign_origin():
    """The Origin of a write that did not come from our own pages (None when it did, or when
    the client sent none), checked when other sites may frame us and the cookie is
    SameSite=None, i.e. the browser no longer keeps other sites' posts from carrying it."""
    if not framed_cross_site(current_app.config):
        return None
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return None
    if urlsplit(origin).netloc.lower() == request.host.lower():
        return None
    return origin


# --- a cookie the browser did not keep ---------------------------------------------------
def has_session_cookie():
    name = current_app.session_interface.get_cookie_name(current_app)
    return name in request.cookies


def _framed():
    """True when the request says it comes from a frame: Sec-Fetch-Dest (browsers send it over
    https and to localhost only), or our tikisync.js's X-Tikisync-Framed on htmx requests."""
    return (request.headers.get("Sec-Fetch-Dest") == "iframe"
            or request.headers.get("X-Tikisync-Framed") == "1")


def _reason():
    """Why this browser keeps no session cookie for us, as precisely as the request tells."""
    if _framed() and not request.is_secure:
        return ("This page is shown inside another site's page over plain http. Browsers keep "
                "no cookie for a page framed by another site unless both are served over "
                "https, so you cannot stay signed in here.")
    if _framed():
        return ("Your browser did not keep this site's cookie inside another site's page "
                "(it blocks cookies in frames of other sites), so you cannot stay signed in "
                "here.")
    if current_app.session_interface.get_cookie_secure(current_app) and not request.is_secure:
        return ("This site's session cookie is marked Secure, but the page came over plain "
                "http, so your browser dropped it. Ask your administrator to serve it over "
                "https (or, behind a TLS proxy, to set TIKISYNC_BEHIND_PROXY).")
    if framed_cross_site(current_app.config) and not request.is_secure:
        return ("Your browser did not send this site's session cookie back. If this page is "
                "shown inside another site's page (a portal) over plain http, browsers keep no "
                "cookie for it there: open it in a new tab. Otherwise, allow cookies for this "
                "site.")
    return ("Your browser did not send this site's session cookie back: cookies are blocked "
            "for it, so you cannot stay signed in.")


def refused_cookie_reason():
    """A write that carries a CSRF token but no session cookie at all: the browser refused or
    dropped the cookie our page set. The reason, or None when the cookie came back."""
    if has_session_cookie():
        return None
    token = request.form.get("csrf_token") or request.headers.get("X-CSRFToken")
    return _reason() if token else None


def probe_reason():
    """Asked right after a page that set our cookie (the sign-in page's probe): None when the
    cookie came back, else why not. Over plain http, browsers say nothing of frames, so the
    page asks, in a request of its own, whether its cookie survived."""
    return None if has_session_cookie() else _reason()


def frame_will_refuse_cookie():
    """On the first page loaded into another site's frame, before any form: the reason the
    browser will not keep our cookie there, or None when it will (or cannot be told; then
    the sign-in page's probe finds out)."""
    if not _framed() or request.headers.get("Sec-Fetch-Site") != "cross-site":
        return None
    if has_session_cookie():
        return None
    interface = current_app.session_interface
    samesite = str(interface.get_cookie_samesite(current_app) or "")
    kept = (samesite.lower() == "none" and interface.get_cookie_secure(current_app)
            and request.is_secure)
    return None if kept else _reason()

"""Where a credential may go, and how it is attached to a request.

Tiki matches a credential on scheme and host only, with the path as a raw string prefix
(W14): `/tiki` also matches `/tiki-other`, and any port of the host gets it. Here a
credential covers a URL only when scheme, host AND port are equal and its path is a prefix of
the URL's path on a segment boundary; the caller picks the longest such prefix. Secrets go over
plain http only for a credential that explicitly allows it.
"""
import base64
import re
from dataclasses import dataclass
from types import SimpleNamespace
from urllib.parse import urlsplit

from .errors import InsecureTransport, OutboundRefused, Unauthorized, short

DEFAULT_PORTS = {"http": 80, "https": 443}
METHODS = ("basic", "bearer", "header", "session")
TIKI_SCRIPTS = ("tiki-index.php", "tiki-ajax_services.php", "tiki-api.php")


class UrlError(ValueError):
    """A URL we cannot use; the message says why."""


def remove_dot_segments(path):
    """RFC 3986 §5.2.4, so `/tiki/../admin` is matched as the `/admin` it really asks for."""
    output = []
    for segment in path.split("/"):
        if segment == "..":
            if len(output) > 1:
                output.pop()
        elif segment != ".":
            output.append(segment)
    result = "/".join(output)
    if path.endswith(("/.", "/..")):
        result += "/"
    return result if result.startswith("/") or not result else "/" + result


@dataclass(frozen=True)
class Location:
    """A URL split for matching: lower-case scheme and host, explicit port, clean path."""

    scheme: str
    host: str
    port: int
    path: str  # no trailing slash; "" for the root

    @property
    def origin(self):
        default = DEFAULT_PORTS.get(self.scheme)
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}" + ("" if self.port == default else f":{self.port}")

    @property
    def url(self):
        return self.origin + self.path


def locate(url):
    """Split `url` for matching; UrlError for anything but an absolute http(s) URL."""
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError:
        raise UrlError(f"{short(url, 100)!r} is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise UrlError(f"{short(url, 100)!r} is not an http:// or https:// URL with a host name")
    if not re.fullmatch(r"[A-Za-z0-9._~-]+\.?|[0-9A-Fa-f:.]+", parts.hostname):
        raise UrlError(f"{short(url, 100)!r} has an invalid host name")
    if parts.username is not None or parts.password is not None:
        raise UrlError("put the user name and password in the credential, not in the URL")
    path = remove_dot_segments(parts.path or "").rstrip("/")
    return Location(scheme, parts.hostname.lower().rstrip("."), port or DEFAULT_PORTS[scheme], path)


def normalize_base(url):
    """The master's base URL as typed, cleaned: no trailing slash, no query, no Tiki script."""
    loc = locate(url)
    parts = urlsplit(url.strip())
    if parts.query or parts.fragment:
        raise UrlError("the master's URL is the Tiki root (the folder of tiki-index.php), "
                       "without ?query or #fragment")
    path = loc.path
    for script in TIKI_SCRIPTS:
        if path.endswith("/" + script):
            path = path[: -len(script) - 1]
    return loc.origin + path


def covers(scope, url):
    """True when the credential URL `scope` applies to `url` (both strings or Locations)."""
    scope = scope if isinstance(scope, Location) else locate(scope)
    target = url if isinstance(url, Location) else locate(url)
    if (scope.scheme, scope.host, scope.port) != (target.scheme, target.host, target.port):
        return False
    return scope.path == "" or target.path == scope.path or \
        target.path.startswith(scope.path + "/")


class OriginPolicy:
    """The outbound allow-list, as a snapshot of origins; calling it refuses other URLs."""

    def __init__(self, origins):
        self.origins = frozenset(origins)

    def __call__(self, url):
        try:
            origin = locate(url).origin
        except UrlError as exc:
            raise OutboundRefused(str(exc), url=url) from None
        if origin not in self.origins:
            raise OutboundRefused(
                f"{origin} is not an allowed remote site: an admin can add it under "
                "Credentials > Allowed remote sites (or `tikisync origin add "
                f"{origin}`), or add a credential for it", url=url)


class CredentialAuth:
    """A credential ready to use: where it applies, and what it adds to a request."""

    method = None
    bearer = False

    def __init__(self, url, *, identifier="", allow_http=False):
        self.scope = locate(url)
        self.identifier = identifier or self.scope.url
        self.allow_http = bool(allow_http)

    def covers(self, url):
        return covers(self.scope, url)

    def check_transport(self, url):
        """Refuse plain http unless this credential allows it."""
        if locate(url).scheme == "http" and not self.allow_http:
            raise InsecureTransport(
                f"the credential {self.identifier!r} is not sent over plain http to "
                f"{locate(url).origin}: use https, or allow plain http on that credential "
                "if the network is trusted", url=url)

    def apply(self, headers, url, transport):
        """Add what authenticates a request to `url` to `headers`."""
        raise NotImplementedError

    def absorb(self, response):
        """Learn from an answer to a covered request (session cookies)."""

    @property
    def secrets(self):
        """Every string that must never appear in a message or a log."""
        return ()

    def describe(self):
        return f"{self.identifier} ({self.method})"


class BasicAuth(CredentialAuth):
    method = "basic"

    def __init__(self, url, username, password, **kw):
        super().__init__(url, **kw)
        self.username, self._password = username or "", password or ""
        pair = f"{self.username}:{self._password}".encode("utf-8")
        self._value = "Basic " + base64.b64encode(pair).decode("ascii")

    def apply(self, headers, url, transport):
        headers["Authorization"] = self._value

    @property
    def secrets(self):
        return (self._password, self._value, self._value.split(" ", 1)[1])


class BearerAuth(CredentialAuth):
    method = "bearer"
    bearer = True

    def __init__(self, url, token, **kw):
        super().__init__(url, **kw)
        self._token = (token or "").strip()

    def apply(self, headers, url, transport):
        headers["Authorization"] = "Bearer " + self._token

    @property
    def secrets(self):
        return (self._token,)


class HeaderAuth(CredentialAuth):
    """A raw Authorization value (Tiki 23+'s "Authorization Header" method)."""

    method = "header"

    def __init__(self, url, value, **kw):
        super().__init__(url, **kw)
        self._value = (value or "").strip()
        self.bearer = self._value.lower().startswith("bearer ")

    def apply(self, headers, url, transport):
        headers["Authorization"] = self._value

    @property
    def secrets(self):
        parts = self._value.split(" ", 1)
        return (self._value,) + ((parts[1],) if len(parts) == 2 else ())


_TICKET = re.compile(r"""name=["']ticket["'][^>]*value=["']([^"']+)["']""")
_PASSWORD_INPUT = re.compile(r"""<input[^>]+type=["']?password""", re.I)


class SessionAuth(CredentialAuth):
    """Log in once through the master's login form (Tiki: `user`/`pass` on tiki-login.php)
    and send its cookies with every covered request. Cookies live here, not in the HTTP
    session, so they can never follow a request to another origin."""

    method = "session"

    def __init__(self, url, username, password, login_url="", **kw):
        super().__init__(url, **kw)
        self.username, self._password = username or "", password or ""
        self.login_url = login_url or (self.scope.url + "/tiki-login.php")
        if not self.covers(self.login_url):
            raise OutboundRefused("the login URL must be inside the credential's URL, so the "
                                  "password and cookies stay on that site", url=self.login_url)
        self._cookies = None

    def apply(self, headers, url, transport):
        if self._cookies is None:
            self._cookies = transport.login(self)
        from requests.cookies import get_cookie_header

        # The jar only reads `url` and `headers` of what it is given.
        header = get_cookie_header(self._cookies, SimpleNamespace(url=url, headers={}))
        if header:
            headers["Cookie"] = header

    def absorb(self, response):
        if self._cookies is not None:
            from requests.cookies import extract_cookies_to_jar

            extract_cookies_to_jar(self._cookies, response.request, response.raw)

    def login_form(self, page_text):
        """The fields to post: Tiki's names, plus the CSRF ticket newer Tikis put in the form."""
        form = {"user": self.username, "pass": self._password, "login": "Log in"}
        ticket = _TICKET.search(page_text or "")
        if ticket:
            form["ticket"] = ticket.group(1)
        return form

    def check_login(self, status, location, page_text, url):
        """Raise Unauthorized when the answer to the login post says it failed."""
        failed = status >= 400 or "error=" in (location or "") or (
            status == 200 and _PASSWORD_INPUT.search(page_text or ""))
        if failed:
            raise Unauthorized(
                f"logging in at {self.login_url} as {self.username!r} failed: check the user "
                f"name and password of the credential {self.identifier!r}", url=url, status=status)

    @property
    def secrets(self):
        return (self._password,)


def make_auth(method, url, *, username="", secret="", login_url="", allow_http=False,
              identifier=""):
    """The auth object for a stored credential's method and decrypted secret."""
    kw = {"identifier": identifier, "allow_http": allow_http}
    if method == "basic":
        return BasicAuth(url, username, secret, **kw)
    if method == "bearer":
        return BearerAuth(url, secret, **kw)
    if method == "header":
        return HeaderAuth(url, secret, **kw)
    if method == "session":
        return SessionAuth(url, username, secret, login_url, **kw)
    raise ValueError(f"unknown credential method {method!r}; use one of {', '.join(METHODS)}")

"""How a credential is attached to a request, and what it must never leak.

Secrets go over plain http only for a credential that explicitly allows it; which URLs a
credential covers is remote.urls' business.
"""
from __future__ import annotations

import base64
import re
from types import SimpleNamespace

from .errors import InsecureTransport, OutboundRefused, Unauthorized
from .urls import covers, locate

METHODS = ("basic", "bearer", "header", "session")


class CredentialAuth:
    """A credential ready to use: where it applies, and what it adds to a request."""

    method = None
    bearer = False

    def __init__(self, url, *, identifier="", allow_http=False):
        self.scope = locate(url)
        self.identifier = identifier or self.scope.url
        self.allow_http = bool(allow_http)

    def covers(self, url: str) -> bool:
        return covers(self.scope, url)

    def check_transport(self, url: str) -> None:
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


class BasicAuth(CredentialAuth):
    method = "basic"

    def __init__(self, url, username, password, **kw):
        super().__init__(url, **kw)
        self.username, self._password = username or "", password or ""
        pair = f"{self.username}:{self._password}".encode()
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
_ALERT = re.compile(r"""There was no security ticket[^<]*|The requesting site[^<.]*|"""
                    r"""The security ticket[^<.]*""")


def ticket_in(page_text):
    """The CSRF ticket of the first form of a Tiki page or fragment, or None."""
    found = _TICKET.search(page_text or "")
    return found.group(1) if found else None


def _alert(page_text):
    found = _ALERT.search(page_text or "")
    return found.group(0).strip() if found else ""
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
        # Tiki's tiki-login.php only redirects a GET to the form (tiki-examples/24).
        self.form_url = re.sub(r"tiki-login\.php$", "tiki-login_scr.php", self.login_url)
        self._cookies = None
        self.ticket = None  # the CSRF ticket for the next insert, from the last reply

    @property
    def logged_in(self):
        return self._cookies is not None

    def forget(self):
        """Drop the session (and its ticket): the next request logs in again."""
        self._cookies = None
        self.ticket = None

    def note_ticket(self, answer):
        """Keep the `nextTicket` a Tiki hands out with each reply to a session."""
        if isinstance(answer, dict) and isinstance(answer.get("nextTicket"), str) \
                and answer["nextTicket"].strip():
            self.ticket = answer["nextTicket"].strip()

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
        """The fields to post: Tiki's names (`login` is its button, sent empty), plus the CSRF
        ticket Tiki 19+ puts in the form."""
        form = {"user": self.username, "pass": self._password}
        ticket = ticket_in(page_text)
        if ticket:
            form["ticket"] = ticket
        form["login"] = ""
        return form

    def check_login(self, status, location, page_text, url):
        """Raise Unauthorized unless the answer to the login post is Tiki's success: a
        redirect, and nothing else (a 200 is an error page and nobody is logged in: 48, 49)."""
        if status in (301, 302, 303) and "error=" not in (location or ""):
            return
        failed = f"logging in at {self.login_url} as {self.username!r} failed"
        said = _alert(page_text)  # Tiki's security check, whose page may hold a login box too
        if not said and (status == 401 or "error=" in (location or "") or
                         _PASSWORD_INPUT.search(page_text or "")):
            raise Unauthorized(f"{failed}: check the user name and password of the credential "
                               f"{self.identifier!r}", url=url, status=status)
        raise Unauthorized(f"{failed}: the master answered {status} without logging in"
                           + (f" ({said})" if said else ""), url=url, status=status)

    @property
    def secrets(self):
        return (self._password,)


def make_auth(method: str, url: str, *, username: str = "", secret: str = "",
              login_url: str = "", allow_http: bool = False,
              identifier: str = "") -> CredentialAuth:
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

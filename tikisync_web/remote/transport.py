"""HTTP to one master: outbound policy, credentials, redirects, retries, timeouts, errors.

Everything the protocol code needs and nothing Tiki-specific beyond how Tiki reports errors.
Redirects are followed by hand (never by requests) so each hop is checked against the outbound
policy and gets the credential only if the credential covers it; cookies are refused by the
HTTP session and kept by the session credential itself, so neither an Authorization header
nor a cookie can follow a redirect to another origin (requests would keep a cookie for another
port of the same host). Reads retry with backoff on connection errors and 502/503/504 only;
writes are sent once.
"""
from __future__ import annotations

import email.utils
import http.cookiejar
import json
import logging
import re
import time
from types import SimpleNamespace
from typing import Any
from urllib.parse import urljoin

import requests
from requests.cookies import RequestsCookieJar, extract_cookies_to_jar, get_cookie_header

from . import errors as e
from . import failures
from .urls import UrlError, locate

log = logging.getLogger("tikisync_web.remote")

RETRY_STATUSES = (502, 503, 504)
REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 5
USER_AGENT = "tikisync-web (+https://doc.tiki.org/Tracker-Synchronization)"

try:  # a page of items parses about twice as fast (a reload spends much of its time here)
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency, but json works too
    orjson = None


def _loads(body):
    """json.loads, through orjson when it is there; what orjson refuses but Python's json
    reads (NaN, integers past 64 bits) is still read."""
    if orjson is not None:
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
    return json.loads(body)


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    """The session's own jar keeps nothing: cookies are the session credential's business."""

    def set_ok(self, cookie, request):
        return False

    def return_ok(self, cookie, request):
        return False


class _NoNetrc(requests.auth.AuthBase):
    """Passing an auth object stops requests from reading ~/.netrc and adding its own."""

    def __call__(self, request):
        return request


def _server_time(response):
    value = response.headers.get("Date")
    if not value:
        return None
    try:
        return int(email.utils.parsedate_to_datetime(value).timestamp())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


class Transport:
    """Sends requests for one master. `outbound(url)` raises to refuse a URL."""

    def __init__(self, base_url, *, auth=None, session=None, timeout=30, verify=True, retries=3,
                 backoff=0.5, outbound=None):
        self.base_url = base_url
        self.auth = auth
        self.owns_session = session is None
        self.session = session if session is not None else requests.Session()
        self.session.cookies.set_policy(_NoCookies())
        self.timeout = timeout
        self.verify = verify
        self.retries = max(0, int(retries))
        self.backoff = backoff
        self.outbound = outbound
        self.last_server_time = None
        self.final_url = None
        self.reply_date = None

    # --- messages ----------------------------------------------------------------------------

    @property
    def secrets(self):
        return tuple(self.auth.secrets) if self.auth is not None else ()

    def scrub(self, text):
        return e.scrub(text, self.secrets)

    def _error(self, cls, message, **kw):
        return cls(self.scrub(message), **kw)

    def _covered(self, url):
        return self.auth is not None and self.auth.covers(url)

    # --- sending -----------------------------------------------------------------------------

    def send(self, method: str, url: str, *, data=None, read: bool = True,
             headers: dict | None = None) -> requests.Response:
        """The final response (after redirects, for reads) and its URL; errors are raised.
        `headers` are added to (or replace) the usual ones."""
        for _hop in range(MAX_REDIRECTS + 1):
            response = self._send_once(method, url, data, read, headers)
            if response.status_code in REDIRECTS and response.headers.get("Location"):
                target = urljoin(url, response.headers["Location"])
                response.close()
                try:
                    locate(target)
                except UrlError:
                    raise self._error(e.RedirectRefused, f"{url} redirects to something that is "
                                      f"not an http(s) URL ({e.short(target, 80)})", url=url,
                                      status=response.status_code) from None
                if not read:
                    raise self._error(
                        e.RedirectRefused,
                        f"the master answered a write to {url} with a redirect to {target}; "
                        "nothing was sent there: use the master's final address as its URL",
                        url=url, status=response.status_code)
                url = target
                continue
            self.check_status(response, url)
            return response, url
        raise self._error(e.RedirectRefused, f"{url} redirects more than {MAX_REDIRECTS} times: "
                          "use the master's final address as its URL", url=url)

    def _send_once(self, method, url, data, read, extra_headers=None):
        if self.outbound is not None:
            self.outbound(url)
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        headers.update(extra_headers or {})
        covered = self._covered(url)
        if covered:
            self.auth.check_transport(url)
            self.auth.apply(headers, url, self)
        attempts = 1 + (self.retries if read else 0)
        for attempt in range(attempts):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self._request(method, url, data, headers, read)
            except e.RemoteError as exc:
                if attempt + 1 < attempts and getattr(exc, "_retry", False):
                    log.info("retrying %s %s after: %s", method, url, exc)
                    continue
                raise
            if covered:
                self.auth.absorb(response)
            if response.status_code in RETRY_STATUSES and attempt + 1 < attempts:
                log.info("retrying %s %s after HTTP %s", method, url, response.status_code)
                response.close()
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _request(self, method, url, data, headers, read):
        started = time.monotonic()
        origin = locate(url).origin
        try:
            response = self.session.request(
                method, url, data=data, headers=headers, timeout=self.timeout,
                verify=self.verify, allow_redirects=False, auth=_NoNetrc(), stream=True)
            # The body is read here, so a connection cut in its middle is judged like any
            # other network failure (and never taken for a set-up problem).
            response.content  # noqa: B018
        except requests.exceptions.RequestException as exc:
            raise self._network_error(exc, origin, url, read) from None
        except OSError as exc:  # not requests' own: e.g. a CA bundle path that does not exist
            raise self._error(e.TlsError, f"cannot prepare the request to {origin} ({exc}): "
                              "check TIKISYNC_CA_BUNDLE", url=url) from None
        server_time = _server_time(response)
        self.reply_date = server_time  # of this answer only (None without a Date header)
        if server_time is not None:
            self.last_server_time = server_time
        log.debug("%s %s -> %s in %d ms", method, self.scrub(url), response.status_code,
                  (time.monotonic() - started) * 1000)
        return response

    def _network_error(self, exc, origin, url, read):
        """The RemoteError for a request that got no complete answer. A read says so and is
        retried; a write that may have reached the master is "maybe written"."""
        written = "; the write may have been applied: check the master before trying again"
        why = failures.reason(exc)
        if isinstance(exc, requests.exceptions.SSLError):
            return self._error(e.TlsError, f"the certificate of {origin} could not be verified "
                               f"({why}): if the master uses a private certificate "
                               "authority, set TIKISYNC_CA_BUNDLE to its CA file", url=url)
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            error = self._error(e.Timeout, f"could not connect to {origin} within "
                                f"{self.timeout} s: check the URL and the network", url=url)
            error._retry = True
            return error
        if isinstance(exc, requests.exceptions.Timeout) or failures.read_timeout(exc):
            note = written if not read else (": the master may be overloaded; try again later "
                                             "or raise TIKISYNC_HTTP_TIMEOUT")
            return self._error(e.Timeout, f"{origin} did not answer within {self.timeout} s"
                               + note, url=url, maybe_written=not read)
        if isinstance(exc, (requests.exceptions.ChunkedEncodingError,
                            requests.exceptions.ContentDecodingError)):
            note = written if not read else ": try again; if it persists, a proxy or the " \
                "master cuts its answers"
            error = self._error(e.ConnectionFailed, f"the connection to {origin} was cut in the "
                                "middle of the answer" + note, url=url, maybe_written=not read)
            error._retry = read
            return error
        if isinstance(exc, requests.exceptions.ConnectionError):
            maybe = not read and not failures.connect_failed(exc)
            note = written if maybe else (": check the URL, that the master runs, and that "
                                          "this server may reach it")
            error = self._error(e.ConnectionFailed, f"no answer from {origin} ({why})"
                                + note, url=url, maybe_written=maybe)
            error._retry = read
            return error
        return self._error(e.RemoteError, f"request to {origin} failed ({why})",
                           url=url)

    # --- answers -----------------------------------------------------------------------------

    def check_status(self, response, url):
        status = response.status_code
        if 200 <= status < 300:
            return
        remote = self._remote_message(response)
        detail = f"{status}: {remote}" if remote else str(status)
        base = self.base_url
        cred = f"the credential {self.auth.identifier!r}" if self._covered(url) else None
        if status in e.NOT_TIKI_STATUSES and self._raw_message(response) is None:
            raise self.not_a_tiki(url, status, f"it answered {status} "
                                  f"{e.short(response.reason or '', 40)}".rstrip())
        if status == 401 and cred and remote and getattr(self.auth, "method", "") == "session":
            # Tiki's security check (CSRF ticket, Referer) on a session write: JSON, with words.
            error = self._error(e.Unauthorized, f"{base} refused the write of {cred} ({detail})",
                                url=url)
            error.remote_message = remote
            raise error
        if status == 401:
            if cred and getattr(self.auth, "bearer", False):
                text = (f"the master did not accept this token: {base} refused {cred} (401); "
                        f"check the token (and that it has not expired) on the master")
            else:
                text = (f"{base} refused {cred} (401): check the credential for {base}" if cred
                        else f"{base} asks for a login (401): add a credential for {base}")
            raise self._error(e.Unauthorized, text, url=url)
        if status == 403:
            text = (f"{base} refused access with {cred} ({detail}): this user lacks "
                    "admin_trackers: the account needs tracker-admin rights on the master"
                    if cred else
                    f"{base} refused access ({detail}): no credential applies to {url}; add one "
                    "whose account has tracker-admin rights (admin_trackers)")
            raise self._error(e.Forbidden, text, url=url)
        if status == 404:
            raise self._error(e.NotFound, f"not found at {url} ({detail}): check the tracker or "
                              "item id, and that the URL is the Tiki root (the folder of "
                              "tiki-index.php)", url=url)
        if status in (400, 406, 409, 422):
            field = re.search(r"<!--field\[([^\]]+)\]-->", self._raw_message(response) or "")
            raise e.RemoteValidationError(
                self.scrub(f"the master rejected the data ({detail}): correct it and try again"),
                url=url, status=status, field=field.group(1) if field else None,
                remote_message=self.scrub(remote))
        if status >= 500:
            raise self._error(e.ServerError, f"the master failed ({detail}): try again later; if "
                              "it persists, look at the master's error log", url=url,
                              status=status)
        raise self._error(e.RemoteError, f"the master answered {detail}", url=url, status=status)

    def not_a_tiki(self, url, status, how):
        """NotATiki for an answer no Tiki web service gives."""
        return self._error(e.NotATiki, e.not_a_tiki_message(url, how), url=url, status=status,
                           html=True)

    @staticmethod
    def _raw_message(response):
        try:
            body = json.loads(response.content or b"null")
        except ValueError:
            return None
        if isinstance(body, dict):
            return str(body.get("message") or body.get("errortitle") or body.get("error") or "")
        return None

    def _remote_message(self, response):
        return self.scrub(e.short(self._raw_message(response) or "", 200))

    def decode(self, response, url):
        """The JSON body of a 2xx answer; NotJson for HTML, empty or truncated bodies."""
        body = (response.content or b"").lstrip(b"\xef\xbb\xbf \t\r\n")
        try:
            return _loads(body)
        except ValueError:
            pass
        kind = response.headers.get("Content-Type", "").lower()
        if ("html" in kind or body[:1] == b"<") and not e.TIKI_PAGE.search(body[:400_000]):
            raise self.not_a_tiki(url, response.status_code, "a web page of another kind")
        if "html" in kind or body[:1] == b"<":
            raise self._error(
                e.NotJson, f"{url} answered with an HTML page instead of JSON (most likely a "
                "login page): check that the URL is the Tiki root and that the credential for "
                f"{self.base_url} works", url=url, status=response.status_code, html=True)
        what = "an empty answer" if not body else f"invalid or truncated JSON ({len(body)} bytes)"
        raise self._error(e.NotJson, f"{url} answered with {what} instead of JSON: the master "
                          "or a proxy cut the answer; try again", url=url,
                          status=response.status_code)

    def json(self, method: str, url: str, *, data=None, read: bool = True,
             headers: dict | None = None) -> Any:
        response, final_url = self.send(method, url, data=data, read=read, headers=headers)
        self.final_url = final_url  # where the answer came from, after any redirect
        return self.decode(response, final_url)

    # --- session login -----------------------------------------------------------------------

    def login(self, auth):
        """Log in through `auth.login_url` once; returns the cookie jar to send from now on.

        Like a browser: fetch the form (its cookies, and the CSRF ticket newer Tikis want),
        then post it with a same-site Referer. The answer is never followed: its cookies are
        all we need, and the password goes nowhere else."""
        url, form_url = auth.login_url, auth.form_url
        for target in (form_url, url):
            if self.outbound is not None:
                self.outbound(target)
            auth.check_transport(target)
        jar = RequestsCookieJar()
        headers = {"Accept": "text/html,application/json", "User-Agent": USER_AGENT}
        page = self._request("GET", form_url, None, dict(headers), True)
        extract_cookies_to_jar(jar, page.request, page.raw)
        if page.status_code >= 500:
            self.check_status(page, form_url)  # the master failed: the URL may well be right
        if page.status_code >= 400:
            raise self._error(e.NotFound, f"the login page {form_url} answered "
                              f"{page.status_code}: set the login URL of the credential "
                              f"{auth.identifier!r}", url=form_url, status=page.status_code)
        # Tiki checks that a login comes from its own site (tiki-examples/48).
        headers.update(Referer=form_url, Origin=locate(url).origin)
        cookie = get_cookie_header(jar, SimpleNamespace(url=url, headers={}))
        if cookie:
            headers["Cookie"] = cookie
        # Judged as a read when it gets no answer: a login writes nothing of the user's.
        answer = self._request("POST", url, auth.login_form(page.text), headers, True)
        extract_cookies_to_jar(jar, answer.request, answer.raw)
        if answer.status_code >= 500:
            self.check_status(answer, url)
        auth.check_login(answer.status_code, answer.headers.get("Location"),
                         answer.text if answer.status_code < 300 else "", url)
        log.debug("logged in at %s", url)
        return jar

    def close(self) -> None:
        if self.owns_session:
            self.session.close()


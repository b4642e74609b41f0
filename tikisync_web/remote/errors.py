"""One exception hierarchy for everything that can go wrong talking to a master.

Every message says what happened and what to do next, in one line a person can act on, and
never carries a secret: the transport passes every text it formats through `scrub` with the
secrets of the credential in use. Callers catch `RemoteError` and show `str(exc)`.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

MAX_MESSAGE = 300


class RemoteError(Exception):
    """A master could not be used. `url` is the request URL, `status` the HTTP status or None."""

    status = None
    maybe_written = False  # True when a write failed in a way that may have applied it

    def __init__(self, message, *, url=None, status=None):
        super().__init__(message)
        self.message = message
        self.url = url
        if status is not None:
            self.status = status

    def __str__(self):
        return self.message


class Unauthorized(RemoteError):
    """401: the master refused the credential (or wants one)."""

    status = 401


class Forbidden(RemoteError):
    """403: authenticated (or anonymous) but not allowed."""

    status = 403


class NotFound(RemoteError):
    status = 404


class RemoteValidationError(RemoteError):
    """400/406/409: the master rejected the data; `field` is the permName it names, if any."""

    def __init__(self, message, *, url=None, status=None, field=None, remote_message=""):
        super().__init__(message, url=url, status=status)
        self.field = field
        self.remote_message = remote_message


class ServerError(RemoteError):
    """5xx (after the retries allowed for reads)."""


class NotJson(RemoteError):
    """A 2xx answer that is not JSON: a login page, a proxy's error page, or a truncated body."""

    def __init__(self, message, *, url=None, status=None, html=False):
        super().__init__(message, url=url, status=status)
        self.html = html


class NotATiki(NotFound, NotJson):
    """No Tiki web service answered: a plain web server, some other application's page, a 501.

    Both a NotFound and a NotJson, so code that handles either (generation detection, the
    clone wizard) keeps working; the message says plainly what it is."""

    def __init__(self, message, *, url=None, status=None, html=False):
        NotJson.__init__(self, message, url=url, status=status, html=html)


# Answers without Tiki's JSON error that mean the service script is not there at all: a plain
# web server's 404, 405 (a static server refusing POST) or 501 (a server that knows no POST).
NOT_TIKI_STATUSES = (404, 405, 501)
# Every page a Tiki serves names its own scripts (tiki-login.php, tiki-index.php, ...).
TIKI_PAGE = re.compile(rb"tiki-\w+\.php")


def not_a_tiki_message(url: str, how: str) -> str:
    """What NotATiki says: nothing at `url` answered as a Tiki web service (`how` it answered
    instead), and what to check."""
    advice = ("check the URL, which must be the Tiki root (the folder of tiki-index.php)"
              if "/tiki-api.php" not in url else
              "a Tiki before 24 has no tiki-api.php: set the credential's protocol to "
              "Detect or Tiki 8-23, or check the URL")
    return f"this is not a Tiki site: no Tiki web service answered at {url} ({how}): {advice}"


class BasicIgnored(Forbidden):
    """The master answered an HTTP Basic request as it answers an anonymous visitor: Tiki's
    `login_http_basic` is not `always` (its default), so the header was ignored."""


class BadShape(RemoteError):
    """JSON, but not shaped as Tiki answers (e.g. `result` is not a list)."""


class MissingItemId(RemoteError):
    """An insert answered without a usable itemId: nothing can be assumed to exist remotely."""


class OffsetIgnored(RemoteError):
    """The master returned the same items again for a later page: paging cannot work."""


class Timeout(RemoteError):
    """No answer in time. For a write, `maybe_written` says the master may have applied it."""

    def __init__(self, message, *, url=None, maybe_written=False):
        super().__init__(message, url=url)
        self.maybe_written = maybe_written


class ConnectionFailed(RemoteError):
    """No connection, or the connection dropped before the answer (see `maybe_written`)."""

    def __init__(self, message, *, url=None, maybe_written=False):
        super().__init__(message, url=url)
        self.maybe_written = maybe_written


class TlsError(RemoteError):
    """The master's certificate could not be verified."""


class OutboundRefused(RemoteError):
    """Our own policy refused the URL before any request was made."""


class InsecureTransport(OutboundRefused):
    """A credential would have gone over plain http without its explicit opt-in."""


class RedirectRefused(RemoteError):
    """A redirect we will not follow (a write, or too many hops)."""


def scrub(text: object, secrets: Iterable[str] = ()) -> str:
    """`text` with every secret replaced by ***; secrets shorter than 4 characters are left
    alone (they would blank out ordinary words and are not worth hiding from a log anyway)."""
    text = "" if text is None else str(text)
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, "***")
    # Belt and braces: an Authorization header value never survives into a message.
    return re.sub(r"(?i)\b(authorization\s*[:=]\s*)(\S+(\s+\S+)?)", r"\1***", text)


def short(text: object, limit: int = MAX_MESSAGE) -> str:
    """One line, tags removed (Tiki messages may carry HTML comments), at most `limit` chars."""
    text = re.sub(r"<!--.*?-->|<[^>]+>", " ", str(text or ""))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"

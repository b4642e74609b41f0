"""Where a URL points, for matching credentials and the outbound allow-list.

Tiki matches a credential on scheme and host only, with the path as a raw string prefix
(W14): `/tiki` also matches `/tiki-other`, and any port of the host gets it. Here a
credential covers a URL only when scheme, host AND port are equal and its path is a prefix of
the URL's path on a segment boundary; the caller picks the longest such prefix.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from .errors import OutboundRefused, short

DEFAULT_PORTS = {"http": 80, "https": 443}
TIKI_SCRIPTS = ("tiki-index.php", "tiki-ajax_services.php", "tiki-api.php")


class UrlError(ValueError):
    """A URL we cannot use; the message says why."""


def remove_dot_segments(path: str) -> str:
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
    def origin(self) -> str:
        default = DEFAULT_PORTS.get(self.scheme)
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}" + ("" if self.port == default else f":{self.port}")

    @property
    def url(self) -> str:
        return self.origin + self.path


def locate(url: str) -> Location:
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


def normalize_base(url: str) -> str:
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


def covers(scope: str | Location, url: str | Location) -> bool:
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

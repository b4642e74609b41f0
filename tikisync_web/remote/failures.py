"""What a failed request's exception says: in a few words for the user, and whether the
request can have reached the master (a write that did not is safe to send again)."""
import re

import requests
import urllib3.exceptions as u3

from . import errors as e


def reason(exc):
    """What went wrong at the network level, in a few words."""
    text = str(exc)
    for pattern, words in (
        (r"certificate verify failed: ([^(')]+)", None),
        (r"Name or service not known|nodename nor servname|getaddrinfo failed|"
         r"Temporary failure in name resolution", "the host name does not resolve"),
        (r"Connection refused", "connection refused"),
        (r"RemoteDisconnected|Connection aborted|closed connection without response|"
         r"Connection reset", "the connection closed before the answer"),
        (r"No route to host|Network is unreachable", "no route to the host"),
    ):
        match = re.search(pattern, text)
        if match:
            return words or "certificate verify failed: " + match.group(1).strip()
    return e.short(text, 160)


def read_timeout(exc):
    """True for a read timeout that requests reports as a connection error (one that struck
    while the body was being read)."""
    inner = exc.args[0] if exc.args else None
    return isinstance(inner, u3.ReadTimeoutError)


def connect_failed(exc):
    """True when the request never reached the master (so a write was not applied)."""
    inner = exc.args[0] if exc.args else None
    reason = getattr(inner, "reason", inner)
    return isinstance(reason, (u3.NewConnectionError, u3.NameResolutionError)) or \
        isinstance(exc, requests.exceptions.ConnectTimeout)

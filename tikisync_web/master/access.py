"""Who is calling: HTTP Basic (Gen A, as Tiki's `login_http_basic`) or an API token (Gen B).

Cookies are never read here, on purpose: the endpoints take no CSRF token, so a browser's
session must not be able to act through them.
"""
import hashlib
import threading
import time
from collections import OrderedDict

from flask import request

from .. import accounts, throttle
from ..models import User
from .errors import MasterError, denied, unauthorized

# A password check costs ~0.1 s (scrypt) and Tiki's client pages by 20 items, each page a new
# request with the same Basic header: remember verified credentials for a few minutes. An
# entry keys a digest of username and password to the user and the password hash they were
# checked against; it is used only while that user is active with that very hash, so a
# changed password or a disabled account ends it at once. Failures are never remembered.
# A remembered credential passes even while its account is throttled: it was proven already,
# it costs no password check, and a guesser elsewhere must not stop a working client.
_VERIFIED_TTL = 300
_VERIFIED_MAX = 256
_verified = OrderedDict()
_lock = threading.Lock()


def identify(generation):
    """The User behind this request, None for anonymous; raises 401 on bad credentials."""
    scheme, _, credentials = request.headers.get("Authorization", "").strip().partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer":
        return _check_token(credentials.strip())
    if generation == "B" or scheme != "basic":
        # tiki-api.php ignores Basic (tiki-examples/23); other schemes mean nothing here.
        return None
    try:
        basic = request.authorization
    except ValueError:  # werkzeug lets base64's error through for non-ASCII credentials
        basic = None
    if basic is None or basic.type != "basic" or not basic.username \
            or "\x00" in basic.username + (basic.password or ""):
        raise unauthorized("Malformed HTTP Basic credentials")
    user = _check_basic(basic.username, basic.password or "")
    if user is None:
        raise unauthorized("Invalid username or password")
    return user


def _too_many(exc):
    return MasterError(429, str(exc), {"Retry-After": str(exc.seconds)})


def _check_token(token):
    # A token is too long to guess and cheap to check (one digest), so the check comes first
    # and a valid token always passes; wrong ones are counted against their address, which
    # is refused once blocked.
    user = accounts.user_for_token(token)
    if user is not None:
        return user
    keys = throttle.keys_for(None, request.remote_addr)
    wait = throttle.wait_seconds(keys)
    if wait:
        raise _too_many(accounts.Throttled(wait))
    throttle.failed(keys)
    raise unauthorized("Invalid or revoked API token", "Bearer")


def _check_basic(username, password):
    key = hashlib.sha256(f"{username}\0{password}".encode("utf-8", "replace")).digest()
    now = time.monotonic()
    with _lock:
        cached = _verified.get(key)
    if cached is not None and cached[2] > now:
        user = User.get_or_none(User.id == cached[0])
        if user is not None and user.active and user.username == username \
                and user.password_hash == cached[1]:
            return user
    try:
        user = accounts.sign_in(username, password, request.remote_addr)
    except accounts.Throttled as exc:
        raise _too_many(exc) from None
    if user is not None:
        with _lock:
            _verified[key] = (user.id, user.password_hash, now + _VERIFIED_TTL)
            _verified.move_to_end(key)
            while len(_verified) > _VERIFIED_MAX:
                _verified.popitem(last=False)
    return user


def forget_verified():
    """Drop every remembered credential (tests start from a clean slate)."""
    with _lock:
        _verified.clear()


def require(user, role):
    """Refuse (403) a caller below `role`; anonymous callers are told to authenticate."""
    if user is None:
        raise denied("Authentication required: send HTTP Basic credentials "
                     "(tiki-ajax_services.php) or an API token (tiki-api.php)")
    if not user.can(role):
        raise denied(f"This needs the {role} role; {user.username} is "
                     f"{accounts.with_article(user.role)}")

"""Users, passwords and API tokens; no Flask here, so the CLI and the master share it."""
import functools
import hashlib
import re
import secrets
import time

import peewee as pw
from werkzeug.security import check_password_hash, generate_password_hash

from . import throttle
from .db import write_transaction
from .models import ROLES, ApiToken, User

MIN_PASSWORD = 8
EMAIL = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+")  # where notices go; the SMTP server judges the rest
# The password hash of an account the host signs in: no password matches it.
HOST_SIGNED_IN = "!host"


class AuthError(ValueError):
    pass


class Throttled(AuthError):
    """Too many failed sign-ins for the account or from the address: try again in `seconds`."""

    def __init__(self, seconds):
        self.seconds = seconds
        super().__init__(f"Too many failed sign-ins for this account or from this address: "
                         f"wait {seconds} seconds, then try again.")


def with_article(role):
    """A role with its indefinite article, for sentences: "an admin", "an editor", "a viewer"."""
    return f"{'an' if str(role)[:1].lower() in 'aeiou' else 'a'} {role}"


def hash_password(password):
    return generate_password_hash(password)


def check_email(email):
    """The address, trimmed ("" for none); AuthError when it cannot be one."""
    email = (email or "").strip()
    if email and (len(email) > 254 or not EMAIL.fullmatch(email)):
        raise AuthError(f"{email!r} is not an email address (name@example.org)")
    return email


def create_user(username, role, password, email=""):
    username = (username or "").strip()
    email = check_email(email)
    if not username or len(username) > 100 or any(c.isspace() for c in username):
        raise AuthError("a username is 1 to 100 characters without spaces")
    if role not in ROLES:
        raise AuthError(f"role must be one of {', '.join(ROLES)}")
    if len(password or "") < MIN_PASSWORD:
        raise AuthError(f"the password needs at least {MIN_PASSWORD} characters")
    password_hash = hash_password(password)  # slow: before the transaction
    with write_transaction():
        if User.select().where(User.username == username).exists():
            raise AuthError(f"user {username!r} already exists")
        return User.create(username=username, role=role, password_hash=password_hash,
                           email=email)


def authenticate(username, password):
    """The active user with these credentials, or None."""
    user = User.get_or_none(User.username == (username or ""))
    if user is None or not user.active:
        # Spend the same time as a real check so usernames cannot be probed by timing.
        check_password_hash(_dummy_hash(), password or "")
        return None
    if not check_password_hash(user.password_hash, password or ""):
        return None
    return user


def sign_in(username, password, address):
    """authenticate(), throttled per account and per address (throttle.py): raises Throttled
    before the password is checked while either is blocked; counts a failure, clears the
    account's count on a success. `username` None: an API token's owner is not known."""
    keys = throttle.keys_for(username, address)
    wait = throttle.wait_seconds(keys)
    if wait:
        raise Throttled(wait)
    user = authenticate(username, password)
    if user is None:
        throttle.failed(keys)
    else:
        throttle.succeeded(username)
    return user


def sign_in_wait(username, address):
    """Seconds before this account may try again from this address (0: now)."""
    return throttle.wait_seconds(throttle.keys_for(username, address))


def set_password(user_id, password):
    """A new password; every session of that user ends (its session generation moves on)."""
    User.update(password_hash=hash_password(password),
                session_generation=User.session_generation + 1).where(
        User.id == user_id).execute()


def host_user(identity):
    """The account of a person the host signed in: `identity` is what TikiSync.user_loader's
    callback returned, (username, role) or None. Created on first sight without a password
    of ours (they sign in through the host), and given the host's role each time."""
    if identity is None:
        return None
    try:
        username, role = identity
    except (TypeError, ValueError):
        raise TypeError(f"the user_loader returned {identity!r}; it returns (username, role) "
                        "or None") from None
    username = str(username or "").strip()
    if role not in ROLES:
        raise ValueError(f"the user_loader gave {username!r} the role {role!r}; roles are "
                         f"{', '.join(ROLES)}")
    if not username or len(username) > 100:
        raise ValueError(f"the user_loader gave the username {username!r}; a username is 1 "
                         "to 100 characters")
    user = User.get_or_none(User.username == username)
    if user is None:
        try:
            return User.create(username=username, role=role, password_hash=HOST_SIGNED_IN)
        except pw.IntegrityError:  # created meanwhile by a parallel request
            user = User.get(User.username == username)
    if user.role != role:
        User.update(role=role).where(User.id == user.id).execute()
        user.role = role
    return user


@functools.lru_cache(maxsize=1)
def _dummy_hash():
    # Made on first use, not at import: hashing is deliberately slow.
    return generate_password_hash("not-a-real-password")


def token_digest(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(user, label=""):
    """A new API token for `user`; the clear token is returned once and only its hash is kept."""
    token = "tks_" + secrets.token_urlsafe(32)
    ApiToken.create(user=user, token_hash=token_digest(token), label=(label or "")[:100])
    return token


def user_for_token(token):
    """The active user owning `token`, or None; records when it was last used."""
    if not token:
        return None
    row = (ApiToken.select(ApiToken, User).join(User)
           .where(ApiToken.token_hash == token_digest(token)).first())
    if row is None or not row.user.active:
        return None
    now = int(time.time())
    if row.last_used is None or now - row.last_used > 60:
        ApiToken.update(last_used=now).where(ApiToken.id == row.id).execute()
    return row.user

"""Users, passwords and API tokens; no Flask here, so the CLI and the master share it."""
import functools
import hashlib
import re
import secrets
import time

from werkzeug.security import check_password_hash, generate_password_hash

from .models import ROLES, ApiToken, User

MIN_PASSWORD = 8
EMAIL = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+")  # where notices go; the SMTP server judges the rest


class AuthError(ValueError):
    pass


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
    if User.select().where(User.username == username).exists():
        raise AuthError(f"user {username!r} already exists")
    return User.create(username=username, role=role, password_hash=hash_password(password),
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

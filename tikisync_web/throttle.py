"""Throttling of failed sign-ins, per account and per address (no Flask here).

The sign-in form and the master's HTTP Basic and Bearer checks count failures in the database
(SignInThrottle), so every web process and worker shares one count. After `limit` failures
within `window` seconds, the account or the address is blocked for `first_delay` seconds, then
twice as long at each further block, up to `max_delay`; a blocked attempt is refused before
its password is checked (a check costs ~0.1 s of scrypt that anyone could make us spend).

An account's block is what an attacker can inflict on its real owner, so it stays short (at
most five minutes); an address's block only hurts whoever guesses from it, and may be longer.
A success clears the account's count (not the address's: one valid account must not reset
the count of an address guessing at others). After FORGET_AFTER quiet seconds a row is deleted.
"""
import ipaddress
import time
from dataclasses import dataclass

import peewee as pw

from .db import database, write_transaction
from .models import SignInThrottle


@dataclass(frozen=True)
class Policy:
    scope: str
    limit: int  # failures within `window` seconds that start a block
    window: int
    first_delay: int  # seconds of the first block; each further one doubles, to max_delay
    max_delay: int


ACCOUNT = Policy("account", limit=5, window=600, first_delay=30, max_delay=300)
ADDRESS = Policy("address", limit=20, window=600, first_delay=60, max_delay=900)
POLICIES = {p.scope: p for p in (ACCOUNT, ADDRESS)}
FORGET_AFTER = 6 * 3600
_SUBJECT_LENGTH = 150


def account_key(username):
    # Case-folded: MariaDB compares usernames without case, so "Admin" may be "admin".
    return (ACCOUNT.scope, (username or "").casefold()[:_SUBJECT_LENGTH])


def address_key(address):
    """An IPv4 address as it is; an IPv6 one by its /64 network (one host holds all of it)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return (ADDRESS.scope, (address or "unknown")[:_SUBJECT_LENGTH])
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return (ADDRESS.scope, str(ip.ipv4_mapped))
        return (ADDRESS.scope, str(ipaddress.ip_network(f"{ip}/64", strict=False)))
    return (ADDRESS.scope, str(ip))


def keys_for(username, address):
    keys = [address_key(address)]
    if username is not None:
        keys.append(account_key(username))
    return keys


def wait_seconds(keys, now=None):
    """Whole seconds until every key may try again; 0 when none is blocked."""
    now = time.time() if now is None else now
    rows = _rows(keys).where(SignInThrottle.blocked_until > now)
    waits = [row.blocked_until - now for row in rows]
    return int(max(waits) + 0.999) if waits else 0


def failed(keys, now=None):
    """Count a failure for every key; the wait it starts (0 when none is blocked yet)."""
    now = time.time() if now is None else now
    with write_transaction():
        for key in keys:
            _count(key, now)
        SignInThrottle.delete().where(SignInThrottle.last_failure < now - FORGET_AFTER,
                                      SignInThrottle.blocked_until < now).execute()
    return wait_seconds(keys, now)


def succeeded(username):
    """A good password: the account's count starts again."""
    scope, subject = account_key(username)
    SignInThrottle.delete().where(SignInThrottle.scope == scope,
                                  SignInThrottle.subject == subject).execute()


def _rows(keys):
    condition = None
    for scope, subject in keys:
        one = (SignInThrottle.scope == scope) & (SignInThrottle.subject == subject)
        condition = one if condition is None else condition | one
    return SignInThrottle.select().where(condition)


def _count(key, now):
    scope, subject = key
    policy = POLICIES[scope]
    query = SignInThrottle.select().where(SignInThrottle.scope == scope,
                                          SignInThrottle.subject == subject)
    if not isinstance(database.obj, pw.SqliteDatabase):
        query = query.for_update()  # SQLite's write lock is already ours (BEGIN IMMEDIATE)
    row = query.first()
    if row is None:
        try:
            with database.atomic():  # a savepoint: another process may insert it first
                row = SignInThrottle.create(scope=scope, subject=subject, failures=0,
                                            window_start=now, last_failure=now)
        except pw.IntegrityError:
            row = query.first()
    if now - row.last_failure > FORGET_AFTER:
        row.strikes = 0
    if now - row.window_start > policy.window or row.blocked_until > row.window_start:
        # A new window: the old one ran out, or ended in a block that is now over.
        row.failures, row.window_start = 0, now
    row.failures += 1
    row.last_failure = now
    if row.failures >= policy.limit:
        row.strikes += 1
        delay = min(policy.max_delay, policy.first_delay * 2 ** min(row.strikes - 1, 20))
        row.blocked_until = now + delay
    row.save()

"""The database binding: one DatabaseProxy per process, chosen at init_app time.

`TIKISYNC_DATABASE` is a peewee db_url. SQLite gets WAL and a busy timeout so a job's
writes and the pages' reads do not block each other; MariaDB gets `mariadb=True`
(JSON columns need it); PostgreSQL goes through psycopg 3.
"""
import contextlib
import os
from urllib.parse import urlsplit

import peewee
from playhouse import db_url

database = peewee.DatabaseProxy()

SQLITE_PRAGMAS = {
    # Only a new, empty database takes a page size, so it comes first. 16 KiB pages hold ~20
    # items instead of ~5: a reload of 100,000 items writes and checkpoints ~20 % faster
    # (bench/reload.py), and list pages read fewer pages. Older databases keep theirs.
    "page_size": 16384,
    "journal_mode": "wal",
    "busy_timeout": 10000,
    "foreign_keys": 1,
    "synchronous": "normal",
    "cache_size": -16000,
}


def _table_name(model_class):
    # A plugin may share its host's database: every table carries our prefix.
    return "tikisync_" + peewee.make_snake_case(model_class.__name__)


class BaseModel(peewee.Model):
    class Meta:
        database = database
        table_function = _table_name


def _create_private(path):
    """Make a new SQLite file readable by its owner only: it holds password hashes and the
    encrypted secrets. SQLite gives its -wal and -shm files the database file's mode. An
    existing file keeps the mode its admin chose."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


class ConfigError(RuntimeError):
    """The database URL cannot be used; the message says how to fix it."""


BUSY_TIMEOUT = 10  # seconds a write waits for another transaction (a reload) to end
BUSY_MESSAGE = "the database is busy (a reload is running); try again in a moment"


def open_database(url, busy_timeout=BUSY_TIMEOUT):
    """Build (without connecting) the peewee Database for a db_url. A write waits up to
    `busy_timeout` seconds for a lock another transaction holds (SQLite's single writer,
    a row on the server databases), then fails with an error `is_busy` recognises."""
    scheme = urlsplit(url).scheme
    params = {}
    wait = max(0.0, float(busy_timeout if busy_timeout is not None else BUSY_TIMEOUT))
    if scheme.startswith("sqlite"):
        params["pragmas"] = dict(SQLITE_PRAGMAS, busy_timeout=int(wait * 1000))
        params["timeout"] = wait
        path = db_url.parse(url).get("database")
        if path and path != ":memory:" and not path.startswith("file:"):
            _create_private(path)
    elif scheme in ("postgres", "postgresql"):
        url = "psycopg3" + url[len(scheme):]
        params["options"] = f"-c lock_timeout={int(wait * 1000)}"
    elif scheme == "mysql" and "mariadb=" not in url:
        url += ("&" if "?" in url else "?") + "mariadb=true"
    if scheme in ("mysql",):
        params["charset"] = "utf8mb4"
        params["init_command"] = f"SET SESSION innodb_lock_wait_timeout = {max(1, round(wait))}"
        if urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1") and "ssl" not in url:
            # PyMySQL builds a TLS context (~30 ms) on every connection, and we connect once
            # per request; on loopback there is nothing to protect.
            params["ssl_disabled"] = True
    try:
        return db_url.connect(url, unquote_password=True, **params)
    except (RuntimeError, ValueError) as exc:
        raise ConfigError(
            f"TIKISYNC_DATABASE is not usable ({exc}); use sqlite:////path/file.db, "
            "postgresql://user@host/dbname or mysql://user@host/dbname"
        ) from None


def bind(url, busy_timeout=None):
    """Point the proxy at the database named by `url` (once per process, or again in tests)."""
    current = database.obj
    key = (url, BUSY_TIMEOUT if busy_timeout is None else float(busy_timeout))
    if current is not None and getattr(current, "_tikisync_key", None) == key:
        return current
    if current is not None and not current.is_closed():
        current.close()
    db = open_database(url, busy_timeout)
    db._tikisync_url, db._tikisync_key = url, key
    database.initialize(db)
    return db


class DatabaseBusy(peewee.OperationalError):
    """A write waited the busy timeout for another transaction (a reload) and gave up; nothing
    was written, and trying again later works."""

    def __init__(self, message=BUSY_MESSAGE):
        super().__init__(message)


_BUSY_WORDS = ("database is locked", "database table is locked", "lock timeout",
               "lock wait timeout", "deadlock")


def is_busy(exc):
    """True for an error that only says another transaction held what a write needed."""
    return isinstance(exc, DatabaseBusy) or (
        isinstance(exc, peewee.OperationalError)
        and any(word in str(exc).lower() for word in _BUSY_WORDS))


@contextlib.contextmanager
def write_transaction():
    """A transaction that writes: database.atomic(), taking SQLite's write lock at BEGIN
    (BEGIN IMMEDIATE); a lock not obtained within the busy timeout is DatabaseBusy.

    A deferred transaction that reads first and writes later cannot wait for the lock: it
    fails at once with "database is locked" (SQLite will not upgrade a read snapshot another
    writer has moved past, and does not wait at all while one writes), e.g. any edit while a
    reload runs; taking the lock first waits for the writer instead. Every transaction that
    writes goes through here.
    """
    if isinstance(database.obj, peewee.SqliteDatabase) and database.transaction_depth() == 0:
        atomic = database.atomic("IMMEDIATE")
    else:
        atomic = database.atomic()
    try:
        with atomic:
            yield
    except peewee.OperationalError as exc:
        if is_busy(exc) and not isinstance(exc, DatabaseBusy):
            raise DatabaseBusy() from exc
        raise


def is_sqlite():
    return isinstance(database.obj, peewee.SqliteDatabase)


def is_mysql():
    return isinstance(database.obj, peewee.MySQLDatabase)


def describe(url):
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url

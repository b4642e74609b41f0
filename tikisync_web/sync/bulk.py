"""Fast multi-row writes and plain reads for reload and sync, straight on the cursor.

Peewee's insert_many converts every value through its fields, and building a query with an
IN list of a thousand ids costs milliseconds: a reload writes two rows per item and reads its
local copies a batch at a time, so these go to the cursor with SQL built once. JSON columns
receive text (PostgreSQL casts it to jsonb). An INSERT carries many rows per statement, so
the database works through a batch in one call (on SQLite without holding the GIL), while the
reload's download thread goes on; on PostgreSQL new rows go through COPY, sent by a thread
of their own inside `background_copy` (the caller prepares the next rows meanwhile).
"""
from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from itertools import chain

import peewee as pw

from ..db import database

BACKGROUND_COPY = True  # background_copy sends COPY from a thread (bench/_worker.py's switch)


@contextmanager
def small_cache(kib: int = 4000) -> Iterator[None]:
    """On SQLite, a page cache of `kib` KiB for this connection while a bulk job streams
    through it (the app's default is 16 MB): appends and index walks in key order need few
    pages, and a reload then takes the same memory for 1,000 items as for 1,000,000."""
    if not isinstance(database.obj, pw.SqliteDatabase):
        yield
        return
    before = database.execute_sql("PRAGMA cache_size").fetchone()[0]
    database.execute_sql(f"PRAGMA cache_size = -{int(kib)}")
    try:
        yield
    finally:
        database.execute_sql(f"PRAGMA cache_size = {int(before)}")


def _quote(name):
    left, right = database.obj.quote[0], database.obj.quote[-1]
    return f"{left}{name}{right}"


def _param(field):
    param = database.obj.param
    if isinstance(field, pw.JSONField) and isinstance(database.obj, pw.PostgresqlDatabase):
        return param + "::jsonb"
    return param


def param() -> str:
    return database.obj.param


def params(count: int) -> str:
    """`count` placeholders, comma-separated (for IN lists)."""
    return ", ".join([database.obj.param] * count)


class columns:
    """Quoted names of a model's table and columns for hand-written SQL: `str(c)` is the table
    (with its alias), `c.name` a column (field name or column name), alias-qualified."""

    def __init__(self, model, alias=None):
        self._model, self._alias = model, alias
        table = _quote(model._meta.table_name)
        self._table = f"{table} {alias}" if alias else table

    def __str__(self):
        return self._table

    def __getattr__(self, name):
        field = self._model._meta.fields.get(name) or self._model._meta.columns[name]
        column = _quote(field.column_name)
        return f"{self._alias}.{column}" if self._alias else column


def select(sql: str, values: Sequence = ()) -> list[tuple]:
    """All rows of a query as tuples."""
    settle()
    cursor = database.cursor()
    cursor.execute(sql, list(values))
    return cursor.fetchall()


def _max_params():
    if isinstance(database.obj, pw.SqliteDatabase) and sqlite3.sqlite_version_info < (3, 32, 0):
        return 999  # SQLITE_MAX_VARIABLE_NUMBER before 3.32
    return 30000  # under SQLite's 32,766 and PostgreSQL's 65,535


def _returning():
    """True when INSERT ... RETURNING works (SQLite 3.35+, PostgreSQL)."""
    obj = database.obj
    if isinstance(obj, pw.SqliteDatabase):
        return sqlite3.sqlite_version_info >= (3, 35, 0)
    return isinstance(obj, pw.PostgresqlDatabase)


def insert_rows(model: type[pw.Model], names: list[str], rows: list[tuple],
                returning: list[str] | None = None) -> list[tuple] | None:
    """INSERT rows (tuples in `names` order; JSON columns as text), many per statement.

    With `returning` (field names), the inserted rows' values of those fields as tuples, or
    None when the database cannot return them (then the caller reads them back itself)."""
    if not rows:
        return [] if returning else None
    fields = [model._meta.fields[n] for n in names]
    if not returning and isinstance(database.obj, pw.PostgresqlDatabase):
        writer = _WRITER.get()
        if writer is not None:
            writer.put(_copy_sql(model, fields), rows)
        else:
            _copy_rows(database.connection(), _copy_sql(model, fields), rows)
        return None
    settle()
    head = "INSERT INTO {} ({}) VALUES ".format(
        _quote(model._meta.table_name), ", ".join(_quote(f.column_name) for f in fields))
    one = "({})".format(", ".join(_param(f) for f in fields))
    tail = ""
    if returning and _returning():
        tail = " RETURNING " + ", ".join(_quote(model._meta.fields[n].column_name)
                                         for n in returning)
    per = max(1, _max_params() // len(fields))
    cursor = database.cursor()
    found = []
    for start in range(0, len(rows), per):
        chunk = rows[start:start + per]
        cursor.execute(head + ", ".join([one] * len(chunk)) + tail,
                       list(chain.from_iterable(chunk)))
        if tail:
            found.extend(cursor.fetchall())
    return found if tail else None


def _copy_sql(model, fields):
    return "COPY {} ({}) FROM STDIN".format(
        _quote(model._meta.table_name), ", ".join(_quote(f.column_name) for f in fields))


def _copy_rows(connection, sql, rows):
    """PostgreSQL's COPY: the rows stream to the server in one command, parsed there as text
    (JSON text becomes jsonb) without a statement per chunk; same transaction, same triggers."""
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


_WRITER: ContextVar[_Writer | None] = ContextVar("tikisync_copy_writer", default=None)


@contextmanager
def background_copy(depth: int = 2) -> Iterator[None]:
    """Inside a transaction on PostgreSQL: `insert_rows` hands its COPY to a thread, which
    sends it on the same connection (so in the same transaction) while the caller goes on;
    at most `depth` batches wait. The server's work on a batch (parsing, indexes, the foreign
    key checks at the end of the statement) then overlaps the caller's work on the next one
    and the download, where the caller used to wait for it. Every other statement of this
    module waits for the COPYs handed over first (`settle`); so does leaving the block, which
    raises the error a COPY met (the transaction then rolls back). Elsewhere, a no-op."""
    if (not BACKGROUND_COPY or not isinstance(database.obj, pw.PostgresqlDatabase)
            or _WRITER.get() is not None):
        yield
        return
    writer = _Writer(database.connection(), depth)
    token = _WRITER.set(writer)
    try:
        yield
    except BaseException:
        writer.close(discard=True)
        raise
    else:
        writer.close()
    finally:
        _WRITER.reset(token)


def settle() -> None:
    """Wait for the COPYs `background_copy` has handed over (and raise the error one met)."""
    writer = _WRITER.get()
    if writer is not None:
        writer.wait()


class _Writer:
    """A thread sending each (COPY statement, rows) put to it, in order, on `connection`
    (psycopg connections take statements from several threads, one at a time)."""

    def __init__(self, connection, depth):
        self.connection = connection
        self.batches = queue.Queue(maxsize=max(1, depth))
        self.error = None  # the first error a COPY met; the batches after it are dropped
        self.thread = threading.Thread(target=self._run, daemon=True, name="tikisync-copy")
        self.thread.start()

    def put(self, sql, rows):
        self._raise()
        self.batches.put((sql, rows))  # waits while `depth` batches wait already

    def wait(self):
        self.batches.join()
        self._raise()

    def close(self, discard=False):
        if discard and self.error is None:
            self.error = _Discarded()  # the batches still waiting are not sent
        self.batches.put(None)
        self.thread.join()
        if not discard:
            self._raise()

    def _raise(self):
        if self.error is not None:
            raise self.error

    def _run(self):
        while True:
            batch = self.batches.get()
            try:
                if batch is None:
                    return
                if self.error is None:
                    _copy_rows(self.connection, *batch)
            except BaseException as exc:  # noqa: BLE001 - raised in the caller's thread
                self.error = exc
            finally:
                self.batches.task_done()


class _Discarded(Exception):
    """The caller stopped: the batches it had handed over were not sent."""


def update_rows(model: type[pw.Model], names: list[str], rows: list[tuple],
                key: str = "id") -> None:
    """UPDATE by primary key; each row is (values in `names` order..., key value)."""
    if not rows:
        return
    settle()
    fields = [model._meta.fields[n] for n in names]
    sql = "UPDATE {} SET {} WHERE {} = {}".format(
        _quote(model._meta.table_name),
        ", ".join(f"{_quote(f.column_name)} = {_param(f)}" for f in fields),
        _quote(model._meta.fields[key].column_name), database.obj.param)
    database.cursor().executemany(sql, rows)


def execute_many(sql: str, rows: list[tuple]) -> None:
    if rows:
        settle()
        database.cursor().executemany(sql, rows)


def delete_ids(model: type[pw.Model], ids: Iterable[int], chunk: int = 500) -> None:
    ids = list(ids)
    if ids:
        settle()
    for start in range(0, len(ids), chunk):
        model.delete().where(model.id.in_(ids[start:start + chunk])).execute()

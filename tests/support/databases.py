"""Test databases: a temp SQLite file per test, or one throwaway PostgreSQL / MariaDB database
per test session (created with a unique name, emptied between tests, dropped at the end).

`TIKISYNC_TEST_DB` chooses: sqlite (default), postgresql, mariadb. tests/run.py runs the suite
once per backend.
"""
import os
import uuid

import peewee as pw

from tikisync_web import db as tdb
from tikisync_web.db import database

BACKEND = os.environ.get("TIKISYNC_TEST_DB", "sqlite")
PG_ADMIN = os.environ.get("TIKISYNC_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
MY_ADMIN = os.environ.get("TIKISYNC_TEST_MARIADB", "mysql://root@127.0.0.1:3306/test")


def _pg_admin():
    import psycopg

    return psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5)


def _my_admin():
    from urllib.parse import urlsplit

    import pymysql

    parts = urlsplit(MY_ADMIN)
    return pymysql.connect(host=parts.hostname, port=parts.port or 3306, user=parts.username,
                           password=parts.password or "", autocommit=True, connect_timeout=5)


def create_server_database(backend=BACKEND):
    """Create a uniquely named database; returns its db_url."""
    name = f"tikisync_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    if backend == "postgresql":
        with _pg_admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        base = PG_ADMIN.rsplit("/", 1)[0]
        return f"{base}/{name}"
    if backend == "mariadb":
        conn = _my_admin()
        try:
            conn.cursor().execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        finally:
            conn.close()
        base = MY_ADMIN.rsplit("/", 1)[0]
        return f"{base}/{name}?mariadb=true"
    raise ValueError(backend)


def drop_server_database(url, backend=BACKEND):
    name = url.rsplit("/", 1)[1].split("?")[0]
    if backend == "postgresql":
        with _pg_admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    elif backend == "mariadb":
        conn = _my_admin()
        try:
            conn.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
        finally:
            conn.close()


def empty_database(url):
    """Drop every table of ours, so the next app starts from a fresh schema."""
    opened = tdb.open_database(url)
    with opened.connection_context():
        tables = [t for t in opened.get_tables() if t.startswith("tikisync_")]
        if not tables:
            return
        if tdb.is_mysql() or url.startswith("mysql"):
            opened.execute_sql("SET FOREIGN_KEY_CHECKS=0")
            for table in tables:
                opened.execute_sql(f"DROP TABLE IF EXISTS `{table}`")
            opened.execute_sql("SET FOREIGN_KEY_CHECKS=1")
        else:
            opened.execute_sql("DROP TABLE IF EXISTS " + ", ".join(
                f'"{t}"' for t in tables) + " CASCADE")
    opened.close()


def close():
    """Close the app's connection, if one is open."""
    if database.obj is not None and not database.is_closed():
        database.close()


def clear_rows(url):
    """Empty every table of a database already at the latest schema, in one transaction:
    much cheaper on a server than dropping and re-creating the schema for every test.
    Returns False (and changes nothing) when the schema is missing or another version."""
    from tikisync_web import migrations
    from tikisync_web.models import ALL_MODELS

    tdb.bind(url)
    expected = {model._meta.table_name for model in ALL_MODELS}
    with database.connection_context():
        present = {t for t in database.get_tables() if t.startswith("tikisync_")}
        if present != expected | {migrations.SchemaVersion._meta.table_name}:
            return False
        if migrations.current_version() != migrations.LATEST:
            return False
        # DELETE, children first: far cheaper than TRUNCATE on PostgreSQL for small tables.
        ordered = [model._meta.table_name for model in reversed(pw.sort_models(ALL_MODELS))]
        quote = "`" if tdb.is_mysql() else '"'
        with database.atomic():
            for table in ordered:
                database.execute_sql(f"DELETE FROM {quote}{table}{quote}")
    return True


def emptied(server_db_url):
    """The session's server database without rows (or without our tables, when its schema is
    not the latest)."""
    close()
    if not clear_rows(server_db_url):
        close()
        empty_database(server_db_url)
    close()
    return server_db_url


def sqlite_template(path):
    """A SQLite file at `path` holding the latest schema, checkpointed and closed."""
    from tikisync_web import migrations

    tdb.bind(f"sqlite:///{path}")
    migrations.upgrade()
    with database.connection_context():
        database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    close()
    return path


def module_db_url(folder, server_db_url):
    """The database for a module-scoped app (state shared by a module's tests, made once)."""
    if server_db_url is None:
        return f"sqlite:///{folder}/tikisync.db"
    return emptied(server_db_url)

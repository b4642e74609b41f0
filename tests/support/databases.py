"""Test databases: a temp SQLite file per test, or one throwaway PostgreSQL / MariaDB database
per test session (created with a unique name, emptied between tests, dropped at the end).

`TIKISYNC_TEST_DB` chooses: sqlite (default), postgresql, mariadb. tests/run.py runs the suite
once per backend.
"""
import os
import uuid

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
    from tikisync_web import db as tdb

    database = tdb.open_database(url)
    with database.connection_context():
        tables = [t for t in database.get_tables() if t.startswith("tikisync_")]
        if not tables:
            return
        if tdb.is_mysql() or url.startswith("mysql"):
            database.execute_sql("SET FOREIGN_KEY_CHECKS=0")
            for table in tables:
                database.execute_sql(f"DROP TABLE IF EXISTS `{table}`")
            database.execute_sql("SET FOREIGN_KEY_CHECKS=1")
        else:
            database.execute_sql("DROP TABLE IF EXISTS " + ", ".join(
                f'"{t}"' for t in tables) + " CASCADE")
    database.close()

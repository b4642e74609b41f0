"""What queries cost the database, counted rather than timed (issue 17's shape tests).

`recorded()` captures the statements a block runs (peewee's query log); `cost(statements)`
runs them again and counts the work the database did on each:

* SQLite: virtual-machine instructions (a progress handler called at every instruction);
* PostgreSQL: rows that passed through every node of the plan (EXPLAIN ANALYZE), filtered
  ones included;
* MariaDB: the session's Handler_read_* counters (rows read from tables and indexes).

All three grow with the rows a statement steps over, so "no dearer at offset 100,000 than at
offset 0" is a comparison of two counts. Only SELECTs are replayed; `plan(sql, params)` is
the database's EXPLAIN as text, for asserting which index a query uses.
"""
import json
from contextlib import contextmanager

from playhouse.test_utils import count_queries

from tikisync_web import db as tdb
from tikisync_web.db import database


@contextmanager
def recorded():
    """Yields a list that holds, after the block, the (sql, params) of every statement."""
    found = []
    with count_queries() as counter:
        yield found
    for record in counter.get_queries():
        sql, params = record.msg if isinstance(record.msg, tuple) else (str(record.msg), ())
        found.append((sql, tuple(params or ())))


def selects(statements, table=None):
    return [(sql, params) for sql, params in statements
            if sql.lstrip().upper().startswith("SELECT") and (table is None or table in sql)]


def _sqlite_cost(sql, params):
    conn = database.connection()
    steps = [0]

    def tick():
        steps[0] += 1
        return 0

    conn.set_progress_handler(tick, 1)
    try:
        conn.execute(sql, params).fetchall()
    finally:
        conn.set_progress_handler(None, 1)
    return steps[0]


def _pg_rows(node):
    rows = node.get("Actual Rows", 0) * max(1, node.get("Actual Loops", 1))
    rows += node.get("Rows Removed by Filter", 0) + node.get("Rows Removed by Index Recheck", 0)
    return rows + sum(_pg_rows(child) for child in node.get("Plans", ()))


def _pg_cost(sql, params):
    answer = database.execute_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params).fetchone()[0]
    document = json.loads(answer) if isinstance(answer, str) else answer
    return _pg_rows(document[0]["Plan"])


def _mysql_reads():
    status = database.execute_sql("SHOW SESSION STATUS LIKE 'Handler_read%%'").fetchall()
    return sum(int(value) for name, value in status if name != "Handler_read_key")


def _mysql_cost(sql, params):
    before = _mysql_reads()  # the session's counters only grow (FLUSH STATUS leaves them)
    database.execute_sql(sql, params).fetchall()
    return _mysql_reads() - before


def cost(statements):
    """The total work of the SELECTs among `statements` (see the module's docstring)."""
    one = _sqlite_cost if tdb.is_sqlite() else _mysql_cost if tdb.is_mysql() else _pg_cost
    with database.connection_context():
        return sum(one(sql, params) for sql, params in selects(statements))


def plan(sql, params):
    """The database's plan of a statement, as one lower-cased text."""
    if tdb.is_sqlite():
        rows = database.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()
        return " | ".join(str(row[-1]) for row in rows).lower()
    rows = database.execute_sql("EXPLAIN " + sql, params).fetchall()
    return " | ".join(" ".join(str(v) for v in row) for row in rows).lower()

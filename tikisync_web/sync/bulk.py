"""Fast multi-row writes for reload: one prepared statement, executemany, JSON pre-encoded.

Peewee's insert_many converts every value through its fields, which costs about ten times
what the database itself spends; a reload writes two rows per item, so it goes straight to
the cursor. JSON columns receive text (PostgreSQL casts it to jsonb).
"""
import peewee as pw

from ..db import database


def _quote(name):
    left, right = database.obj.quote[0], database.obj.quote[-1]
    return f"{left}{name}{right}"


def _param(field):
    param = database.obj.param
    if isinstance(field, pw.JSONField) and isinstance(database.obj, pw.PostgresqlDatabase):
        return param + "::jsonb"
    return param


def insert_rows(model, names, rows):
    """INSERT rows (tuples in `names` order; JSON columns as text)."""
    if not rows:
        return
    fields = [model._meta.fields[n] for n in names]
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        _quote(model._meta.table_name), ", ".join(_quote(f.column_name) for f in fields),
        ", ".join(_param(f) for f in fields))
    database.cursor().executemany(sql, rows)


def update_rows(model, names, rows, key="id"):
    """UPDATE by primary key; each row is (values in `names` order..., key value)."""
    if not rows:
        return
    fields = [model._meta.fields[n] for n in names]
    sql = "UPDATE {} SET {} WHERE {} = {}".format(
        _quote(model._meta.table_name),
        ", ".join(f"{_quote(f.column_name)} = {_param(f)}" for f in fields),
        _quote(model._meta.fields[key].column_name), database.obj.param)
    database.cursor().executemany(sql, rows)


def delete_ids(model, ids, chunk=500):
    ids = list(ids)
    for start in range(0, len(ids), chunk):
        model.delete().where(model.id.in_(ids[start:start + chunk])).execute()

"""Versioned schema changes, so an existing database upgrades in place.

A new database gets every table from the current models and is stamped with the latest
version. An existing one runs, in order, each migration newer than its stamp. A migration is
a function of (database, migrator); it must be safe on a database that already has part of
what it adds (creating tables with safe=True, adding columns only when missing), because the
models it names are today's, not the ones of its time.
"""
import time

import peewee as pw
from playhouse.migrate import SchemaMigrator

from . import dbobjects
from . import models as m
from .db import BaseModel, database


class SchemaVersion(BaseModel):
    version = pw.IntegerField(primary_key=True)
    name = pw.CharField(max_length=200)
    applied = pw.BigIntegerField(default=lambda: int(time.time()))


def add_columns_if_missing(db, migrator, model, *names):
    table = model._meta.table_name
    present = {c.name for c in db.get_columns(table)}
    for name in names:
        field = model._meta.fields[name]
        if field.column_name not in present:
            from playhouse.migrate import migrate

            migrate(migrator.add_column(table, field.column_name, field))


class _TrackerV1(BaseModel):
    """The tracker table as migration 1 made it; migration 2 adds the clone columns.

    Today's Tracker references tikisync_credential, which does not exist at version 1:
    PostgreSQL and MariaDB refuse such a foreign key, so version 1 is frozen here.
    """

    name = pw.CharField(max_length=200)
    description = pw.TextField(default="")
    created = pw.BigIntegerField(default=m.now)
    modified = pw.BigIntegerField(default=m.now)

    class Meta:
        table_name = m.Tracker._meta.table_name


def _core(db, migrator):
    db.create_tables([m.User, m.ApiToken], safe=True)
    db.create_tables([_TrackerV1], safe=True)  # before the tables that reference it
    db.create_tables([m.Field, m.Item, m.Setting], safe=True)


def _sync_state(db, migrator):
    db.create_tables(
        [m.Credential, m.AllowedOrigin, m.Baseline, m.PushIntent, m.ItemHistory, m.Job,
         m.AuditEvent],
        safe=True,
    )
    add_columns_if_missing(
        db, migrator, m.Tracker, "source_url", "remote_tracker_id", "protocol", "credential",
        "remote_schema", "last_reload_at", "remote_clock_at_reload",
    )


def _job_locks(db, migrator):
    from playhouse.migrate import migrate

    add_columns_if_missing(db, migrator, m.Job, "runner", "lock_key")
    table = m.Job._meta.table_name
    if not any(index.columns == ["lock_key"] for index in db.get_indexes(table)):
        migrate(migrator.add_index(table, ("lock_key",), True))


def _three_way(db, migrator):
    add_columns_if_missing(db, migrator, m.Item, "hash")
    add_columns_if_missing(db, migrator, m.Baseline, "theirs", "theirs_status")
    add_columns_if_missing(db, migrator, m.Tracker, "remote_clock_at_check")
    _fill_item_hashes(db)


def _fill_item_hashes(db):
    from .values import content_hash

    query = m.Item.select(m.Item.id, m.Item.values, m.Item.status).where(m.Item.hash == "")
    for item in query.iterator():
        m.Item.update(hash=content_hash(item.values, item.status)).where(
            m.Item.id == item.id).execute()


def _optional_baselines(db, migrator):
    add_columns_if_missing(db, migrator, m.Item, "base_hash", "remote_modified")
    item, base = m.Item._meta.table_name, m.Baseline._meta.table_name
    db.execute_sql(  # the base hash moves to the item; the rows stay (they are still right)
        f'UPDATE {_q(db, item)} SET {_q(db, "base_hash")} = (SELECT b.{_q(db, "hash")} FROM '
        f'{_q(db, base)} b WHERE b.{_q(db, "item_id")} = {_q(db, item)}.{_q(db, "id")}), '
        f'{_q(db, "remote_modified")} = (SELECT b.{_q(db, "remote_modified")} FROM '
        f'{_q(db, base)} b WHERE b.{_q(db, "item_id")} = {_q(db, item)}.{_q(db, "id")})')


def _sign_in_guards(db, migrator):
    db.create_tables([m.SignInThrottle], safe=True)
    add_columns_if_missing(db, migrator, m.User, "session_generation")


def _check_clock(db, migrator):
    add_columns_if_missing(db, migrator, m.Tracker, "checked_at")


def _schedules(db, migrator):
    add_columns_if_missing(db, migrator, m.User, "email")
    db.create_tables([m.Schedule], safe=True)


def _one_spelling(db, migrator):
    """Stored values of fields with several spellings get the one of fields.canonical_raw,
    and the hashes follow, so the first reload after the upgrade (which reads that spelling
    from the master) finds unchanged items unchanged. Only rows that change are written."""
    from .fields import SPELLED, canonical_raw
    from .values import content_hash

    spelled = {}
    for tracker_id, perm, code, remote in m.Field.select(
            m.Field.tracker, m.Field.perm_name, m.Field.type, m.Field.remote_type).tuples():
        if (remote or code) in SPELLED:  # a transformed field is spelled as the master's type
            spelled.setdefault(tracker_id, {})[perm] = remote or code
    if not spelled:
        return

    def settle(values, types):
        if not isinstance(values, dict):
            return values
        return {p: canonical_raw(types[p], v) if p in types and isinstance(v, str) and v
                else v for p, v in values.items()}

    with db.atomic():
        for tracker_id, types in spelled.items():
            bases = {b.item_id: b for b in m.Baseline.select().join(m.Item).where(
                m.Item.tracker == tracker_id)}
            for item in m.Item.select().where(m.Item.tracker == tracker_id).iterator():
                _respell(item, bases.get(item.id), types, settle, content_hash)


def _respell(item, base, types, settle, content_hash):
    values = settle(item.values, types)
    new_hash = content_hash(values, item.status)
    base_hash = item.base_hash
    if base is not None:
        base_values, theirs = settle(base.values, types), settle(base.theirs, types)
        base_hash = content_hash(base_values, base.status)
        if (base_values, theirs, base_hash) != (base.values, base.theirs, base.hash):
            m.Baseline.update(values=base_values, theirs=theirs, hash=base_hash).where(
                m.Baseline.id == base.id).execute()
    elif base_hash is not None and base_hash == item.hash:
        base_hash = new_hash  # the item is its own base
    if (values, new_hash, base_hash) != (item.values, item.hash, item.base_hash):
        from .items import search_text

        m.Item.update(values=values, hash=new_hash, base_hash=base_hash,
                      search_text=search_text(values)).where(m.Item.id == item.id).execute()


def _positions(db, migrator):
    table = m.Tracker._meta.table_name
    if "items_epoch" not in {c.name for c in db.get_columns(table)}:
        # Not through the migrator: on SQLite it would rebuild the tracker table to make the
        # column NOT NULL, and dropping the old table cascades to every item.
        db.execute_sql(f"ALTER TABLE {_q(db, table)} ADD COLUMN items_epoch BIGINT NOT NULL "
                       "DEFAULT 0")
        for tracker_id in [row[0] for row in m.Tracker.select(m.Tracker.id).tuples()]:
            m.Tracker.update(items_epoch=m.epoch_start()).where(
                m.Tracker.id == tracker_id).execute()
    dbobjects.install(db)


def _search_pending(db, migrator):
    add_columns_if_missing(db, migrator, m.Tracker, "search_pending_from")
    if isinstance(db, pw.PostgresqlDatabase):  # NULL: not indexed yet (sync/search_index.py)
        db.execute_sql(f'ALTER TABLE {_q(db, m.Item._meta.table_name)} ALTER COLUMN '
                       f'{_q(db, "search_text")} DROP NOT NULL')
    dbobjects.install(db)  # SQLite: triggers that skip pending items; PostgreSQL: their index


def _search_index_partial(db, migrator):
    dbobjects.install(db)  # PostgreSQL: the trigram index made again without the NULL texts


def _changed_items(db, migrator):
    dbobjects.install(db)  # partial indexes of the items changed here, baselines moved there


def _q(db, name):
    return db.quote[0] + name + db.quote[-1]


MIGRATIONS = [
    (1, "users, trackers, fields, items, settings", _core),
    (2, "credentials, baselines, push intents, history, jobs, audit", _sync_state),
    (3, "one active job per tracker (job lock key)", _job_locks),
    (4, "content hashes and the master's conflicting values", _three_way),
    (5, "base hash on the item; baseline rows only where the base differs", _optional_baselines),
    (6, "sign-in throttle; session generation of each user", _sign_in_guards),
    (7, "our clock at the last check of the master (its clock's steps)", _check_clock),
    (10, "schedules of cloned trackers; an email address per user", _schedules),
    (13, "one spelling per field type of stored values, and their hashes", _one_spelling),
    (17, "item positions for deep pages of the master; full-text search index", _positions),
    (19, "full-text index filled after a reload's commit (pending mark)", _search_pending),
    (20, "PostgreSQL: the rows a reload leaves unindexed stay out of the trigram index",
     _search_index_partial),
    (21, "SQLite: indexes of the items changed here, baselines moved there", _changed_items),
]
LATEST = MIGRATIONS[-1][0]


def current_version(db=database):
    if not db.table_exists(SchemaVersion._meta.table_name):
        return None
    row = SchemaVersion.select(pw.fn.MAX(SchemaVersion.version)).scalar()
    return row or 0


def upgrade(db=database, upto=LATEST):
    """Create or upgrade the schema; returns the list of migration names applied."""
    applied = []
    with db.connection_context():
        version = current_version(db)
        if version is None:
            db.create_tables([SchemaVersion])
            if not db.table_exists(m.User._meta.table_name) and upto == LATEST:
                db.create_tables(m.ALL_MODELS)
                dbobjects.install(db)
                dbobjects.search_ready(db)
                dbobjects.positions_tracked(db)
                SchemaVersion.create(version=LATEST, name=f"created at version {LATEST}")
                return ["create schema"]
            version = 0
        migrator = SchemaMigrator.from_database(db)
        for number, name, step in MIGRATIONS:
            if version < number <= upto:
                step(db, migrator)
                SchemaVersion.create(version=number, name=name)
                applied.append(name)
        dbobjects.search_ready(db)  # asked now rather than during the first page
        dbobjects.positions_tracked(db)
    return applied

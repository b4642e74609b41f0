"""The item list's sync-state filter as one SQL condition, and the header badge's count
(issue 17).

Which of a clone's items are new here, modified here, in conflict, deleted on the master or in
sync, as a condition on Item that a page's query carries: the items in a state are a subquery,
not a list of ids, since a database takes only so many parameters (SQLite's
SQLITE_MAX_VARIABLE_NUMBER, PostgreSQL's 65,535) and a clone may hold more changed items.

The judgement is status.classify()'s, written in SQL: only items changed here (hash !=
base_hash, each with its Baseline row) can be modified, in conflict or deleted on the master;
a field is in conflict when mine, base and theirs all differ, changed here when only mine
differs from base (values.three_way, on the stored values: every value is a string, a missing
one ""). The badge reads the items changed both here and on the master, judged in Python.
"""
import contextlib
import functools
import operator

import peewee as pw

from ..db import database, is_mysql, is_sqlite
from ..item_search import id_range
from ..models import Baseline, Field, Item
from ..remote import exportfmt
from . import status
from .incoming import synced_perms
from .status import STATES


def condition(tracker, state, perms):
    """The items of `tracker` (a clone whose synchronized fields are `perms`) in `state`, as a
    condition on Item, for a query kept to the tracker's items."""
    if state not in STATES:
        raise ValueError(f"unknown sync state {state!r}")
    if state == "new":
        return Item.remote_id.is_null()
    if state == "in_sync":
        return in_sync(tracker, perms)[0]
    return Item.id.in_(_compiled(_with_base(tracker, perms, (state,))))


def in_sync(tracker, perms):
    """(condition, others) of `tracker`'s items in sync. `others(whole)` counts the items of
    `whole` (the list's query without the filter) that are not: the new ones (the tracker's
    index on remote_id), and those changed here, each found by its id from their Baseline
    rows (few); the list takes them from its (remembered) count rather than read every
    unchanged item (items.list_items `excluded`)."""
    moved = _compiled(_with_base(tracker, perms, ("modified", "conflict", "deleted_on_master")))
    synced = Item.remote_id.is_null(False)

    def others(whole):
        # Without statistics SQLite would walk the tracker's index and look each item up in
        # the subquery's list; NOT INDEXED leaves it the lookups by id.
        led = whole.from_(pw.NodeList((Item, pw.SQL("NOT INDEXED")))) if is_sqlite() else whole
        return (whole.where(Item.remote_id.is_null()).count()
                + led.where(synced & Item.id.in_(moved)).count())

    return synced & Item.id.not_in(moved), others


@contextlib.contextmanager
def led_by_changes():
    """Around the statements that carry condition(), read the badge's items or a page's
    states: PostgreSQL is kept from hash and merge joins there, in one transaction. Its cost
    model would rather read every item (or Baseline row) of the table to hash them against
    the few rows wanted (0.8 s at 200,000 items) than look each of those up by id, which the
    plan then does. SQLite keeps to the written join order (CROSS JOIN); MariaDB looks up by
    index anyway."""
    if is_sqlite() or is_mysql():
        yield
        return
    with database.atomic():
        database.execute_sql("SET LOCAL enable_hashjoin = off")
        database.execute_sql("SET LOCAL enable_mergejoin = off")
        yield


def _compiled(query):
    """`query` made SQL text once: the list's count and its page both carry it, and a field's
    comparisons are many nodes for peewee to walk."""
    sql, params = database.get_sql_context().sql(query).query()
    return pw.SQL(f"({sql})", params)


def _with_base(tracker, perms, states):
    """SELECT of the ids of `tracker`'s items that have a Baseline row and are in one of
    `states` (modified, conflict, deleted_on_master)."""
    mine = Item.alias("mine")
    columns = [Baseline.item.alias("item"), Baseline.deleted_on_master.alias("gone")]
    for n, (m, b, t) in enumerate(_compared(mine, perms)):
        columns += [m.alias(f"m{n}"), b.alias(f"b{n}"), t.alias(f"t{n}")]
    # The items changed here, each field's three values read once (a derived table: the
    # conditions below name them rather than repeat the expressions). An item whose hash is
    # its base's holds the base's values, so no field of it is changed here or in conflict:
    # classify() reads it when the master moved, and finds it in sync. Led by the Baseline
    # rows (few) within the tracker's id range, each item then found by its id: CROSS JOIN
    # keeps SQLite to that order (without statistics it would rather walk every item of the
    # tracker); the others take it as the inner join it is. The caller keeps to the tracker.
    moved = (Baseline.select(*columns).join(mine, pw.JOIN.CROSS)
             .where(Baseline.item == mine.id, id_range(tracker, Baseline.item),
                    mine.hash != mine.base_hash)
             .alias("moved"))
    triples = [(moved.c[f"m{n}"], moved.c[f"b{n}"], moved.c[f"t{n}"])
               for n in range(len(perms) + 1)]
    conflict = _any([(m != b) & (t != b) & (m != t) for m, b, t in triples])
    local = _any([(m != b) & (t == b) for m, b, t in triples])
    gone = moved.c.gone == True  # noqa: E712
    wanted = {
        "deleted_on_master": gone,
        "conflict": ~gone & conflict,
        "modified": ~gone & ~conflict & local,
    }
    return pw.Select([moved], [moved.c.item]).where(_any([wanted[s] for s in states]))


def _compared(mine, perms):
    """[(mine, base, theirs)] SQL values of each synchronized field, then of the status."""
    found = []
    for perm in perms:
        base = _text(Baseline.values[perm].as_text())
        theirs = pw.Case(None, [(Baseline.theirs.is_null(), base)],
                         _text(Baseline.theirs[perm].as_text()))
        found.append((_text(mine.values[perm].as_text()), base, theirs))
    base_status = _status(Baseline.status, "o")
    found.append((_status(mine.status, "o"), base_status,
                  _status(Baseline.theirs_status, base_status)))
    return found


def _text(value):
    """A field's value as compared: a missing one is "", and equal means the same characters
    (MariaDB's default collation would take "Mine" for "mine")."""
    value = pw.fn.COALESCE(value, "")
    return pw.Cast(value, "BINARY") if is_mysql() else value


def _status(column, otherwise):
    return pw.fn.COALESCE(pw.fn.NULLIF(column, ""), otherwise)


def _any(conditions):
    return functools.reduce(operator.or_, conditions) if conditions else pw.SQL("1 = 0")


def waiting_to_resolve(trackers):
    """{tracker id: items waiting for someone to resolve them} of the clones `trackers`: in
    conflict, or deleted on the master and changed here. Two queries for them all (and one
    for the fields of those with such items), reading only the items changed both here
    (hash != base_hash: a conflict needs a change here) and on the master (what it holds, or
    its deletion, kept in the Baseline row); each is judged as classify() does."""
    found = {}
    for tracker_id, state in _judged(trackers, Baseline.theirs_status.is_null(False) |
                                     Baseline.theirs.is_null(False)):
        if state in ("conflict", "deleted_on_master"):
            found[tracker_id] = found.get(tracker_id, 0) + 1
    return found


def counts(trackers):
    """{tracker id: {"new", "modified", "conflicts", "deleted_on_master": how many}} of the
    clones `trackers`, the numbers of classify()'s lists (the dashboard's local work), in
    three queries for them all however many and large they are: the new items (the index on
    the tracker and remote_id), and the items changed here, judged as classify() does (an
    item the master alone moved is in sync)."""
    by_id = {t.id: t for t in trackers}
    found = {i: {"new": 0, "modified": 0, "conflicts": 0, "deleted_on_master": 0}
             for i in by_id}
    if not by_id:
        return found
    for tracker_id, n in (Item.select(Item.tracker, pw.fn.COUNT(Item.id))
                          .where(Item.tracker.in_(list(by_id)), Item.remote_id.is_null())
                          .group_by(Item.tracker).tuples()):
        found[tracker_id]["new"] = n
    named = {"conflict": "conflicts"}
    for tracker_id, state in _judged(trackers):
        if state != "in_sync":
            found[tracker_id][named.get(state, state)] += 1
    return found


def _judged(trackers, moved=None):
    """[(tracker id, state)] of the items of the clones `trackers` changed here, each with
    its Baseline row (and meeting `moved`, a condition on it), judged as classify() does. Two
    queries for them all (and one for the fields of those with such items)."""
    by_id = {t.id: t for t in trackers}
    if not by_id:
        return []
    # Led by the Baseline rows, as _with_base is: no condition on the item's tracker (a
    # planner would walk the clones' items by it; only synchronized items have a Baseline
    # row, and those of other trackers are left out below), CROSS JOIN for SQLite.
    mine = [Item.id, Item.tracker, Item.values, Item.status, Item.hash, Item.base_hash]
    wanted = [Baseline.item == Item.id, Item.hash != Item.base_hash]
    if moved is not None:
        wanted.append((Baseline.deleted_on_master == True) | moved)  # noqa: E712
    with led_by_changes():
        rows = list(Baseline.select(Baseline, *[f.alias(f"mine_{f.name}") for f in mine])
                    .join(Item, pw.JOIN.CROSS).objects().where(*wanted))
    for base in rows:  # the item, as the rest of the row
        base.mine = Item(**{f.name: getattr(base, f"mine_{f.name}") for f in mine})
    rows = [base for base in rows if base.mine.tracker_id in by_id]
    fields = {}
    if rows:
        for field in (Field.select().where(Field.tracker.in_({r.mine.tracker_id for r in rows}))
                      .order_by(Field.position, Field.id)):
            fields.setdefault(field.tracker_id, []).append(field)
    judged, perms = [], {}
    for base in rows:
        tracker = by_id[base.mine.tracker_id]

        def perms_of(tracker=tracker):  # status.perms_of, from the fields read above
            if tracker.id not in perms:
                remote = exportfmt.parse(tracker.remote_schema or "")
                perms[tracker.id] = [p for p, _ in synced_perms(
                    _Read(fields.get(tracker.id, [])), remote)]
            return perms[tracker.id]

        judged.append((tracker.id, status.judged_state(base.mine, base, perms_of).state))
    return judged


class _Read:
    """A tracker's fields, read beforehand, where synced_perms asks the tracker for them."""

    def __init__(self, fields):
        self.fields = fields

    def ordered_fields(self):
        return self.fields

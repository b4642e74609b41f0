"""Which local items differ from the master, and how (DESIGN §4.1).

Nothing here compares two machines' clocks. The master's own clock (its HTTP Date header)
only narrows which remote items to fetch (`modifiedSince`, minus a margin); what changed is
decided by comparing values with each item's baseline, field by field.
"""
from __future__ import annotations

import functools
import json
import time
from datetime import UTC, datetime
from typing import NamedTuple

import orjson
import peewee as pw

from .. import dbobjects
from ..db import is_mysql, is_sqlite, write_transaction
from ..fields import normalize_raw
from ..models import Baseline, Item, Tracker
from ..remote import exportfmt
from ..remote.client import TikiClient
from ..values import STATUS_KEY, three_way
from . import bulk
from .incoming import digest, prefetch, project, stored_text, synced_perms

MARGIN = 120  # seconds taken off the master's clock: requests in flight, clocks in seconds


def window_start(remote_clock: int | None, local_at: int | None, master_now: int | None,
                 margin: int = MARGIN) -> int | None:
    """The `modifiedSince` that shows every change made on the master since its clock read
    `remote_clock` (our clock then read `local_at`), whatever its clock did meanwhile: the
    margin, widened by however far the master's clock now (`master_now`) is behind where it
    would be had it run on with ours (a step back; our own clock stepping forward only widens
    it more). None, to read everything, when there is no clock to start from."""
    if remote_clock is None:
        return None
    start = remote_clock - margin
    if master_now is not None:
        elapsed = max(0, int(time.time()) - local_at) if local_at else 0
        behind = remote_clock + elapsed - master_now
        if behind > 0:
            start -= behind
    return max(0, int(start))


def tracker_window(tracker: Tracker, master_now: int | None) -> int | None:
    """window_start from the tracker's last check (or reload) of its master."""
    since = tracker.remote_clock_at_check or tracker.remote_clock_at_reload
    return window_start(since, tracker.checked_at or tracker.last_reload_at, master_now)


def perms_of(tracker: Tracker) -> list[str]:
    """permNames of the tracker's fields that the master has too (as last adopted)."""
    return [p for p, _ in synced_perms(tracker, exportfmt.parse(tracker.remote_schema or ""))]


def verdicts_for(item_values: dict | None, item_status: str | None, base: Baseline,
                 perms: list[str]) -> dict[str, str]:
    """Field verdicts of one item against its Baseline row (see values.three_way)."""
    theirs = base.theirs if base.theirs is not None else base.values
    theirs_status = base.theirs_status or base.status
    return three_way(item_values, base.values, theirs, perms, item_status, base.status,
                     theirs_status)


def classify(tracker: Tracker) -> dict[str, list[int]]:
    """{"new", "modified", "conflicts", "deleted_on_master"}: lists of local item ids."""
    perms = perms_of(tracker)
    new = [i for (i,) in Item.select(Item.id).where(Item.tracker == tracker,
                                                     Item.remote_id.is_null())
           .order_by(Item.id).tuples()]
    modified, conflicts, deleted = [], [], []
    for row in _moved(tracker.id):
        item_id, values, status, item_hash, base_hash, base_values, base_status, theirs, \
            theirs_status, deleted_on_master = row
        if deleted_on_master:
            if item_hash != base_hash:
                deleted.append(item_id)
            continue
        verdict = _worst(perms, _json(values), status, _json(base_values), base_status,
                         _json(theirs) if theirs is not None else None, theirs_status)
        if verdict == "conflict":
            conflicts.append(item_id)
        elif verdict == "local":
            modified.append(item_id)
    return {"new": new, "modified": modified, "conflicts": conflicts,
            "deleted_on_master": deleted}


def _moved(tracker_id: int) -> list[tuple]:
    """The items of a tracker changed here (hash != base_hash) or where the master moved, with
    their Baseline row (items.materialize writes one before an item first moves), in id order:
    (id, values, status, hash, base_hash, base values, base status, theirs, theirs status,
    deleted on the master), JSON as the driver returns it. What grows with the tracker's
    size is never read: SQLite reads two partial indexes (dbobjects.CHANGED_INDEX,
    MOVED_INDEX: the tracker's edits and what the master moved); the others lead with the
    Baseline table, which holds rows only for items that ever moved away from their base."""
    if is_sqlite():
        return _moved_sqlite(tracker_id)
    i, b = bulk.columns(Item, "i"), bulk.columns(Baseline, "b")
    p = bulk.param()
    item, text = f"{i}", "{}"
    if not is_mysql():
        # PostgreSQL's planner would rather walk the item table's primary key beside the
        # sorted baselines (a merge join, up to the highest edited id): the item is a LATERAL
        # subquery that OFFSET 0 keeps from being flattened into the join, found by its key;
        # jsonb read as text (orjson parses it faster).
        item = (f"LATERAL (SELECT {i.id}, {i.values}, {i.status}, {i.hash}, {i.base_hash}, "
                f"{i.tracker} FROM {i} WHERE {i.id} = {b.item} OFFSET 0) i")
        text = "{}::text"
    return bulk.select(
        f"SELECT {i.id}, {text.format(i.values)}, {i.status}, {i.hash}, {i.base_hash}, "
        f"{text.format(b.values)}, {b.status}, {text.format(b.theirs)}, {b.theirs_status}, "
        f"{b.deleted_on_master} "
        f"FROM {b} CROSS JOIN {item} WHERE {i.id} = {b.item} AND {i.tracker} = {p} "
        f"AND ({i.hash} <> {i.base_hash} OR {b.theirs_status} IS NOT NULL "
        f"OR {b.deleted_on_master} = {p}) ORDER BY {i.id}", [tracker_id, True])


def _moved_sqlite(tracker_id: int) -> list[tuple]:
    """_moved on SQLite: the two partial indexes, named, their WHERE clauses word for word
    (SQLite uses a partial index only then); a baseline finds its item by primary key (a
    CROSS JOIN keeps that order)."""
    i, b = bulk.columns(Item, "i"), bulk.columns(Baseline, "b")
    columns = (f"{i.id}, {i.values}, {i.status}, {i.hash}, {i.base_hash}, {b.values}, "
               f"{b.status}, {b.theirs}, {b.theirs_status}, {b.deleted_on_master}")
    rows = bulk.select(
        f"SELECT {columns} FROM {i} INDEXED BY {dbobjects.CHANGED_INDEX} "
        f"JOIN {b} ON {b.item} = {i.id} WHERE {i.tracker} = ? AND {i.hash} <> {i.base_hash} "
        f"UNION ALL SELECT {columns} FROM {b} INDEXED BY {dbobjects.MOVED_INDEX} "
        f"CROSS JOIN {i} WHERE {i.id} = {b.item} "
        f"AND ({b.theirs_status} IS NOT NULL OR {b.deleted_on_master}) AND {i.tracker} = ?",
        [tracker_id, tracker_id])
    return sorted({row[0]: row for row in rows}.values(), key=lambda row: row[0])


def _json(value):
    """A JSON column as the driver returns it (text, or already decoded) as Python."""
    if not isinstance(value, str | bytes):
        return value
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:  # what orjson refuses (a lone surrogate's escape)
        return json.loads(value)


def _worst(perms, mine, mine_status, base, base_status, theirs, theirs_status):
    """"conflict" if any field (or the status) is in conflict, else "local" if any changed here
    only, else None: what classify needs of verdicts_for, without building its dict. Values
    that are text compare as they are (values.get normalises only what is not)."""
    if theirs is None:
        theirs = base
    theirs_status = theirs_status or base_status
    local = False
    mine, base, theirs = mine or {}, base or {}, theirs or {}
    for perm in perms:
        m, b, t = mine.get(perm, ""), base.get(perm, ""), theirs.get(perm, "")
        if type(m) is not str:
            m = normalize_raw(m)
        if type(b) is not str:
            b = normalize_raw(b)
        if type(t) is not str:
            t = normalize_raw(t)
        if m == b or m == t:
            continue  # unchanged here, or both changed it the same way
        if t != b:
            return "conflict"
        local = True
    if base_status is not None:
        m, b, t = mine_status or "o", base_status or "o", theirs_status or "o"
        if m != b and m != t:
            if t != b:
                return "conflict"
            local = True
    return "local" if local else None


class ItemState(NamedTuple):
    """Where one item stands against its master: `state` is one of STATES; `fields` are the
    permNames (STATUS_KEY for the status) in conflict, or else changed here."""
    state: str
    fields: list


# What an item of a clone can be, in the order the item list's filter offers them.
STATES = ("new", "modified", "conflict", "deleted_on_master", "in_sync")


def item_state(item: Item, tracker: Tracker) -> ItemState:
    """The sync state of one item of a clone, from hashes and its Baseline (no network); the
    same judgement as classify(), so the item page and the sync tab never disagree."""
    if item.remote_id is None:
        return ItemState("new", [])
    base = Baseline.get_or_none(Baseline.item == item.id)
    return judged_state(item, base, lambda: perms_of(tracker))


def judged_state(item: Item, base: Baseline | None, perms) -> ItemState:
    """item_state of a synchronized item and its Baseline row (None: its own base); `perms`
    gives the compared permNames when they are needed (called at most once)."""
    if base is None:  # its own base: changed here only if the hashes differ, which needs a row
        return ItemState("in_sync", [])
    if base.deleted_on_master:
        changed = item.hash != item.base_hash
        return ItemState("deleted_on_master" if changed else "in_sync", [])
    verdicts = verdicts_for(item.values, item.status, base, perms())
    conflicts = [p for p, v in verdicts.items() if v == "conflict"]
    if conflicts:
        return ItemState("conflict", conflicts)
    local = [p for p, v in verdicts.items() if v == "local"]
    return ItemState("modified", local) if local else ItemState("in_sync", [])


def states_by_item(tracker: Tracker, ids) -> dict[int, str]:
    """item id -> state of those of `ids` (items of `tracker` a page shows) that are not in
    sync, in one query bounded by those ids, whatever the tracker's size. Only items new here,
    changed here or where the master moved are judged (classify's, with its judgement)."""
    ids = list(ids)
    if not ids:
        return {}
    found, tracker_perms = {}, functools.cache(lambda: perms_of(tracker))
    query = (Item.select(Item.id, Item.remote_id, Item.values, Item.status, Item.hash,
                         Item.base_hash, Baseline)
             # The ids alone bound the query (they are the tracker's: no condition on it
             # that a planner might rather walk); each Baseline row found by its item's id
             # (item_states.led_by_changes keeps PostgreSQL to that).
             .join(Baseline, pw.JOIN.LEFT_OUTER)
             .where(Item.id.in_(ids),
                    Item.remote_id.is_null() | (Item.hash != Item.base_hash) |
                    Baseline.theirs_status.is_null(False) |
                    (Baseline.deleted_on_master == True)))  # noqa: E712
    for item in query:
        if item.remote_id is None:
            found[item.id] = "new"
            continue
        base = item.baseline if getattr(item.baseline, "id", None) is not None else None
        state = judged_state(item, base, tracker_perms).state
        if state != "in_sync":
            found[item.id] = state
    return found


class _Known(NamedTuple):
    """A local copy of a remote item, as check_remote reads it."""
    item_id: int
    remote_id: int
    base_hash: str | None
    remote_modified: int | None
    base_id: int | None  # None: the item is its own base (no Baseline row)
    theirs_status: str | None


def check_remote(tracker: Tracker, client: TikiClient) -> dict:
    """Record what changed on the master since the last check, without downloading it all.

    Remote items modified since the previous check (tracker_window: the master's clock then,
    less a margin, and less however far its clock has gone back since) are compared with
    their baselines; where the master holds something else, the baseline keeps it as "theirs"
    (the sync tab judges it; the next reload takes it). Returns counts.
    """
    tracker = type(tracker).get_by_id(tracker.id)  # the caller's copy may predate a reload
    if (tracker.remote_clock_at_check or tracker.remote_clock_at_reload) is None:
        raise ValueError(f"tracker {tracker.id} was never reloaded: reload it first")
    checked_at = int(time.time())
    export, remote_fields = client.export_fields(tracker.remote_tracker_id)
    clock = client.last_server_time
    synced = synced_perms(tracker, remote_fields)
    seen = changed = 0
    items = client.iter_items(tracker.remote_tracker_id,
                              modified_since=tracker_window(tracker, clock))
    for page in prefetch(items, 1000):
        seen += len(page)
        known = _known(tracker.id, [r["itemId"] for r in page])
        updates, rows_needed = [], {}
        for remote in page:
            row = known.get(remote["itemId"])
            if row is None:
                continue  # new on the master: the next reload brings it
            stamp = remote.get("lastModif")
            if stamp is not None and stamp == row.remote_modified and row.theirs_status is None:
                continue  # our own master's lastModif is exact: not touched since
            values, status = project(remote["fields"], synced), remote.get("status") or "o"
            if digest(values, status) == row.base_hash:
                if row.theirs_status is not None:
                    updates.append((None, None, stamp, row.base_id))
                continue
            changed += 1
            theirs = stored_text(values)
            if row.base_id is None:
                rows_needed[row.item_id] = (theirs, status, stamp)
            else:
                updates.append((theirs, status, stamp, row.base_id))
        with write_transaction():
            updates += _write_bases(rows_needed)
            bulk.update_rows(Baseline, ["theirs", "theirs_status", "remote_modified"], updates)
    type(tracker).update(remote_clock_at_check=clock, checked_at=checked_at).where(
        type(tracker).id == tracker.id).execute()
    return {"checked": seen, "changed_on_master": changed}


def _known(tracker_id: int, remote_ids: list[int]) -> dict[int, _Known]:
    """{remote id: _Known} of the local copies of `remote_ids` (one page of the master's)."""
    if not remote_ids:
        return {}
    i, b = bulk.columns(Item, "i"), bulk.columns(Baseline, "b")
    rows = bulk.select(
        f"SELECT {i.id}, {i.remote_id}, {i.base_hash}, {i.remote_modified}, {b.id}, "
        f"{b.theirs_status} FROM {i} LEFT OUTER JOIN {b} ON {b.item} = {i.id} "
        f"WHERE {i.tracker} = {bulk.param()} AND {i.remote_id} IN "
        f"({bulk.params(len(remote_ids))})", [tracker_id, *remote_ids])
    return {r.remote_id: r for r in map(_Known._make, rows)}


def _write_bases(theirs_of: dict[int, tuple]) -> list[tuple]:
    """Baseline rows for items that were their own base and that the master moved away from:
    the item's values as the base, beside what the master holds (`theirs_of`: item id ->
    (theirs text, status, lastModif)), a page in one INSERT (items.materialize's row, with
    theirs at once). An item given a row meanwhile (an edit here) keeps it: returned as
    updates for bulk.update_rows, as check_remote writes theirs onto rows that exist."""
    if not theirs_of:
        return []
    i, b = bulk.columns(Item, "i"), bulk.columns(Baseline, "b")
    ids = list(theirs_of)
    rows = bulk.select(
        f"SELECT {i.id}, {i.values}, {i.status}, {i.base_hash}, {b.id} FROM {i} "
        f"LEFT OUTER JOIN {b} ON {b.item} = {i.id} WHERE {i.id} IN ({bulk.params(len(ids))})"
        f" AND {i.remote_id} IS NOT NULL AND {i.base_hash} IS NOT NULL", ids)
    fetched, inserts, updates = int(time.time()), [], []
    for item_id, values, status, base_hash, base_id in rows:
        theirs, theirs_status, stamp = theirs_of[item_id]
        if base_id is not None:
            updates.append((theirs, theirs_status, stamp, base_id))
            continue
        values = values if isinstance(values, str) else stored_text(values or {})
        inserts.append((item_id, values, status, base_hash, fetched, stamp, False, theirs,
                        theirs_status))
    bulk.insert_rows(Baseline, ["item", "values", "status", "hash", "fetched_at",
                                "remote_modified", "deleted_on_master", "theirs",
                                "theirs_status"], inserts)
    return updates


def last_reload_iso(tracker: Tracker) -> str | None:
    if not tracker.last_reload_at:
        return None
    return datetime.fromtimestamp(tracker.last_reload_at, tz=UTC).isoformat()


def status(tracker: Tracker, client: TikiClient | None = None) -> dict:
    """The CLI's `status`: check the master (when a client is given), then classify."""
    checked = check_remote(tracker, client) if client is not None else None
    result = classify(tracker)
    result["last_reload"] = last_reload_iso(tracker)
    if checked is not None:
        result["checked"] = checked
    return result


def field_table(item: Item, perms: list[str]) -> list[dict]:
    """Rows for the three-way view: perm, base, mine, theirs, verdict, is_status; one per field
    of `perms`, then the item status (its "perm" is values.STATUS_KEY, never a permName)."""
    base = item.baseline
    theirs = base.theirs if base.theirs is not None else base.values
    verdicts = verdicts_for(item.values, item.status, base, perms)
    rows = [{"perm": perm, "base": (base.values or {}).get(perm, ""),
             "mine": (item.values or {}).get(perm, ""), "theirs": (theirs or {}).get(perm, ""),
             "verdict": verdicts.get(perm, ""), "is_status": False} for perm in perms]
    rows.append({"perm": STATUS_KEY, "base": base.status, "mine": item.status,
                 "theirs": base.theirs_status or base.status,
                 "verdict": verdicts.get(STATUS_KEY, ""), "is_status": True})
    return rows

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

import peewee as pw

from ..db import write_transaction
from ..items import materialize
from ..models import Baseline, Item, Tracker
from ..remote import exportfmt
from ..remote.client import TikiClient
from ..values import STATUS_KEY, content_hash, three_way
from . import bulk
from .incoming import prefetch, project, synced_perms

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
    # Only items changed here (hash != base_hash), or where the master moved, are looked at;
    # every such item has its Baseline row (items.materialize).
    query = (Item.select(Item.id, Item.values, Item.status, Item.hash, Item.base_hash, Baseline)
             .join(Baseline)
             .where(Item.tracker == tracker,
                    (Item.hash != Item.base_hash) | Baseline.theirs_status.is_null(False) |
                    (Baseline.deleted_on_master == True))  # noqa: E712
             .order_by(Item.id))
    modified, conflicts, deleted = [], [], []
    for item in query:
        base = item.baseline
        if base.deleted_on_master:
            if item.hash != item.base_hash:
                deleted.append(item.id)
            continue
        verdicts = verdicts_for(item.values, item.status, base, perms)
        if "conflict" in verdicts.values():
            conflicts.append(item.id)
        elif "local" in verdicts.values():
            modified.append(item.id)
    return {"new": new, "modified": modified, "conflicts": conflicts,
            "deleted_on_master": deleted}


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
        ids = [r["itemId"] for r in page]
        rows = (Item.select(Item.id, Item.remote_id, Item.base_hash, Item.remote_modified,
                            Baseline.id, Baseline.theirs_status)
                .join(Baseline, pw.JOIN.LEFT_OUTER)
                .where(Item.tracker == tracker, Item.remote_id.in_(ids)).tuples())
        known = {r.remote_id: r for r in map(_Known._make, rows)}
        updates, rows_needed = [], []
        for remote in page:
            row = known.get(remote["itemId"])
            if row is None:
                continue  # new on the master: the next reload brings it
            stamp = remote.get("lastModif")
            if stamp is not None and stamp == row.remote_modified and row.theirs_status is None:
                continue  # our own master's lastModif is exact: not touched since
            values, status = project(remote["fields"], synced), remote.get("status") or "o"
            if content_hash(values, status) == row.base_hash:
                if row.theirs_status is not None:
                    updates.append((None, None, stamp, row.base_id))
                continue
            changed += 1
            theirs = json.dumps(values, ensure_ascii=False)
            if row.base_id is None:
                rows_needed.append((row.item_id, theirs, status, stamp))
            else:
                updates.append((theirs, status, stamp, row.base_id))
        with write_transaction():
            for item_id, theirs, status, stamp in rows_needed:
                # The item was its own base: keep that base in a row beside what they hold.
                row = materialize(Item.get_by_id(item_id))
                updates.append((theirs, status, stamp, row.id))
            bulk.update_rows(Baseline, ["theirs", "theirs_status", "remote_modified"], updates)
    type(tracker).update(remote_clock_at_check=clock, checked_at=checked_at).where(
        type(tracker).id == tracker.id).execute()
    return {"checked": seen, "changed_on_master": changed}


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

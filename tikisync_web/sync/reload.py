"""Reload from source (DESIGN §4.2): stream every remote page, apply in ONE transaction.

Tiki empties the local tracker, then refills it page by page (W5): a failure leaves it empty
and local work is lost. Here a failure anywhere (remote error, timeout, bad page, the process
killed) rolls the whole reload back; local ids stay; items created locally are kept; items
edited locally keep their values while fields the master alone changed are merged in, and
fields both sides changed are kept as conflicts for the sync tab. The next pages are fetched
in threads while the current one is stored, and only three pages are held at a time.

Speed (bench/reload.py): the reload's own CPU is what is left once the master has answered,
so the per-item path avoids the ORM: one raw SELECT per batch (none on a first reload), values
used as they come when they are exactly the synchronized fields, encoded and hashed by orjson,
multi-row INSERTs, and the ids seen kept in a compact IdSet (memory does not grow with the
tracker). Pages are asked for AHEAD at a time, so a master that serves requests in parallel
prepares the next ones side by side. The items it adds are indexed for search after the
commit (search_index.py), found by a scan of their text until then.
"""
from __future__ import annotations

import json
import time
from contextlib import closing
from typing import NamedTuple

import peewee as pw

from .. import audit
from ..db import write_transaction
from ..items import materialize, next_modified, search_text
from ..models import STATUSES, Baseline, Item, Tracker
from ..remote.client import TikiClient
from ..remote.idset import IdSet
from ..values import STATUS_KEY, content_hash, three_way
from . import bulk, search_index
from .incoming import digest, project, searchable, stored_text, synced_perms
from .schema import drift

BATCH = 1000
PAGE_SIZE = 2000
AHEAD = 2  # pages asked for at once, once the master has sent a full one
INSERTED = ["tracker", "status", "values", "search_text", "remote_id", "hash", "base_hash",
            "remote_modified", "created", "modified", "created_by", "modified_by"]


class ReloadError(Exception):
    """The reload stopped; nothing was changed."""


class LocalCopy(NamedTuple):
    """The local copy of a remote item, as `_Reload._existing` reads it (no values)."""
    item_id: int
    remote_id: int
    hash: str
    modified: int
    base_hash: str | None  # None: created here, never synchronized
    base_id: int | None  # None: the item is its own base (no Baseline row)
    deleted_on_master: bool | None
    theirs_status: str | None  # set: the master held something else at the last check


class Incoming(NamedTuple):
    """A remote item that changes its local copy."""
    local: LocalCopy
    remote: dict
    values: dict  # projected onto the synchronized fields
    status: str


class Stored(NamedTuple):
    """The stored values of an item that changes, and of its Baseline (None when none)."""
    values: dict
    status: str
    base_values: dict | None
    base_status: str | None
    theirs: dict | None
    theirs_status: str | None


class Unseen(NamedTuple):
    """A synchronized local item the master did not list."""
    item_id: int
    hash: str
    base_hash: str | None
    base_id: int | None


class _Null:
    """Progress reported nowhere (a reload without a job)."""

    def total(self, *_args, **_kw):
        pass

    def step(self, *_args, **_kw):
        pass


class _Reload:
    def __init__(self, tracker, synced, username, stamp):
        self.tracker, self.synced, self.username, self.stamp = tracker, synced, username, stamp
        self.perms = [p for p, _ in synced]
        # An item whose fields are exactly these, none of them blank, is stored as it comes.
        self.exact = () if any(blank for _, blank in synced) else frozenset(self.perms)
        self.seen = IdSet()
        self.first = None  # no synchronized item here before this reload: nothing to match
        self.deferred = False  # search_index.begin done: new items are indexed after the commit
        self.text_now = search_index.text_now()  # else new items' search text is made later
        self.counts = dict(fetched=0, added=0, updated=0, unchanged=0, deleted=0,
                           kept_local_new=0, kept_local_modified=0, deleted_on_master=0)

    def _existing(self, remote_ids):
        """{remote id: LocalCopy} of the local copies of `remote_ids`."""
        if self.first is None:  # asked inside the reload's transaction
            self.first = not Item.select().where(Item.tracker == self.tracker,
                                                 Item.remote_id.is_null(False)).exists()
        if self.first or not remote_ids:
            return {}
        i, b = bulk.columns(Item, "i"), bulk.columns(Baseline, "b")
        rows = bulk.select(
            f"SELECT {i.id}, {i.remote_id}, {i.hash}, {i.modified}, {i.base_hash}, {b.id}, "
            f"{b.deleted_on_master}, {b.theirs_status} FROM {i} LEFT OUTER JOIN {b} "
            f"ON {b.item} = {i.id} WHERE {i.tracker} = {bulk.param()} "
            f"AND {i.remote_id} IN ({bulk.params(len(remote_ids))})",
            [self.tracker.id, *remote_ids])
        return {r.remote_id: r for r in map(LocalCopy._make, rows)}

    def apply(self, batch):
        self.counts["fetched"] += len(batch)
        existing = self._existing([remote["itemId"] for remote in batch])
        synced, exact, tracker_id = self.synced, self.exact, self.tracker.id
        text_now = self.text_now
        stamp, username = self.stamp, self.username
        inserts, plain, merges = [], [], []
        unchanged = 0
        for remote in batch:
            values = remote["fields"]  # text values (the client's promise)
            if values.keys() != exact:  # more or fewer fields, or header/static text
                values = project(values, synced)
            status = remote.get("status")
            if status not in STATUSES:
                status = "o"
            hashed = digest(values, status)
            local = existing.get(remote["itemId"]) if existing else None
            if local is None:
                # A new copy is its own base: base_hash = hash, and no Baseline row.
                inserts.append((tracker_id, status, stored_text(values),
                                searchable(values) if text_now else None,
                                remote["itemId"], hashed, hashed, remote.get("lastModif"),
                                stamp, stamp, "", username))
                continue
            base_hash = local.base_hash
            if base_hash is None or local.hash == base_hash:  # not edited here
                if hashed == base_hash and (local.base_id is None or (
                        not local.deleted_on_master and local.theirs_status is None)):
                    unchanged += 1
                else:
                    plain.append(Incoming(local, remote, values, status))
            else:
                merges.append(Incoming(local, remote, values, status))
        self.counts["unchanged"] += unchanged
        if inserts:
            if not self.deferred:
                search_index.begin(self.tracker)
                self.deferred = True
            bulk.insert_rows(Item, INSERTED, inserts)
            self.counts["added"] += len(inserts)
        self._update_plain(plain)
        self._merge(merges)

    def _stored(self, changes):
        """{item id: Stored} of the items of `changes` (only items that change are read)."""
        query = (Item.select(Item.id, Item.values, Item.status, Baseline.values, Baseline.status,
                             Baseline.theirs, Baseline.theirs_status)
                 .join(Baseline, pw.JOIN.LEFT_OUTER)
                 .where(Item.id.in_([c.local.item_id for c in changes])).tuples())
        return {r[0]: Stored._make(r[1:]) for r in query}

    def _update_plain(self, plain):
        """Items not edited here: they become what the master holds."""
        if not plain:
            return
        stored = self._stored(plain)
        item_rows, stale_rows = [], []
        for local, remote, values, status in plain:
            mine = dict(stored[local.item_id].values or {})
            mine.update(values)  # fields the master does not have keep their local value
            mine_hash = content_hash(mine, status)
            # The item becomes what the master holds and is its own base again.
            item_rows.append((json.dumps(mine, ensure_ascii=False), search_text(mine),
                              mine_hash, mine_hash, remote.get("lastModif"), status,
                              next_modified(local.modified), self.username, local.item_id))
            if local.base_id is not None:
                stale_rows.append(local.base_id)
        bulk.update_rows(Item, ["values", "search_text", "hash", "base_hash", "remote_modified",
                                "status", "modified", "modified_by"], item_rows)
        bulk.delete_ids(Baseline, stale_rows)
        self.counts["updated"] += len(plain)

    def _merge(self, merges):
        """Items edited here: take what only the master changed, keep conflicts for later."""
        if not merges:
            return
        stored = self._stored(merges)
        item_rows, base_rows, new_bases, base_moves = [], [], [], []
        for change in merges:
            local, lastmod = change.local, change.remote.get("lastModif")
            merged = _merged(stored[local.item_id], change, self.perms)
            base_hash = content_hash(merged.base, merged.base_status)
            if merged.taken:
                mine = merged.mine
                item_rows.append((json.dumps(mine, ensure_ascii=False), search_text(mine),
                                  content_hash(mine, merged.mine_status), base_hash, lastmod,
                                  merged.mine_status, next_modified(local.modified),
                                  self.username, local.item_id))
            else:
                base_moves.append((base_hash, lastmod, local.item_id))
            base_row = (json.dumps(merged.base, ensure_ascii=False), merged.base_status,
                        base_hash, self.stamp, lastmod, False,
                        json.dumps(change.values, ensure_ascii=False) if merged.conflict else None,
                        change.status if merged.conflict else None)
            if local.base_id is None:
                new_bases.append((local.item_id,) + base_row)
            else:
                base_rows.append(base_row + (local.base_id,))
        bulk.update_rows(Item, ["values", "search_text", "hash", "base_hash", "remote_modified",
                                "status", "modified", "modified_by"], item_rows)
        bulk.update_rows(Item, ["base_hash", "remote_modified"], base_moves)
        base_fields = ["values", "status", "hash", "fetched_at", "remote_modified",
                       "deleted_on_master", "theirs", "theirs_status"]
        bulk.update_rows(Baseline, base_fields, base_rows)
        bulk.insert_rows(Baseline, ["item"] + base_fields, new_bases)
        self.counts["kept_local_modified"] += len(merges)

    def deletions(self, client, rid):
        """Items the master no longer has: gone here too, unless edited here.

        "Not listed in this pass" is not "deleted": items deleted on the master while the
        pages were read move the rest of its list back, so offset paging can pass over live
        items. Each candidate is asked for again by id (client.read_items); those the master
        still has are stored as they are now, and only the others go."""
        if self.first:
            return  # every synchronized item here came in with this reload
        i = bulk.columns(Item, "i")
        page = (f"SELECT {i.id}, {i.remote_id} FROM {i} WHERE {i.tracker} = {bulk.param()} "
                f"AND {i.remote_id} IS NOT NULL AND {i.id} > {bulk.param()} "
                f"ORDER BY {i.id} LIMIT 5000")
        last, unseen = 0, {}
        while True:
            rows = bulk.select(page, [self.tracker.id, last])
            if not rows:
                break
            last = rows[-1][0]
            seen = self.seen
            unseen.update((remote_id, item_id) for item_id, remote_id in rows
                          if remote_id not in seen)
        if not unseen:
            return
        alive = client.read_items(rid, unseen)
        if alive:
            found = list(alive.values())
            for start in range(0, len(found), BATCH):
                self.apply(found[start:start + BATCH])
        gone = sorted(item_id for remote_id, item_id in unseen.items() if remote_id not in alive)
        for start in range(0, len(gone), 5000):
            self._gone(gone[start:start + 5000])

    def _gone(self, item_ids):
        """Local items the master did not list: dropped, or kept as "deleted on master"."""
        i, b = bulk.columns(Item, "i"), bulk.columns(Baseline, "b")
        rows = map(Unseen._make, bulk.select(
            f"SELECT {i.id}, {i.hash}, {i.base_hash}, {b.id} FROM {i} "
            f"LEFT OUTER JOIN {b} ON {b.item} = {i.id} "
            f"WHERE {i.id} IN ({bulk.params(len(item_ids))})", item_ids))
        drop, edited = [], []
        for row in rows:
            (edited if row.base_hash is not None and row.hash != row.base_hash
             else drop).append(row)
        bulk.delete_ids(Baseline, [r.base_id for r in drop if r.base_id])
        bulk.delete_ids(Item, [r.item_id for r in drop])
        keep = [r.base_id for r in edited if r.base_id is not None]
        # Changed here without a kept base: the base is kept now.
        keep += [materialize(Item.get_by_id(r.item_id)).id for r in edited if r.base_id is None]
        if keep:
            Baseline.update(deleted_on_master=True).where(Baseline.id.in_(keep)).execute()
        self.counts["deleted"] += len(drop)
        self.counts["deleted_on_master"] += len(keep)


class Merged(NamedTuple):
    """One item edited here after the three-way merge with what the master holds."""
    mine: dict
    mine_status: str
    base: dict
    base_status: str | None
    conflict: bool  # some field (or the status) changed differently on both sides
    taken: bool  # something only the master changed was taken into the item


def _merged(stored, change, perms):
    """Fields (and the status) only the master changed are taken; those both sides changed
    the same way move the base; conflicts stay for the sync tab."""
    mine, mine_status = dict(stored.values or {}), stored.status
    if change.local.base_id is None:  # changed here with no base kept: judge against theirs only
        base, base_status = {}, None
    else:
        base, base_status = dict(stored.base_values or {}), stored.base_status
    theirs, theirs_status = change.values, change.status
    verdicts = three_way(mine, base, theirs, perms, mine_status, base_status, theirs_status)
    conflict = False
    for perm, verdict in verdicts.items():
        if verdict == "conflict":
            conflict = True
            continue
        if perm == STATUS_KEY:
            if verdict == "remote":
                mine_status = theirs_status
            if verdict in ("remote", "same"):
                base_status = theirs_status
            continue
        if verdict == "remote":
            mine[perm] = theirs.get(perm, "")
        if verdict in ("remote", "same"):
            base[perm] = theirs.get(perm, "")
    return Merged(mine, mine_status, base, base_status, conflict,
                  "remote" in verdicts.values())


def reload(tracker: Tracker, client: TikiClient, progress=None, username: str = "",
           batch: int = BATCH, page_size: int = PAGE_SIZE) -> dict:
    """Reload `tracker` from its master through `client`; returns the counts of CLI.md."""
    progress = progress or _Null()
    if not tracker.is_clone:
        raise ReloadError(f"tracker {tracker.id} is local: it has no source to reload from")
    rid = tracker.remote_tracker_id
    progress.step(0, "Reading the field definitions")
    checked_at = int(time.time())
    export, remote_fields = client.export_fields(rid)
    clock = client.last_server_time
    schema_drift = drift(tracker, export)
    synced = synced_perms(tracker, remote_fields)
    try:
        total = next((t.get("items") for t in client.list_trackers() if t["id"] == rid), None)
    except Exception:  # noqa: BLE001 - the count only feeds the progress bar
        total = None
    progress.total(total or 0, "Downloading items")
    stamp = int(time.time())
    work = _Reload(tracker, synced, username, stamp)
    with bulk.small_cache(), write_transaction():
        # The client's threads fetch the next AHEAD pages while a page is stored here, and
        # each item comes once (W9): the client drops ids already in work.seen.
        pages = client.iter_item_pages(rid, page_size=page_size, ahead=AHEAD, seen=work.seen)
        # PostgreSQL: new rows are COPYed by a thread while the next batch is prepared here.
        with closing(pages), bulk.background_copy():
            for page in pages:
                for start in range(0, len(page), batch):
                    work.apply(page[start:start + batch])
                    if total and work.counts["fetched"] > total:
                        total = work.counts["fetched"]
                        progress.total(total)
                    progress.step(work.counts["fetched"],
                                  f"Stored {work.counts['fetched']} of {total or '?'} items")
                del page  # not held while the next one is waited for
        progress.step(work.counts["fetched"], "Removing items deleted on the master")
        work.deletions(client, rid)
        counts = work.counts
        counts["kept_local_new"] = Item.select().where(
            Item.tracker == tracker, Item.remote_id.is_null()).count()
        counts["items"] = Item.select().where(Item.tracker == tracker).count()
        counts["drift"] = schema_drift
        Tracker.update(last_reload_at=stamp, remote_clock_at_reload=clock,
                       remote_clock_at_check=clock, checked_at=checked_at).where(
            Tracker.id == tracker.id).execute()
        audit.record("tracker.reload", username, tracker=tracker,
                     **{k: v for k, v in counts.items() if k != "drift"},
                     drift=any(schema_drift.values()))
    progress.step(counts["fetched"], f"Reloaded {counts['fetched']} items; indexing for search")
    # Committed: the items are there, and found by a search (the pending ones by a scan).
    search_index.fill(tracker, progress)
    progress.step(counts["fetched"], f"Reloaded {counts['fetched']} items")
    return counts

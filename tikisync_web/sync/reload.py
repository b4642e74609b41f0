"""Reload from source (DESIGN §4.2): stream every remote page, apply in ONE transaction.

Tiki empties the local tracker, then refills it page by page (W5): a failure leaves it empty
and local work is lost. Here a failure anywhere (remote error, timeout, bad page, the process
killed) rolls the whole reload back; local ids stay; items created locally are kept; items
edited locally keep their values while fields the master alone changed are merged in, and
fields both sides changed are kept as conflicts for the sync tab. The next page is fetched
in a thread while the current one is stored, and only one page is held at a time.
"""
import json
import queue
import threading
import time

import peewee as pw

from .. import audit
from ..db import database
from ..fields import field_type, normalize_raw
from ..items import next_modified
from ..models import STATUSES, Baseline, Item, Tracker
from . import bulk
from .clone import drift
from .values import STATUS, canonical, content_hash, three_way

BATCH = 1000
PAGE_SIZE = 5000


class ReloadError(Exception):
    """The reload stopped; nothing was changed."""


class _Null:
    def total(self, *a, **k): pass
    def step(self, *a, **k): pass


def synced_perms(tracker, remote_fields):
    """[(perm, blank)] for local fields the master also has with a synchronizable type.

    `blank`: header and static text carry empty values both ways (tiki-protocol.md §8.1).
    """
    remote = {f["permName"]: f for f in remote_fields}
    result = []
    for field in tracker.ordered_fields():
        theirs = remote.get(field.perm_name)
        if theirs is not None and field_type(theirs["type"]).policy != "skip":
            result.append((field.perm_name, theirs["type"] in ("h", "S")))
    return result


def project(remote_values, synced):
    return {perm: "" if blank else normalize_raw((remote_values or {}).get(perm, ""))
            for perm, blank in synced}


def _status(value):
    return value if value in STATUSES else "o"


def _search_text(values):
    return " ".join(str(v) for v in values.values() if v not in ("", None)).lower()


def prefetch(iterator, size, depth=2):
    """Batches of `size` from `iterator`, produced by a thread while the caller works."""
    out = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def produce():
        try:
            batch = []
            for entry in iterator:
                batch.append(entry)
                if len(batch) >= size:
                    while not stop.is_set():
                        try:
                            out.put(batch, timeout=0.2)
                            break
                        except queue.Full:
                            continue
                    batch = []
                if stop.is_set():
                    return
            out.put(batch)
            out.put(done)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            out.put(exc)

    thread = threading.Thread(target=produce, daemon=True, name="tikisync-prefetch")
    thread.start()
    try:
        while True:
            batch = out.get()
            if batch is done:
                return
            if isinstance(batch, BaseException):
                raise batch
            if batch:
                yield batch
    finally:
        stop.set()
        thread.join(timeout=10)


class _Reload:
    def __init__(self, tracker, synced, username, stamp):
        self.tracker, self.synced, self.username, self.stamp = tracker, synced, username, stamp
        self.perms = [p for p, _ in synced]
        self.seen = set()
        self.counts = dict(fetched=0, added=0, updated=0, unchanged=0, deleted=0,
                           kept_local_new=0, kept_local_modified=0, deleted_on_master=0)

    def apply(self, batch):
        ids = []
        for remote in batch:
            if remote["itemId"] not in self.seen:
                self.seen.add(remote["itemId"])
                ids.append(remote["itemId"])
        self.counts["fetched"] += len(batch)
        rows = (Item.select(Item.id, Item.remote_id, Item.hash, Item.modified, Baseline.id,
                            Baseline.hash, Baseline.deleted_on_master, Baseline.theirs_status)
                .join(Baseline, pw.JOIN.LEFT_OUTER)
                .where(Item.tracker == self.tracker, Item.remote_id.in_(ids)).tuples())
        existing = {r[1]: r for r in rows}
        inserts, plain, merges = [], [], []
        for remote in batch:
            values = project(remote["fields"], self.synced)
            status = _status(remote.get("status"))
            digest = content_hash(values, status)
            row = existing.get(remote["itemId"])
            if row is None:
                inserts.append((remote, values, status, digest))
                continue
            item_id, _, item_hash, modified, base_id, base_hash, deleted, theirs_status = row
            if base_id is None or item_hash == base_hash:
                if digest == base_hash and not deleted and theirs_status is None:
                    self.counts["unchanged"] += 1
                else:
                    plain.append((row, remote, values, status, digest))
            else:
                merges.append((row, remote, values, status, digest))
        self._insert(inserts)
        self._update_plain(plain)
        self._merge(merges)

    def _insert(self, inserts):
        if not inserts:
            return
        tracker_id, stamp = self.tracker.id, self.stamp
        rows, by_remote = [], {}
        for remote, values, status, digest in inserts:
            text = json.dumps(values, ensure_ascii=False)
            by_remote[remote["itemId"]] = (text, status, digest, remote.get("lastModif"))
            rows.append((tracker_id, status, text, _search_text(values), remote["itemId"], digest,
                         stamp, stamp, "", self.username))
        bulk.insert_rows(Item, ["tracker", "status", "values", "search_text", "remote_id", "hash",
                                "created", "modified", "created_by", "modified_by"], rows)
        ids = (Item.select(Item.id, Item.remote_id)
               .where(Item.tracker == self.tracker, Item.remote_id.in_(list(by_remote))).tuples())
        bulk.insert_rows(
            Baseline, ["item", "values", "status", "hash", "fetched_at", "remote_modified",
                       "deleted_on_master"],
            [(item_id, by_remote[rid][0], by_remote[rid][1], by_remote[rid][2], stamp,
              by_remote[rid][3], False) for item_id, rid in ids])
        self.counts["added"] += len(rows)

    def _full_values(self, item_ids):
        """Stored values of some items and their baselines (only for items that change)."""
        query = (Item.select(Item.id, Item.values, Item.status, Baseline.values, Baseline.status,
                             Baseline.theirs, Baseline.theirs_status)
                 .join(Baseline, pw.JOIN.LEFT_OUTER).where(Item.id.in_(item_ids)).tuples())
        return {r[0]: r[1:] for r in query}

    def _update_plain(self, plain):
        """Items not edited here: they become what the master holds."""
        if not plain:
            return
        stored = self._full_values([row[0] for row, *_ in plain])
        item_rows, base_rows, new_bases = [], [], []
        for row, remote, values, status, digest in plain:
            item_id, base_id = row[0], row[4]
            mine = dict(stored[item_id][0] or {})
            mine.update(values)  # fields the master does not have keep their local value
            text = json.dumps(values, ensure_ascii=False)
            item_rows.append((json.dumps(mine, ensure_ascii=False), _search_text(mine),
                              content_hash(mine, status), status,
                              next_modified(row[3]), self.username, item_id))
            base = (text, status, digest, self.stamp, remote.get("lastModif"), False, None, None)
            if base_id is None:
                new_bases.append((item_id,) + base[:6])
            else:
                base_rows.append(base + (base_id,))
        bulk.update_rows(Item, ["values", "search_text", "hash", "status", "modified",
                                "modified_by"], item_rows)
        bulk.update_rows(Baseline, ["values", "status", "hash", "fetched_at", "remote_modified",
                                    "deleted_on_master", "theirs", "theirs_status"], base_rows)
        bulk.insert_rows(Baseline, ["item", "values", "status", "hash", "fetched_at",
                                    "remote_modified", "deleted_on_master"], new_bases)
        self.counts["updated"] += len(plain)

    def _merge(self, merges):
        """Items edited here: take what only the master changed, keep conflicts for later."""
        if not merges:
            return
        stored = self._full_values([row[0] for row, *_ in merges])
        item_rows, base_rows = [], []
        for row, remote, theirs, theirs_status, digest in merges:
            item_id, base_id = row[0], row[4]
            mine, mine_status, base, base_status, _, _ = stored[item_id]
            mine, base = dict(mine or {}), dict(base or {})
            verdicts = three_way(mine, base, theirs, self.perms, mine_status, base_status,
                                 theirs_status)
            conflict = False
            for perm, verdict in verdicts.items():
                if verdict == "conflict":
                    conflict = True
                    continue
                if perm == STATUS:
                    if verdict == "remote":
                        mine_status = theirs_status
                    if verdict in ("remote", "same"):
                        base_status = theirs_status
                    continue
                if verdict == "remote":
                    mine[perm] = theirs.get(perm, "")
                if verdict in ("remote", "same"):
                    base[perm] = theirs.get(perm, "")
            if any(v == "remote" for v in verdicts.values()):
                item_rows.append((json.dumps(mine, ensure_ascii=False), _search_text(mine),
                                  content_hash(mine, mine_status), mine_status,
                                  next_modified(row[3]), self.username, item_id))
            base_rows.append((json.dumps(base, ensure_ascii=False), base_status,
                              content_hash(base, base_status), self.stamp,
                              remote.get("lastModif"), False,
                              json.dumps(theirs, ensure_ascii=False) if conflict else None,
                              theirs_status if conflict else None, base_id))
        bulk.update_rows(Item, ["values", "search_text", "hash", "status", "modified",
                                "modified_by"], item_rows)
        bulk.update_rows(Baseline, ["values", "status", "hash", "fetched_at", "remote_modified",
                                    "deleted_on_master", "theirs", "theirs_status"], base_rows)
        self.counts["kept_local_modified"] += len(merges)

    def deletions(self):
        """Items the master no longer has: gone here too, unless edited here."""
        last = 0
        while True:
            rows = list(Item.select(Item.id, Item.remote_id, Item.hash, Baseline.id, Baseline.hash)
                        .join(Baseline, pw.JOIN.LEFT_OUTER)
                        .where(Item.tracker == self.tracker, Item.remote_id.is_null(False),
                               Item.id > last)
                        .order_by(Item.id).limit(5000).tuples())
            if not rows:
                return
            last = rows[-1][0]
            gone = [r for r in rows if r[1] not in self.seen]
            drop = [r[0] for r in gone if r[3] is None or r[2] == r[4]]
            keep = [r[3] for r in gone if r[3] is not None and r[2] != r[4]]
            bulk.delete_ids(Baseline, [r[3] for r in gone if r[0] in set(drop) and r[3]])
            bulk.delete_ids(Item, drop)
            if keep:
                Baseline.update(deleted_on_master=True).where(Baseline.id.in_(keep)).execute()
            self.counts["deleted"] += len(drop)
            self.counts["deleted_on_master"] += len(keep)


def reload(tracker, client, progress=None, username="", batch=BATCH, page_size=PAGE_SIZE):
    """Reload `tracker` from its master through `client`; returns the counts of CLI.md."""
    progress = progress or _Null()
    if not tracker.is_clone:
        raise ReloadError(f"tracker {tracker.id} is local: it has no source to reload from")
    rid = tracker.remote_tracker_id
    progress.step(0, "Reading the field definitions")
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
    with database.atomic():
        for page in prefetch(client.iter_items(rid, page_size=page_size), batch):
            work.apply(page)
            if total and work.counts["fetched"] > total:
                total = work.counts["fetched"]
                progress.total(total)
            progress.step(work.counts["fetched"],
                          f"Stored {work.counts['fetched']} of {total or '?'} items")
        progress.step(work.counts["fetched"], "Removing items deleted on the master")
        work.deletions()
        counts = work.counts
        counts["kept_local_new"] = Item.select().where(
            Item.tracker == tracker, Item.remote_id.is_null()).count()
        counts["items"] = Item.select().where(Item.tracker == tracker).count()
        counts["drift"] = schema_drift
        Tracker.update(last_reload_at=stamp, remote_clock_at_reload=clock,
                       remote_clock_at_check=clock).where(Tracker.id == tracker.id).execute()
        audit.record("tracker.reload", username, tracker=tracker,
                     **{k: v for k, v in counts.items() if k != "drift"},
                     drift=any(schema_drift.values()))
    progress.step(counts["fetched"], f"Reloaded {counts['fetched']} items")
    return counts

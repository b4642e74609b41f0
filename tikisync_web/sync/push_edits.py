"""Pushing edits (DESIGN §4.3), the part of Pusher that sends changed fields of items the
master already has.

Edits go in batches: one read of the master before and one after each batch (our master
filters by itemId; a Tiki is narrowed with modifiedSince), the updates of a batch sent by a few
threads, each with its own HTTP session, while the main thread, which alone touches the
database, records the previous batch; a batch's intents, and then its outcomes (item,
baseline, history, audit), are written with a few multi-row statements. Just before writing,
a field the master changed meanwhile turns the item into a conflict and nothing is sent;
after writing, what the master holds is compared with what was sent (Tiki answers 200 to a
rejected change, W4).
"""
import hashlib
import json
import time
from concurrent.futures import ThreadPoolExecutor

from ..db import write_transaction
from ..items import next_modified
from ..models import AuditEvent, Baseline, Item, ItemHistory, PushIntent
from ..remote import errors as remote_errors
from ..values import STATUS, canonical, content_hash, get
from . import bulk
from .incoming import project


def _payload_hash(status, fields):
    body = json.dumps([status, canonical(fields)], sort_keys=True, ensure_ascii=False)
    return hashlib.sha1(body.encode("utf-8")).hexdigest()


class EditPush:
    """Mixed into push.Pusher: needs its client, rid, synced, tracker, threads, result,
    fetch(), clock() and fail()."""

    # --- writing to the master from several threads ---------------------------------------
    def _update(self, remote_id, status, send):
        """update_item from a pool thread, with that thread's own client (HTTP session)."""
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self.client.fork()
            with self._forks_lock:
                self._forks.append(client)
        return client.update_item(self.rid, remote_id, status, send)

    def _send(self, remote_id, status, send):
        """A future of the update (done at once, in this thread, without a pool)."""
        if self.threads > 1:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="tikisync-push")
            return self._pool.submit(self._update, remote_id, status, send)
        return _Done(self.client.update_item, self.rid, remote_id, status, send)

    # --- edits --------------------------------------------------------------------------
    def push_edits(self, entries, force=False):
        """Edits, re-reading the master once for the whole batch before and after writing."""
        started = self.start_edits(entries, force)
        if started is not None:
            self.finish_edits(started)

    def start_edits(self, entries, force=False):
        """Read the batch's items on the master, judge each edit against what it holds now,
        record the intents, and send the updates (in the background when threads are on).
        Returns what finish_edits needs, or None when nothing is sent."""
        if not entries:
            return None
        items = {i.id: i for i in Item.select(Item, Baseline).join(Baseline)
                 .where(Item.id.in_([e["id"] for e in entries]))}
        since = self.tracker.remote_clock_at_check or self.tracker.remote_clock_at_reload
        before = self.fetch([i.remote_id for i in items.values()], since)
        clock = self.clock()
        ready = []
        for entry in entries:
            item = items.get(entry["id"])
            if item is None:
                continue
            prepared = self._prepare_edit(item, before.get(item.remote_id), entry, force)
            if prepared is not None:
                ready.append((item, *prepared))
        if not ready:
            return None
        now = int(time.time())
        bulk.insert_rows(PushIntent, ["item", "kind", "payload", "payload_hash", "started",
                                      "remote_clock", "outcome"], [
            (item.id, "edit", _json({"status": status, "fields": send}),
             _payload_hash(status, send), now, clock, "pending")
            for item, send, status, _ in ready])  # written ahead of the updates
        futures = [self._send(item.remote_id, status, send) for item, send, status, _ in ready]
        return ready, futures, clock

    def finish_edits(self, started):
        """Wait for a batch's updates, re-read what the master took, record the outcomes."""
        ready, futures, clock = started
        written = []
        for (item, send, status, current), future in zip(ready, futures):
            try:
                future.result()
            except remote_errors.NotFound:
                Baseline.update(deleted_on_master=True).where(
                    Baseline.id == item.baseline.id).execute()
                self.result["skipped"].append({"id": item.id, "reason": "deleted_on_master"})
                continue
            except remote_errors.RemoteError as exc:
                self.fail(item, str(exc))
                continue
            written.append((item, send, status, current))
            if self.progress:
                self.progress.add(1)
        if not written:
            return
        after = self.fetch([i.remote_id for i, *_ in written], clock)
        outcomes = _Outcomes()
        for item, send, status, current in written:
            self._finish_edit(item, send, status, current, after.get(item.remote_id), outcomes)
        outcomes.write(self)

    def _prepare_edit(self, item, fresh, entry, force):
        base = item.baseline
        if any(get(item.values, p) != get({"v": new}, "v") for p, (_, new) in entry["fields"].items()):
            self.result["skipped"].append({"id": item.id, "reason": "changed since the preview"})
            return None
        current = project(fresh["fields"], self.synced) if fresh else (
            base.theirs if base.theirs is not None else base.values)
        current_status = (fresh or {}).get("status") or base.theirs_status or base.status
        send = {}
        for perm in entry["fields"]:
            mine, was, now = get(item.values, perm), get(base.values, perm), get(current, perm)
            if now == mine:
                continue  # the master already holds it
            if now != was and not force:
                return self._new_conflict(item, current, current_status)
            send[perm] = item.values.get(perm, "")
        status = None
        if entry.get("status") and current_status != item.status:
            if current_status != base.status and not force:
                return self._new_conflict(item, current, current_status)
            status = item.status
        if not send and status is None:
            self._settle(item, current, current_status)
            return None
        return send, status, (current, current_status)

    def _new_conflict(self, item, current, current_status):
        Baseline.update(theirs=current, theirs_status=current_status).where(
            Baseline.id == item.baseline.id).execute()
        self.result["skipped"].append({"id": item.id, "reason": "conflict"})
        return None

    def _settle(self, item, current, status):
        """Nothing to send: the master already holds our values; align the baseline."""
        base_hash = content_hash(current, status)
        Baseline.update(values=current, status=status, hash=base_hash,
                        theirs=None, theirs_status=None).where(
            Baseline.id == item.baseline.id).execute()
        Item.update(base_hash=base_hash).where(Item.id == item.id).execute()
        self.result["skipped"].append({"id": item.id, "reason": "unchanged"})

    def _finish_edit(self, item, send, status, current, fresh, outcomes):
        """The item and its baseline become what the master holds (but what it did not take,
        which stays here as a local change); the rows go to `outcomes`."""
        theirs = project(fresh["fields"], self.synced) if fresh else None
        if theirs is None:
            return self.fail(item, "the item could not be read back from the master after the "
                                   "update; reload to see what it holds")
        remote_status = fresh.get("status") or item.status
        mismatch = [p for p, v in send.items() if get(theirs, p) != get({"v": v}, "v")]
        if status and remote_status != status:
            mismatch.append(STATUS)
        before, before_status = current
        mine = dict(item.values or {})
        for perm, value in theirs.items():
            if perm not in mismatch and get(mine, perm) != get(theirs, perm):
                outcomes.history(item, "local", perm, mine.get(perm), value, self.username)
                mine[perm] = value
        for perm in send:
            if perm not in mismatch:
                outcomes.history(item, "master", perm, before.get(perm), send[perm],
                                 self.username)
        mine_status = item.status if STATUS in mismatch else remote_status
        now = int(time.time())
        base_hash = content_hash(theirs, remote_status)
        outcomes.items.append((_json(mine), mine_status, content_hash(mine, mine_status),
                               next_modified(item.modified), base_hash, fresh.get("lastModif"),
                               item.id))
        outcomes.baselines.append((_json(theirs), remote_status, base_hash, None, None, now,
                                   fresh.get("lastModif"), item.baseline.id))
        outcomes.intents.append(("failed" if mismatch else "done", item.remote_id, now, item.id))
        outcomes.audit.append(("item.push_edit", item.id, {
            "remote_id": item.remote_id, "fields": sorted(send), "status": status,
            "mismatch": mismatch}))
        if mismatch:
            outcomes.failed.append((item, "the master did not take " + ", ".join(mismatch) +
                                    " (it answered success but holds other values; kept here)"))
        else:
            outcomes.pushed.append({"id": item.id, "remote_id": item.remote_id, "kind": "edit",
                                    "fields": sorted(send) + ([STATUS] if status else [])})


def _json(value):
    return json.dumps(value, ensure_ascii=False)


class _Done:
    """A finished "future" for updates sent without a thread pool."""

    def __init__(self, fn, *args):
        try:
            self._value, self._error = fn(*args), None
        except Exception as exc:  # noqa: BLE001 - raised again by result()
            self._value, self._error = None, exc

    def result(self):
        if self._error is not None:
            raise self._error
        return self._value


class _Outcomes:
    """What finishing a batch of edits writes locally, in one transaction."""

    def __init__(self):
        self.items, self.baselines, self.intents = [], [], []
        self.histories, self.audit, self.pushed, self.failed = [], [], [], []

    def history(self, item, side, perm, old, new, username):
        if get({"v": old}, "v") != get({"v": new}, "v"):
            self.histories.append((item.id, int(time.time()), username, side, "push", perm,
                                   None if old is None else str(old),
                                   None if new is None else str(new)))

    def write(self, pusher):
        with write_transaction():
            bulk.update_rows(Item, ["values", "status", "hash", "modified", "base_hash",
                                    "remote_modified"], self.items)
            bulk.update_rows(Baseline, ["values", "status", "hash", "theirs", "theirs_status",
                                        "fetched_at", "remote_modified"], self.baselines)
            i = bulk.columns(PushIntent)
            bulk.execute_many(
                f"UPDATE {i} SET {i.outcome} = {bulk.param()}, {i.remote_id} = {bulk.param()}, "
                f"{i.finished} = {bulk.param()} WHERE {i.item} = {bulk.param()} AND "
                f"{i.outcome} = 'pending' AND {i.kind} = 'edit'", self.intents)
            bulk.insert_rows(ItemHistory, ["item", "at", "username", "side", "action",
                                           "perm_name", "old_value", "new_value"],
                             self.histories)
            now = int(time.time())
            bulk.insert_rows(AuditEvent, ["at", "username", "tracker", "item_id", "action",
                                          "summary"],
                             [(now, pusher.username or "", pusher.tracker.id, item_id, action,
                               _json(summary)) for action, item_id, summary in self.audit])
        pusher.result["pushed"] += self.pushed
        for item, message in self.failed:
            pusher.fail(item, message)

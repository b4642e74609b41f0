"""Push local work to the master (DESIGN §4.3), item by item, never losing a value.

New items: a PushIntent is written before the insert; the reply must carry a non-zero itemId
(W4); when the reply is lost, the master is searched for the intended item (same values,
created after the intent) and it is adopted instead of inserted twice (W6).
Edits: only the fields changed here are sent (W8). Just before writing, the master's values
are re-read: a field it changed meanwhile turns the item into a conflict and nothing is
written. After writing, the item is re-read to verify the master took the values (Tiki
answers 200 to a rejected change, W4). The local item stays (W3) and, with its baseline,
becomes what the master now holds. One item's failure never stops the others (W7).

Edits are sent by push_edits.EditPush, in batches of EDIT_BATCH (see there).
"""
import threading
import time

from .. import audit
from ..db import write_transaction
from ..items import next_modified
from ..models import Baseline, Item, PushIntent
from ..remote import errors as remote_errors
from ..values import STATUS, canonical, content_hash, get
from .incoming import project, synced_perms
from .push_edits import EditPush, _payload_hash
from .status import MARGIN, classify, perms_of, verdicts_for

LOST_REPLY = (remote_errors.Timeout, remote_errors.ConnectionFailed, remote_errors.NotJson,
              remote_errors.ServerError)


class Plan:
    """Exactly what a push will send: per item, kind and {perm: (old, new)}."""

    def __init__(self):
        self.entries, self.skipped = [], []

    def as_dict(self):
        return {"items": self.entries, "skipped": self.skipped}


def _values_of(item, perms):
    return {p: (item.values or {}).get(p, "") for p in perms}


def plan_push(tracker, *, new=True, modified=True, item_ids=None, force=False):
    """Decide what to send; nothing is sent. `item_ids` limits the plan to those items."""
    perms = perms_of(tracker)
    lists = classify(tracker)
    wanted = None if not item_ids else {int(i) for i in item_ids}
    plan = Plan()

    def take(ids):
        return [i for i in ids if wanted is None or i in wanted]

    if new:
        for item in Item.select().where(Item.id.in_(take(lists["new"]))).order_by(Item.id):
            plan.entries.append({"id": item.id, "kind": "new", "status": item.status,
                                 "fields": {p: ["", v] for p, v in _values_of(item, perms).items()
                                            if v not in ("", None)}})
    edit_ids = take(lists["modified"]) if modified else []
    conflict_ids = take(lists["conflicts"])
    for item_id in take(lists["deleted_on_master"]):
        plan.skipped.append({"id": item_id, "reason": "deleted_on_master"})
    if not force:
        plan.skipped += [{"id": i, "reason": "conflict"} for i in conflict_ids]
    else:
        edit_ids += conflict_ids
    rows = (Item.select(Item, Baseline).join(Baseline).where(Item.id.in_(edit_ids))
            .order_by(Item.id))
    for item in rows:
        verdicts = verdicts_for(item.values, item.status, item.baseline, perms)
        send = [p for p, v in verdicts.items() if v == "local" or (force and v == "conflict")]
        fields = {p: [item.baseline.values.get(p, ""), item.values.get(p, "")]
                  for p in send if p != STATUS}
        entry = {"id": item.id, "kind": "edit", "remote_id": item.remote_id, "fields": fields,
                 "status": item.status if STATUS in send else None}
        if fields or entry["status"]:
            plan.entries.append(entry)
    if wanted:
        known = {e["id"] for e in plan.entries} | {s["id"] for s in plan.skipped}
        plan.skipped += [{"id": i, "reason": "unchanged"} for i in sorted(wanted - known)]
    return plan


class Pusher(EditPush):
    def __init__(self, tracker, client, username="", progress=None, threads=None):
        tracker = type(tracker).get_by_id(tracker.id)  # the caller's copy may predate a reload
        self.tracker, self.client, self.username = tracker, client, username
        self.rid = tracker.remote_tracker_id
        self.progress = progress
        self.result = {"pushed": [], "failed": [], "skipped": []}
        _, remote_fields = client.export_fields(self.rid)  # also reads the master's clock
        self.synced = synced_perms(tracker, remote_fields)
        self.perms = [p for p, _ in self.synced]
        threads = PUSH_THREADS if threads is None else threads
        self.threads = threads if getattr(client, "can_fork", False) else 1
        self._pool, self._local, self._forks = None, threading.local(), []
        self._forks_lock = threading.Lock()

    def close(self):
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        for fork in self._forks:
            fork.close()
        self._forks = []

    # --- reading the master -------------------------------------------------------------
    def fetch(self, remote_ids, since):
        """{remote id: item} among `remote_ids` modified since `since` (all of them on our own
        master, which filters by id)."""
        found = {}
        window = None if since is None else max(0, since - MARGIN)
        for item in self.client.iter_items(self.rid, item_ids=remote_ids, modified_since=window):
            found[item["itemId"]] = item
        return found

    def clock(self):
        return self.client.last_server_time

    # --- new items ----------------------------------------------------------------------
    def push_new(self, entry):
        item = Item.get_or_none(Item.id == entry["id"])
        if item is None or item.remote_id is not None:
            self.result["skipped"].append({"id": entry["id"], "reason": "already pushed"})
            return
        fields = project(item.values, self.synced)
        send = {p: v for p, v in fields.items() if v != ""}
        planned = {p: new for p, (_, new) in entry.get("fields", {}).items()}
        if canonical(planned) != canonical(send) and entry.get("fields") is not None:
            self.result["skipped"].append({"id": item.id, "reason": "changed since the preview"})
            return
        pending = (PushIntent.select().where(PushIntent.item == item, PushIntent.kind == "new",
                                             PushIntent.outcome == "pending")
                   .order_by(PushIntent.id.desc()).first())
        if pending is not None:
            found = self.find_intended(item, pending)
            if found is not None:
                return self.adopt(item, pending, found, adopted=True)
        intent = PushIntent.create(item=item, kind="new", payload={"status": item.status,
                                   "fields": send}, payload_hash=_payload_hash(item.status, send),
                                   remote_clock=self.clock())
        try:
            answer = self.client.insert_item(self.rid, item.status, send)
        except LOST_REPLY as exc:
            found = self.find_intended(item, intent)
            if found is not None:
                return self.adopt(item, intent, found, adopted=True)
            return self.fail(item, f"{exc} — the master did not confirm the insert; the next "
                                   "push looks for the item there before inserting again")
        except remote_errors.RemoteError as exc:
            PushIntent.update(outcome="failed", finished=int(time.time())).where(
                PushIntent.id == intent.id).execute()
            return self.fail(item, str(exc))
        after = self.fetch([answer["itemId"]], intent.remote_clock).get(answer["itemId"], answer)
        self.adopt(item, intent, after, adopted=False)

    def find_intended(self, item, intent):
        """The item a lost reply created: same values and status, not yet known here."""
        want = canonical(intent.payload.get("fields", {}))
        status = intent.payload.get("status")
        window = None if intent.remote_clock is None else max(0, intent.remote_clock - MARGIN)
        # Remote items known here before the intent, or edited here, are not ours to adopt.
        known = (Item.select(Item.remote_id)
                 .where(Item.tracker == self.tracker, Item.remote_id.is_null(False),
                        Item.id != item.id,
                        Item.base_hash.is_null() | (Item.hash != Item.base_hash) |
                        (Item.created < intent.started - MARGIN)).tuples())
        mapped = {r for (r,) in known}
        best = None
        for remote in self.client.iter_items(self.rid, modified_since=window):
            if remote["itemId"] in mapped:
                continue
            created = remote.get("created")
            if created and intent.remote_clock and created < intent.remote_clock - MARGIN:
                continue
            if canonical(project(remote["fields"], self.synced)) == want and \
                    (not status or remote.get("status") in (None, status)):
                if best is None or remote["itemId"] > best["itemId"]:
                    best = remote
        return best

    def adopt(self, item, intent, remote, adopted):
        """Link `item` to the remote item and make item + baseline what the master holds."""
        remote_id = remote["itemId"]
        theirs = project(remote.get("fields") or {}, self.synced)
        status = remote.get("status") or item.status
        mismatch = [p for p, v in intent.payload.get("fields", {}).items()
                    if get(theirs, p) != get({"v": v}, "v")]
        with write_transaction():  # reads first: take SQLite's write lock at once
            # A reload may already have copied the remote item here: the copy goes.
            copy = Item.get_or_none(Item.tracker == self.tracker, Item.remote_id == remote_id)
            if copy is not None and copy.id != item.id:
                copy.delete_instance(recursive=True)
            mine = dict(item.values or {})
            for perm, value in theirs.items():
                if perm not in mismatch:
                    mine[perm] = value
            base_hash = content_hash(theirs, status)
            Item.update(remote_id=remote_id, values=mine, hash=content_hash(mine, status),
                        status=status, modified=next_modified(item.modified), base_hash=base_hash,
                        remote_modified=remote.get("lastModif")).where(
                Item.id == item.id).execute()
            Baseline.delete().where(Baseline.item == item).execute()
            if mismatch:  # the item is not its own base: keep the master's values as base
                Baseline.create(item=item, values=theirs, status=status, hash=base_hash,
                                remote_modified=remote.get("lastModif"))
            PushIntent.update(outcome="adopted" if adopted else "done", remote_id=remote_id,
                              finished=int(time.time())).where(PushIntent.id == intent.id).execute()
            audit.record("item.push_new", self.username, tracker=self.tracker, item_id=item.id,
                         remote_id=remote_id, adopted=adopted, mismatch=mismatch)
        if mismatch:
            return self.fail(item, "the master stored other values for " + ", ".join(mismatch) +
                             " (kept here as local changes)", remote_id=remote_id)
        self.result["pushed"].append({"id": item.id, "remote_id": remote_id, "kind": "new",
                                      "fields": sorted(intent.payload.get("fields", {})),
                                      **({"adopted": True} if adopted else {})})

    def fail(self, item, message, remote_id=None):
        audit.record("item.push_failed", self.username, tracker=self.tracker, item_id=item.id,
                     error=message[:500])
        self.result["failed"].append({"id": item.id, "error": message})


EDIT_BATCH = 50
PUSH_THREADS = 4  # updates in flight at once; the master serves them with its own workers


def push(tracker, client, plan, username="", progress=None, force=False, threads=None):
    """Run a plan; returns {"pushed", "failed", "skipped"} (CLI.md)."""
    pusher = Pusher(tracker, client, username, progress, threads=threads)
    try:
        pusher.result["skipped"] += plan.skipped
        if progress:
            progress.total(len(plan.entries), "Pushing")
        for entry in [e for e in plan.entries if e["kind"] == "new"]:
            try:
                pusher.push_new(entry)
            except remote_errors.RemoteError as exc:
                pusher.result["failed"].append({"id": entry["id"], "error": str(exc)})
            if progress:
                progress.add(1)
        edits = [e for e in plan.entries if e["kind"] == "edit"]
        chunks = [edits[start:start + EDIT_BATCH] for start in range(0, len(edits), EDIT_BATCH)]
        # Batch n+1 is read and sent while batch n's answers are recorded.
        pending = None
        for chunk in chunks + [None]:
            started = None
            if chunk is not None:
                try:
                    started = pusher.start_edits(chunk, force=force)
                except remote_errors.RemoteError as exc:  # the batch read failed
                    _fail_rest(pusher, chunk, exc)
            if pending is not None:
                try:
                    pusher.finish_edits(pending[1])
                except remote_errors.RemoteError as exc:  # the read-back failed
                    _fail_rest(pusher, pending[0], exc)
            pending = (chunk, started) if started is not None else None
    finally:
        pusher.close()
    return pusher.result


def _fail_rest(pusher, chunk, exc):
    """Report every item of `chunk` without an outcome yet as failed with `exc`."""
    done = {r["id"] for key in ("pushed", "failed", "skipped") for r in pusher.result[key]}
    pusher.result["failed"] += [{"id": e["id"], "error": str(exc)} for e in chunk
                                if e["id"] not in done]

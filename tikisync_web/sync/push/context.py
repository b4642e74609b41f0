"""What every part of a push works with: the tracker, the master, the synchronized fields, the
result being built, and the threads that send updates (each with its own HTTP session)."""
from __future__ import annotations

import hashlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ... import audit
from ...models import Tracker
from ...remote import batch
from ...remote.client import TikiClient
from ...values import canonical
from ..incoming import synced_perms
from ..status import window_start


def payload_hash(status: str | None, fields: dict) -> str:
    """The hash a PushIntent keeps of what it sends."""
    body = json.dumps([status, canonical(fields)], sort_keys=True, ensure_ascii=False)
    return hashlib.sha1(body.encode("utf-8"), usedforsecurity=False).hexdigest()


def _new_result() -> dict:
    return {"pushed": [], "failed": [], "skipped": []}


@dataclass
class PushContext:
    """One push run. `synced`: [(perm, blank)] as sync.incoming.synced_perms gives them;
    `threads`: updates in flight at once (1 when the client cannot fork); `batched`: the
    master takes many updates in one request (remote.batch; set by the push of edits)."""

    tracker: Tracker
    client: TikiClient
    synced: list
    username: str = ""
    progress: Any = None
    threads: int = 1
    batched: bool = False
    result: dict = field(default_factory=_new_result)
    _pool: ThreadPoolExecutor | None = field(default=None, init=False, repr=False)
    _local: threading.local = field(default_factory=threading.local, init=False, repr=False)
    _forks: list = field(default_factory=list, init=False, repr=False)
    _forks_lock: threading.Lock = field(default_factory=threading.Lock, init=False,
                                        repr=False)

    @classmethod
    def open(cls, tracker: Tracker, client: TikiClient, *, username: str = "", progress=None,
             threads: int = 1) -> PushContext:
        """A context for `tracker` as stored now, with the fields the master has now."""
        tracker = type(tracker).get_by_id(tracker.id)  # the caller's copy may predate a reload
        _, remote_fields = client.export_fields(tracker.remote_tracker_id)  # reads its clock too
        return cls(tracker, client, synced_perms(tracker, remote_fields), username, progress,
                   threads if getattr(client, "can_fork", False) else 1)

    @property
    def rid(self) -> int:
        return self.tracker.remote_tracker_id

    # --- reading the master ---------------------------------------------------------------
    def fetch(self, remote_ids: list[int], window: int | None) -> dict[int, dict]:
        """{remote id: item} of `remote_ids` as the master holds them now (client.read_items):
        exactly those on a master that filters by id (ours), whatever its clock; on a Tiki,
        those modified since `window` (status.window_start), the others being unchanged."""
        return self.client.read_items(self.rid, remote_ids, modified_since=window)

    def window(self, remote_clock: int | None, local_at: int | None) -> int | None:
        """The modifiedSince covering every change since the master's clock read
        `remote_clock` (ours `local_at`), widened if its clock has gone back since."""
        return window_start(remote_clock, local_at, self.clock())

    def clock(self) -> int | None:
        """The master's clock at its last answer."""
        return self.client.last_server_time

    # --- outcomes -------------------------------------------------------------------------
    def fail(self, item, message: str) -> None:
        audit.record("item.push_failed", self.username, tracker=self.tracker, item_id=item.id,
                     error=message[:500])
        self.result["failed"].append({"id": item.id, "error": message})

    def skip(self, item_id: int, reason: str) -> None:
        self.result["skipped"].append({"id": item_id, "reason": reason})

    def step(self) -> None:
        if self.progress:
            self.progress.add(1)

    def fail_rest(self, entries: list[dict], exc: Exception) -> None:
        """Report every entry without an outcome yet as failed with `exc`."""
        done = {r["id"] for rows in self.result.values() for r in rows}
        self.result["failed"] += [{"id": e["id"], "error": str(exc)} for e in entries
                                  if e["id"] not in done]

    # --- writing to the master from several threads ---------------------------------------
    def send_update(self, remote_id: int, status: str | None, fields: dict):
        """A future of client.update_item (done at once, in this thread, without a pool)."""
        return self._submit(lambda client: client.update_item(self.rid, remote_id, status,
                                                              fields))

    def send_updates(self, edits: list[tuple[int, dict, str | None]]):
        """A future of remote.batch.update_items: [(remote id, fields, status)] in one
        request, for a master that announces it (`batched`)."""
        return self._submit(lambda client: batch.update_items(client, self.rid, edits))

    def _submit(self, call):
        if self.threads > 1:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="tikisync-push")
            return self._pool.submit(self._in_thread, call)
        return _Done(call, self.client)

    def _in_thread(self, call):
        """`call(client)` in a pool thread, with that thread's own client (HTTP session)."""
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self.client.fork()
            with self._forks_lock:
                self._forks.append(client)
        return call(client)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        for fork in self._forks:
            fork.close()
        self._forks = []


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

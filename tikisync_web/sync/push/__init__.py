"""Push local work to the master (DESIGN §4.3), item by item, never losing a value.

    plan = plan_push(tracker)              # plan.py: what would be sent; nothing is sent
    result = push(tracker, client, plan)   # {"pushed", "failed", "skipped"} (CLI.md)

New items (new_items.py): a PushIntent is written before the insert; the reply must carry a
non-zero itemId (W4); when the reply is lost, the master is searched for the intended item
and it is adopted instead of inserted twice (W6).
Edits (edits.py): only the fields changed here are sent (W8), in batches of EDIT_BATCH (of
BATCHED_EDITS on a master that takes many updates in one request, remote.batch). Just
before writing, the master's values are re-read: a field it changed meanwhile turns the item
into a conflict and nothing is written. After writing, the item is re-read to verify the
master took the values (Tiki answers 200 to a rejected change, W4). The local item stays (W3)
and, with its baseline, becomes what the master now holds. One item's failure never stops the
others (W7).
Each part receives the run's PushContext (context.py) explicitly.
"""
from __future__ import annotations

from ...models import Tracker
from ...remote import batch
from ...remote import errors as remote_errors
from ...remote.client import TikiClient
from . import edits, new_items
from .context import PushContext
from .plan import Plan, plan_push

__all__ = ["BATCHED_EDITS", "EDIT_BATCH", "PUSH_THREADS", "UPDATES_IN_BATCHES", "Plan",
           "PushContext", "plan_push", "push"]

EDIT_BATCH = 50
# On a master that takes many updates in one request: items read before and after at once
# (what one read by itemId asks for), sent in requests of edits.UPDATES_PER_REQUEST.
BATCHED_EDITS = 200
UPDATES_IN_BATCHES = True  # False: one update_item per item even where many are taken
PUSH_THREADS = 4  # updates in flight at once; the master serves them with its own workers


def push(tracker: Tracker, client: TikiClient, plan: Plan, username: str = "", progress=None,
         force: bool = False, threads: int | None = None) -> dict:
    """Run a plan; returns {"pushed", "failed", "skipped"} (CLI.md)."""
    ctx = PushContext.open(tracker, client, username=username, progress=progress,
                           threads=PUSH_THREADS if threads is None else threads)
    try:
        ctx.result["skipped"] += plan.skipped
        if progress:
            progress.total(len(plan.entries), "Pushing")
        for entry in [e for e in plan.entries if e["kind"] == "new"]:
            try:
                new_items.push_new(ctx, entry)
            except remote_errors.RemoteError as exc:
                ctx.result["failed"].append({"id": entry["id"], "error": str(exc)})
            ctx.step()
        _push_edits(ctx, [e for e in plan.entries if e["kind"] == "edit"], force)
    finally:
        ctx.close()
    return ctx.result


def _push_edits(ctx, entries, force):
    """Batch n+1 is read and sent while batch n's answers are recorded."""
    if entries:
        ctx.batched = UPDATES_IN_BATCHES and batch.announced(ctx.client)
    size = BATCHED_EDITS if ctx.batched else EDIT_BATCH
    chunks = [entries[start:start + size] for start in range(0, len(entries), size)]
    pending = None  # (entries, Batch) sent and not yet recorded
    for chunk in chunks + [None]:
        started = None
        if chunk is not None:
            try:
                started = edits.start(ctx, chunk, force=force)
            except remote_errors.RemoteError as exc:  # the batch read failed
                ctx.fail_rest(chunk, exc)
        if pending is not None:
            try:
                edits.finish(ctx, pending[1])
            except remote_errors.RemoteError as exc:  # the read-back failed
                ctx.fail_rest(pending[0], exc)
        pending = (chunk, started) if started is not None else None

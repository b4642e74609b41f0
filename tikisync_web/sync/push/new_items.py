"""Pushing items created here (DESIGN §4.3): a PushIntent is written before the insert; the
reply must carry a non-zero itemId (W4); when the reply is lost, the master is searched for
the intended item (same values, created after the intent) and it is adopted instead of
inserted twice (W6)."""
from __future__ import annotations

import time

from ... import audit
from ...db import write_transaction
from ...items import next_modified, search_text
from ...models import Baseline, Item, PushIntent
from ...remote import errors as remote_errors
from ...values import canonical, content_hash, get, norm
from ..incoming import project
from ..status import MARGIN
from .context import PushContext, payload_hash


def push_new(ctx: PushContext, entry: dict) -> None:
    """Insert one new item on the master (or adopt the one a lost reply created)."""
    item = Item.get_or_none(Item.id == entry["id"])
    if item is None or item.remote_id is not None:
        return ctx.skip(entry["id"], "already pushed")
    send = {p: v for p, v in project(item.values, ctx.synced).items() if v != ""}
    planned = {p: new for p, (_, new) in entry.get("fields", {}).items()}
    if canonical(planned) != canonical(send) and entry.get("fields") is not None:
        return ctx.skip(item.id, "changed since the preview")
    pending = (PushIntent.select().where(PushIntent.item == item, PushIntent.kind == "new",
                                         PushIntent.outcome == "pending")
               .order_by(PushIntent.id.desc()).first())
    if pending is not None:
        found = _earlier_insert(ctx, item, pending)
        if found is not None:
            return adopt(ctx, item, pending, found, adopted=True)
        _finish(pending, "failed")  # not on the master: that attempt never created it
    intent = PushIntent.create(item=item, kind="new", payload={"status": item.status,
                               "fields": send}, payload_hash=payload_hash(item.status, send),
                               remote_clock=ctx.clock())
    try:
        answer = ctx.client.insert_item(ctx.rid, item.status, send)
    except remote_errors.RemoteError as exc:
        if exc.maybe_written:
            return _lost_reply(ctx, item, intent, exc)
        _finish(intent, "failed")
        return ctx.fail(item, str(exc))
    remote_id = answer["itemId"]
    # The master confirmed the item: whatever happens next, the next push adopts this one.
    PushIntent.update(remote_id=remote_id).where(PushIntent.id == intent.id).execute()
    try:
        after = ctx.fetch([remote_id], ctx.window(intent.remote_clock, intent.started))
    except remote_errors.RemoteError as exc:
        return ctx.fail(item, f"created on the master as item {remote_id}, but it could not be "
                              f"read back ({exc}); the next push adopts it")
    adopt(ctx, item, intent, after.get(remote_id, answer), adopted=False)


def _finish(intent: PushIntent, outcome: str) -> None:
    PushIntent.update(outcome=outcome, finished=int(time.time())).where(
        PushIntent.id == intent.id).execute()


def _earlier_insert(ctx: PushContext, item: Item, intent: PushIntent) -> dict | None:
    """The item an earlier attempt created: the one it was told about, or else the one
    find_intended recognises. A remote failure here ends this item's push (nothing sent)."""
    if intent.remote_id is not None:
        return ctx.fetch([intent.remote_id], None).get(intent.remote_id)
    return find_intended(ctx, item, intent)


def _lost_reply(ctx, item, intent, exc):
    """The insert may have been applied: adopt what it created, or say it may exist."""
    note = "the master did not confirm the insert; the next push looks for the item there " \
           "before inserting again"
    try:
        found = find_intended(ctx, item, intent)
    except remote_errors.RemoteError as again:
        return ctx.fail(item, f"{exc} — {note} (looking for it now failed too: {again})")
    if found is not None:
        return adopt(ctx, item, intent, found, adopted=True)
    return ctx.fail(item, f"{exc} — {note}")


def find_intended(ctx: PushContext, item: Item, intent: PushIntent) -> dict | None:
    """The item a lost reply created: the values that were sent and the status, not yet
    known here, created after the intent (as far as the master's clock can tell).

    Only the fields sent are compared: the master fills others by itself (a Tiki 24+ reads
    an empty date as "now"). The window starts before the master's clock at the intent, and
    earlier still when that clock has gone back since."""
    want = canonical(intent.payload.get("fields", {}))
    status = intent.payload.get("status")
    window = ctx.window(intent.remote_clock, intent.started)
    # Remote items known here before the intent, or edited here, are not ours to adopt.
    known = (Item.select(Item.remote_id)
             .where(Item.tracker == ctx.tracker, Item.remote_id.is_null(False),
                    Item.id != item.id,
                    Item.base_hash.is_null() | (Item.hash != Item.base_hash) |
                    (Item.created < intent.started - MARGIN)).tuples())
    mapped = {r for (r,) in known}
    best = None
    for remote in ctx.client.iter_items(ctx.rid, modified_since=window):
        if remote["itemId"] in mapped:
            continue
        created = remote.get("created")
        if created and window is not None and created < window:
            continue  # older than the intent
        theirs = canonical(project(remote["fields"], ctx.synced))
        if any(theirs.get(p) != v for p, v in want.items()) or \
                (status and remote.get("status") not in (None, status)):
            continue
        if best is None or remote["itemId"] > best["itemId"]:
            best = remote
    return best


def adopt(ctx: PushContext, item: Item, intent: PushIntent, remote: dict,
          adopted: bool) -> None:
    """Link `item` to the remote item and make item + baseline what the master holds."""
    remote_id = remote["itemId"]
    theirs = project(remote.get("fields") or {}, ctx.synced)
    status = remote.get("status") or item.status
    mismatch = [p for p, v in intent.payload.get("fields", {}).items()
                if get(theirs, p) != norm(v)]
    with write_transaction():  # reads first: take SQLite's write lock at once
        # A reload may already have copied the remote item here: the copy goes.
        copy = Item.get_or_none(Item.tracker == ctx.tracker, Item.remote_id == remote_id)
        if copy is not None and copy.id != item.id:
            copy.delete_instance(recursive=True)
        mine = dict(item.values or {})
        mine.update((p, v) for p, v in theirs.items() if p not in mismatch)
        base_hash = content_hash(theirs, status)
        Item.update(remote_id=remote_id, values=mine, search_text=search_text(mine),
                    hash=content_hash(mine, status),
                    status=status, modified=next_modified(item.modified), base_hash=base_hash,
                    remote_modified=remote.get("lastModif")).where(
            Item.id == item.id).execute()
        Baseline.delete().where(Baseline.item == item).execute()
        if mismatch:  # the item is not its own base: keep the master's values as base
            Baseline.create(item=item, values=theirs, status=status, hash=base_hash,
                            remote_modified=remote.get("lastModif"))
        PushIntent.update(outcome="adopted" if adopted else "done", remote_id=remote_id,
                          finished=int(time.time())).where(PushIntent.id == intent.id).execute()
        audit.record("item.push_new", ctx.username, tracker=ctx.tracker, item_id=item.id,
                     remote_id=remote_id, adopted=adopted, mismatch=mismatch)
    if mismatch:
        return ctx.fail(item, "the master stored other values for " + ", ".join(mismatch) +
                        " (kept here as local changes)")
    ctx.result["pushed"].append({"id": item.id, "remote_id": remote_id, "kind": "new",
                                 "fields": sorted(intent.payload.get("fields", {})),
                                 **({"adopted": True} if adopted else {})})

"""Pushing edits (DESIGN §4.3): the changed fields of items the master already has.

Edits go in batches: one read of the master before and one after each batch (our master
filters by itemId; a Tiki is narrowed with modifiedSince), the updates of a batch sent by a few
threads, each with its own HTTP session (PushContext.send_update), while the main thread,
which alone touches the database, records the previous batch; a batch's intents, and then its
outcomes (item, baseline, history, audit), are written with a few multi-row statements. Just
before writing, a field the master changed meanwhile turns the item into a conflict and
nothing is sent; after writing, what the master holds is compared with what was sent (Tiki
answers 200 to a rejected change, W4). A master that announces it (our own, remote.batch)
takes a batch's updates UPDATES_PER_REQUEST at a time in one request each.
"""
from __future__ import annotations

import json
import time
from typing import Any, NamedTuple

from ...db import write_transaction
from ...items import next_modified, search_text
from ...models import AuditEvent, Baseline, Item, ItemHistory, PushIntent
from ...remote import errors as remote_errors
from ...values import STATUS_KEY, content_hash, get, norm
from .. import bulk
from ..incoming import project
from ..status import tracker_window
from .context import PushContext, payload_hash


class Edit(NamedTuple):
    """One item's update, judged ready to send: `send` {perm: value}, `status` (None: not
    sent) and what the master held just before (`current`, `current_status`)."""
    item: Item
    send: dict
    status: str | None
    current: dict
    current_status: str


class Batch(NamedTuple):
    """A batch sent: its edits, [(edits, future)] of the requests that carry them (one edit
    each, or up to UPDATES_PER_REQUEST on a master that takes many: ctx.batched), the
    master's clock before and ours at that moment."""
    edits: list[Edit]
    sends: list[tuple[list[Edit], Any]]
    clock: int | None
    started: int


UPDATES_PER_REQUEST = 50


def start(ctx: PushContext, entries: list[dict], force: bool = False) -> Batch | None:
    """Read the batch's items on the master, judge each edit against what it holds now,
    record the intents, and send the updates (in the background when threads are on).
    Returns what `finish` needs, or None when nothing is sent."""
    if not entries:
        return None
    items = {i.id: i for i in Item.select(Item, Baseline).join(Baseline)
             .where(Item.id.in_([e["id"] for e in entries]))}
    # What the master holds now, whatever its clock did since the last check (read by id on
    # our own master; on a Tiki, a window widened when its clock went back).
    before = ctx.fetch([i.remote_id for i in items.values()],
                       tracker_window(ctx.tracker, ctx.clock()))
    clock, started = ctx.clock(), int(time.time())
    ready = []
    for entry in entries:
        item = items.get(entry["id"])
        if item is not None:
            edit = _prepare(ctx, item, before.get(item.remote_id), entry, force)
            if edit is not None:
                ready.append(edit)
    if not ready:
        return None
    now = int(time.time())
    bulk.insert_rows(PushIntent, ["item", "kind", "payload", "payload_hash", "started",
                                  "remote_clock", "outcome"], [
        (e.item.id, "edit", _json({"status": e.status, "fields": e.send}),
         payload_hash(e.status, e.send), now, clock, "pending")
        for e in ready])  # written ahead of the updates
    if ctx.batched:
        sends = [(ready[at:at + UPDATES_PER_REQUEST], ctx.send_updates(
            [(e.item.remote_id, e.send, e.status) for e in ready[at:at + UPDATES_PER_REQUEST]]))
            for at in range(0, len(ready), UPDATES_PER_REQUEST)]
    else:
        sends = [([e], ctx.send_update(e.item.remote_id, e.status, e.send)) for e in ready]
    return Batch(ready, sends, clock, started)


def _answers(ctx, batch):
    """{local item id: the master's answer, or the RemoteError its update ended with}."""
    answers = {}
    for edits, future in batch.sends:
        try:
            answer = future.result()
        except remote_errors.RemoteError as exc:
            if ctx.batched and isinstance(exc, remote_errors.NotFound):
                # The request's 404 (no such route or tracker) says nothing of its items.
                exc = remote_errors.RemoteError(str(exc), url=exc.url, status=404)
            answers.update((edit.item.id, exc) for edit in edits)
            continue
        if not ctx.batched:
            answers[edits[0].item.id] = answer
        else:
            answers.update((edit.item.id, answer[edit.item.remote_id]) for edit in edits)
    return answers


def finish(ctx: PushContext, batch: Batch) -> None:
    """Wait for a batch's updates, re-read what the master took, record the outcomes. An
    update of many items whose answer was lost may have been applied: its items are judged by
    what the re-read finds, as the others are (never sent again blindly)."""
    written, answers = [], _answers(ctx, batch)
    for edit in batch.edits:
        answer = answers[edit.item.id]
        if isinstance(answer, remote_errors.NotFound):
            Baseline.update(deleted_on_master=True).where(
                Baseline.id == edit.item.baseline.id).execute()
            ctx.skip(edit.item.id, "deleted_on_master")
            continue
        if isinstance(answer, remote_errors.RemoteError) and not (
                ctx.batched and answer.maybe_written):
            ctx.fail(edit.item, str(answer))
            continue
        written.append(edit)
        ctx.step()
    if not written:
        return
    after = ctx.fetch([e.item.remote_id for e in written],
                      ctx.window(batch.clock, batch.started))
    outcomes = _Outcomes(ctx)
    for edit in written:
        _record(ctx, edit, after.get(edit.item.remote_id), outcomes,
                _rejection(edit, answers.get(edit.item.id)))
    outcomes.write()


def _rejection(edit, answer):
    """None when the update's answer carries the values sent; else why the master did not
    take them, as it said (Tiki 18+ answers 200 to a rejected change, W4), or the error of
    an update that may have been applied."""
    if isinstance(answer, remote_errors.RemoteError):
        return str(answer)
    answer = answer or {}
    values = answer.get("fields") or {}
    if edit.send and all(get(values, p) == norm(v) for p, v in edit.send.items()):
        return None
    if not edit.send and edit.status and answer.get("status") == edit.status:
        return None
    message = answer.get("message")
    return "the master rejected it" + (f" ({message})" if message else
                                       " (it answered without the values sent)")


def _prepare(ctx, item, fresh, entry, force):
    """The Edit to send, or None (changed since the preview, a new conflict, nothing to do)."""
    base = item.baseline
    if any(get(item.values, p) != norm(new) for p, (_, new) in entry["fields"].items()):
        return ctx.skip(item.id, "changed since the preview")
    current = project(fresh["fields"], ctx.synced) if fresh else (
        base.theirs if base.theirs is not None else base.values)
    current_status = (fresh or {}).get("status") or base.theirs_status or base.status
    send = {}
    for perm in entry["fields"]:
        mine, was, now = get(item.values, perm), get(base.values, perm), get(current, perm)
        if now == mine:
            continue  # the master already holds it
        if now != was and not force:
            return _new_conflict(ctx, item, current, current_status)
        send[perm] = item.values.get(perm, "")
    status = None
    if entry.get("status") and current_status != item.status:
        if current_status != base.status and not force:
            return _new_conflict(ctx, item, current, current_status)
        status = item.status
    if not send and status is None:
        return _settle(ctx, item, current, current_status)
    return Edit(item, send, status, current, current_status)


def _new_conflict(ctx, item, current, current_status):
    Baseline.update(theirs=current, theirs_status=current_status).where(
        Baseline.id == item.baseline.id).execute()
    ctx.skip(item.id, "conflict")


def _settle(ctx, item, current, status):
    """Nothing to send: the master already holds our values; align the baseline."""
    base_hash = content_hash(current, status)
    with write_transaction():  # the base and its hash on the item move together
        Baseline.update(values=current, status=status, hash=base_hash,
                        theirs=None, theirs_status=None).where(
            Baseline.id == item.baseline.id).execute()
        Item.update(base_hash=base_hash).where(Item.id == item.id).execute()
    ctx.skip(item.id, "unchanged")


def _record(ctx, edit, fresh, outcomes, rejection=None):
    """The item and its baseline become what the master holds (but what it did not take,
    which stays here as a local change); the rows go to `outcomes`. `rejection`: what the
    update's answer said when it did not carry the values sent."""
    item, send, status = edit.item, edit.send, edit.status
    theirs = project(fresh["fields"], ctx.synced) if fresh else None
    if theirs is None:
        if rejection:  # absent from what changed since the update: it did not change
            return ctx.fail(item, f"{rejection}; kept here as a local change")
        return ctx.fail(item, "the item could not be read back from the master after the "
                              "update; reload to see what it holds")
    remote_status = fresh.get("status") or item.status
    mismatch = [p for p, v in send.items() if get(theirs, p) != norm(v)]
    if status and remote_status != status:
        mismatch.append(STATUS_KEY)
    mine = dict(item.values or {})
    for perm, value in theirs.items():
        if perm not in mismatch and get(mine, perm) != get(theirs, perm):
            outcomes.history(item, "local", perm, mine.get(perm), value)
            mine[perm] = value
    for perm in send:
        if perm not in mismatch:
            outcomes.history(item, "master", perm, edit.current.get(perm), send[perm])
    mine_status = item.status if STATUS_KEY in mismatch else remote_status
    now = int(time.time())
    base_hash = content_hash(theirs, remote_status)
    outcomes.items.append((_json(mine), search_text(mine), mine_status,
                           content_hash(mine, mine_status),
                           next_modified(item.modified), base_hash, fresh.get("lastModif"),
                           item.id))
    outcomes.baselines.append((_json(theirs), remote_status, base_hash, None, None, now,
                               fresh.get("lastModif"), item.baseline.id))
    outcomes.intents.append(("failed" if mismatch else "done", item.remote_id, now, item.id))
    outcomes.audit.append(("item.push_edit", item.id, {
        "remote_id": item.remote_id, "fields": sorted(send), "status": status,
        "mismatch": mismatch}))
    if mismatch:
        outcomes.failed.append((item, f"{rejection}: it did not take {_names(mismatch)} "
                                "(kept here as a local change)" if rejection else
                                "the master did not take " + _names(mismatch) +
                                " (it answered success but holds other values; kept here)"))
    else:
        outcomes.pushed.append({"id": item.id, "remote_id": item.remote_id, "kind": "edit",
                                "fields": sorted(send) + ([STATUS_KEY] if status else [])})


def _names(perms):
    return ", ".join("the item status" if p == STATUS_KEY else p for p in perms)


def _json(value):
    return json.dumps(value, ensure_ascii=False)


class _Outcomes:
    """What finishing a batch of edits writes locally, in one transaction."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.items, self.baselines, self.intents = [], [], []
        self.histories, self.audit, self.pushed, self.failed = [], [], [], []

    def history(self, item, side, perm, old, new):
        if norm(old) != norm(new):
            self.histories.append((item.id, int(time.time()), self.ctx.username, side, "push",
                                   perm, None if old is None else str(old),
                                   None if new is None else str(new)))

    def write(self):
        ctx = self.ctx
        with write_transaction():
            bulk.update_rows(Item, ["values", "search_text", "status", "hash", "modified",
                                    "base_hash", "remote_modified"], self.items)
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
                             [(now, ctx.username or "", ctx.tracker.id, item_id, action,
                               _json(summary)) for action, item_id, summary in self.audit])
        ctx.result["pushed"] += self.pushed
        for item, message in self.failed:
            ctx.fail(item, message)

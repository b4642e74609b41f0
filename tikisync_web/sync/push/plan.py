"""What a push will send, decided from the local database alone: nothing is sent here."""
from __future__ import annotations

from collections.abc import Iterable

from ...models import Baseline, Item, Tracker
from ...values import STATUS_KEY
from ..status import classify, perms_of, verdicts_for


class Plan:
    """Exactly what a push will send: per item, kind and {perm: (old, new)}."""

    def __init__(self):
        self.entries, self.skipped = [], []

    def as_dict(self) -> dict:
        return {"items": self.entries, "skipped": self.skipped}


def _values_of(item, perms):
    return {p: (item.values or {}).get(p, "") for p in perms}


def plan_push(tracker: Tracker, *, new: bool = True, modified: bool = True,
              item_ids: Iterable[int] | None = None, force: bool = False) -> Plan:
    """Decide what to send; nothing is sent. `item_ids` limits the plan to those items."""
    perms = perms_of(tracker)
    lists = classify(tracker)
    wanted = None if not item_ids else {int(i) for i in item_ids}
    plan = Plan()

    def take(ids):
        return [i for i in ids if wanted is None or i in wanted]

    if new:
        plan.entries += _new_entries(take(lists["new"]), perms)
    edit_ids = take(lists["modified"]) if modified else []
    conflict_ids = take(lists["conflicts"])
    for item_id in take(lists["deleted_on_master"]):
        plan.skipped.append({"id": item_id, "reason": "deleted_on_master"})
    if not force:
        plan.skipped += [{"id": i, "reason": "conflict"} for i in conflict_ids]
    else:
        edit_ids += conflict_ids
    plan.entries += _edit_entries(edit_ids, perms, force)
    if wanted:
        known = {e["id"] for e in plan.entries} | {s["id"] for s in plan.skipped}
        plan.skipped += [{"id": i, "reason": "unchanged"} for i in sorted(wanted - known)]
    return plan


def _new_entries(item_ids, perms):
    return [{"id": item.id, "kind": "new", "status": item.status,
             "fields": {p: ["", v] for p, v in _values_of(item, perms).items()
                        if v not in ("", None)}}
            for item in Item.select().where(Item.id.in_(item_ids)).order_by(Item.id)]


def _edit_entries(item_ids, perms, force):
    """Per item, the fields changed here only (and, with `force`, those in conflict)."""
    entries = []
    rows = (Item.select(Item, Baseline).join(Baseline).where(Item.id.in_(item_ids))
            .order_by(Item.id))
    for item in rows:
        verdicts = verdicts_for(item.values, item.status, item.baseline, perms)
        send = [p for p, v in verdicts.items() if v == "local" or (force and v == "conflict")]
        fields = {p: [item.baseline.values.get(p, ""), item.values.get(p, "")]
                  for p in send if p != STATUS_KEY}
        entry = {"id": item.id, "kind": "edit", "remote_id": item.remote_id, "fields": fields,
                 "status": item.status if STATUS_KEY in send else None}
        if fields or entry["status"]:
            entries.append(entry)
    return entries

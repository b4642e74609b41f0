"""The push preview's "Master now": what the master holds at this moment for the items a push
would edit, read before anything is sent, so an item the master changed since the last reload
shows as the conflict it will be (the push itself re-reads and skips it either way)."""
from __future__ import annotations

from ..models import Baseline, Tracker
from ..remote import exportfmt
from ..remote.client import TikiClient
from ..values import STATUS_KEY
from .incoming import project, synced_perms
from .push.plan import Plan
from .status import tracker_window


def master_now(tracker: Tracker, client: TikiClient, plan: Plan) -> dict[int, dict]:
    """{local item id: {"values", "status", "moved", "gone"}} for the plan's edits: the master's
    current values and status; `moved`, the fields (STATUS_KEY for the status) the push would
    send that the master changed since the base; `gone`, deleted on the master meanwhile."""
    edits = [e for e in plan.entries if e["kind"] == "edit"]
    if not edits:
        return {}
    synced = synced_perms(tracker, exportfmt.parse(tracker.remote_schema or ""))
    fresh = client.read_items(tracker.remote_tracker_id, [e["remote_id"] for e in edits],
                              modified_since=tracker_window(tracker, client.last_server_time))
    bases = {b.item_id: b for b in Baseline.select().where(
        Baseline.item.in_([e["id"] for e in edits]))}
    exact = client.filters_ids is not False  # a master that answers by id: missing = deleted
    now = {}
    for entry in edits:
        base = bases.get(entry["id"])
        base_values = (base.values or {}) if base else {}
        base_status = base.status if base else None
        remote = fresh.get(entry["remote_id"])
        if remote is None:
            if exact:
                now[entry["id"]] = {"values": {}, "status": None, "moved": [], "gone": True}
                continue
            # A Tiki lists only what changed since the window: this one did not.
            theirs = base.theirs if base is not None and base.theirs is not None else base_values
            values, status = theirs, (base.theirs_status if base else None) or base_status
        else:
            values, status = project(remote.get("fields"), synced), remote.get("status") or "o"
        sent = list(entry["fields"]) + ([STATUS_KEY] if entry.get("status") else [])
        moved = [p for p in sent if (status if p == STATUS_KEY else values.get(p, "")) !=
                 (base_status if p == STATUS_KEY else base_values.get(p, ""))]
        now[entry["id"]] = {"values": values, "status": status, "moved": moved, "gone": False}
    return now

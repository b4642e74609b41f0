"""Remote schema after the clone: drift, "Reload field definitions" and adopting new fields.

Tiki's clone is frozen at creation ("destroy the clone and create a new one", W16): here the
field export adopted at clone time is kept on the tracker (remote_schema), compared with the
master's current one (added / removed / retyped), refreshed in place (Tiki's sync_meta: names,
options, flags of existing fields) and extended with fields the master added since.
"""
from __future__ import annotations

from .. import audit
from ..db import write_transaction
from ..fields import field_type
from ..models import Field, Tracker
from ..remote import exportfmt
from ..remote.client import TikiClient
from .clone import FieldPlan, _field_row, plan_field


def drift(tracker: Tracker, current_export: str) -> dict:
    """Remote schema changes since the export last adopted (clone, refresh or adopt)."""
    before = {f["permName"]: f for f in exportfmt.parse(tracker.remote_schema or "")}
    after = {f["permName"]: f for f in exportfmt.parse(current_export or "")}
    return {
        "added": [{"perm": p, "type": f["type"], "name": f["name"]}
                  for p, f in after.items() if p not in before],
        "removed": [{"perm": p, "type": f["type"], "name": f["name"]}
                    for p, f in before.items() if p not in after],
        "retyped": [{"perm": p, "from": before[p]["type"], "to": f["type"], "name": f["name"]}
                    for p, f in after.items() if p in before and before[p]["type"] != f["type"]],
    }


def _store_schema(tracker, adopted):
    """Record `adopted` (permName -> current remote definition) in the stored export; entries
    of other fields stay as they were, so their drift keeps showing."""
    stored = exportfmt.parse(tracker.remote_schema or "")
    perms = {f["permName"] for f in stored}
    rows = [adopted.get(f["permName"], f) for f in stored]
    rows += [f for p, f in adopted.items() if p not in perms]
    text = _reexport(rows)
    Tracker.update(remote_schema=text).where(Tracker.id == tracker.id).execute()
    tracker.remote_schema = text


def refresh_fields(tracker: Tracker, client: TikiClient, username: str = "") -> dict:
    """Tiki's sync_meta: refresh names, options and flags of existing fields from the master
    (new users, categories, linked items). New remote fields are not added (see adopt_fields);
    a field whose options cannot be read now is left as it is."""
    text, parsed = client.export_fields(tracker.remote_tracker_id)
    local = {f.perm_name: f for f in tracker.ordered_fields()}
    remote = {f["permName"]: f for f in parsed if f["permName"] in local}
    plans = [plan_field(client, f) for f in remote.values()]  # remote calls before the writes
    changes, skipped, adopted = [], [], {}
    with write_transaction():
        for fp in plans:
            mine = local[fp.perm]
            if fp.action == "skipped" or fp.problem:
                skipped.append({"perm": fp.perm, "reason": fp.reason})
                continue
            new = {"name": fp.name, "options": fp.options, "mandatory": fp.mandatory,
                   "description": fp.description, "flags": fp.flags, "type": fp.local_type,
                   "remote_type": fp.remote_type if fp.action == "transformed" else None,
                   "remote_field_id": fp.remote_id}
            diff = [k for k, v in new.items() if getattr(mine, k) != v]
            if diff:
                Field.update(**new).where(Field.id == mine.id).execute()
                changes.append({"perm": mine.perm_name, "changed": diff})
            adopted[fp.perm] = remote[fp.perm]
        _store_schema(tracker, adopted)
        audit.record("tracker.refresh_fields", username, tracker=tracker, changes=changes,
                     skipped=skipped)
    failed = [{"perm": fp.perm, "reason": fp.reason or fp.problem} for fp in plans if fp.problem]
    return {"changed": changes, "skipped": skipped, "failed": failed,
            "drift": drift(tracker, text)}


def adopt_fields(tracker: Tracker, client: TikiClient, perms: list[str],
                 username: str = "") -> list[FieldPlan]:
    """Add remote fields that appeared after the clone (beyond Tiki, which says "destroy the
    clone and create a new one"). Returns the plans: a field of a type that is never cloned is
    acknowledged (no longer reported as added) but not created."""
    text, parsed = client.export_fields(tracker.remote_tracker_id)
    existing = {f.perm_name for f in tracker.fields}
    known = {f["permName"] for f in exportfmt.parse(tracker.remote_schema or "")}
    wanted = [f for f in parsed if f["permName"] in set(perms) and f["permName"] not in known]
    plans = []
    for remote in wanted:
        if remote["permName"] in existing:
            plans.append(FieldPlan(remote["permName"], remote["name"], remote["type"],
                                   remote["fieldId"], "skipped", reason=(
                                       "a local field already has this permanent name: rename "
                                       "or delete it, then adopt again")))
        else:
            plans.append(plan_field(client, remote))
    by_perm = {f["permName"]: f for f in wanted}
    with write_transaction():
        last = max([f.position for f in tracker.fields] or [0])
        for fp in plans:
            if fp.action == "skipped":
                continue
            last += 10
            Field.create(**_field_row(tracker, fp, last))
        # Acknowledged: what was created, and types that are never cloned. A field that could
        # not be read now, or clashes with a local field, stays "added" so it can be retried.
        _store_schema(tracker, {fp.perm: by_perm[fp.perm] for fp in plans
                                if fp.action != "skipped" or (
                                    field_type(fp.remote_type).policy == "skip"
                                    and fp.perm not in existing)})
        audit.record("tracker.adopt_fields", username, tracker=tracker,
                     fields=[fp.perm for fp in plans if fp.action != "skipped"],
                     skipped=[{"perm": fp.perm, "reason": fp.reason}
                              for fp in plans if fp.action == "skipped"])
    return plans


def _reexport(parsed):
    rows = []
    for f in parsed:
        rows.append({"fieldId": f["fieldId"], "name": f["name"], "permName": f["permName"],
                     "position": f["position"], "type": f["type"], "options": f["options_raw"],
                     "isMandatory": "y" if f["isMandatory"] else "n",
                     "description": f["description"], **f["flags"]})
    return exportfmt.write(rows)

"""Remote tracker + field export -> local tracker (tiki-protocol.md §7.1, §7.2, §8; DESIGN §6).

The policy per remote type comes from fields.py: synchronizable types are kept with their
options; `u`, `e`, `r` are transformed into dropdowns whose options are read from the master
(users, categories, linked items); everything else is skipped with a reason. A remote problem
with one field (categories not readable, say) skips that field, never the whole clone.
"""
import re
from dataclasses import dataclass, field as dc_field

from .. import audit
from ..db import database
from ..fields import field_type
from ..models import Field, Tracker
from ..remote import exportfmt

FLAG_DEFAULTS = {"isMain": "n", "isTblVisible": "y", "isSearchable": "y", "isPublic": "y",
                 "isHidden": "n"}
_TAGS = re.compile(r"<[^>]*>")


class CloneError(Exception):
    """The clone cannot be made; the message says why and what to do."""


@dataclass
class FieldPlan:
    perm: str
    name: str
    remote_type: str
    remote_id: int
    action: str  # kept | transformed | skipped
    local_type: str = ""
    options: dict = dc_field(default_factory=dict)
    reason: str = ""
    mandatory: bool = False
    description: str = ""
    position: int = 0
    flags: dict = dc_field(default_factory=dict)


@dataclass
class ClonePlan:
    remote_tracker_id: int
    name: str
    description: str
    export: str
    fields: list

    def report(self, tracker_id=None):
        """The CLI.md shape: tracker, kept, transformed, skipped."""
        return {
            "tracker": tracker_id,
            "kept": [f.perm for f in self.fields if f.action == "kept"],
            "transformed": [{"perm": f.perm, "from": f.remote_type, "to": f.local_type,
                             "options": f.options, "reason": f.reason}
                            for f in self.fields if f.action == "transformed"],
            "skipped": [{"perm": f.perm, "type": f.remote_type, "reason": f.reason}
                        for f in self.fields if f.action == "skipped"],
        }


def _legacy_parts(options):
    return str(options.get("legacy", "")).split(",") if "legacy" in options else None


def _users(client, options):
    legacy = _legacy_parts(options)
    groups = options.get("groupIds") or ([g for g in legacy[2].split("|") if g]
                                         if legacy and len(legacy) > 2 else [])
    users = client.list_users(group_ids=[g for g in groups if str(g).strip()] or None)
    logins = [u.get("login") if isinstance(u, dict) else u for u in users or []]
    return sorted({str(login) for login in logins if login})


def _categories(client, options):
    legacy = _legacy_parts(options)
    parent = options.get("parentId", legacy[0] if legacy else None)
    descends = options.get("descendants", legacy[2] if legacy and len(legacy) > 2 else 0)
    rows = client.list_categories(parent_id=parent or None, descends=str(descends) in ("1", "y"))
    rows = rows.values() if isinstance(rows, dict) else rows or []
    result = []
    for row in rows:
        if isinstance(row, dict) and row.get("categId") not in (None, ""):
            result.append(f"{row['categId']}={row.get('name', row['categId'])}")
    return result


def _category_multiple(options):
    legacy = _legacy_parts(options)
    inputtype = options.get("inputtype", legacy[1] if legacy and len(legacy) > 1 else "d")
    return inputtype in ("m", "checkbox")


def _item_links(client, options):
    legacy = _legacy_parts(options)
    tracker_id = options.get("trackerId", legacy[0] if legacy else None)
    display_id = options.get("fieldId", legacy[1] if legacy and len(legacy) > 1 else None)
    if not tracker_id or not display_id:
        raise CloneError("the item link names no linked tracker or display field")
    answer = client.edit_field(int(tracker_id), int(display_id))
    field = answer.get("field", answer) if isinstance(answer, dict) else {}
    perm = field.get("permName") if isinstance(field, dict) else None
    if not perm:
        raise CloneError("the master did not say which field the item link displays")
    options_out = []
    for item in client.iter_items(int(tracker_id), fmt=None):
        label = _TAGS.sub("", str(item["fields"].get(perm, ""))).strip()
        options_out.append(f"{item['itemId']}={label or item['itemId']}")
    return options_out


def _transform(client, remote, plan):
    """Fill plan for u / e / r from the master; raises on what cannot be read."""
    code, options = remote["type"], remote["options"]
    if code == "u":
        try:
            logins = _users(client, options)
        except Exception as exc:  # noqa: BLE001 - any remote failure means "not readable"
            logins, why = [], f"the user list is not readable ({_short(exc)})"
        else:
            why = "the master's user list is empty"
        if logins:
            multiple = str(options.get("multiple", "0")) in ("1", "y", "true")
            plan.local_type = "M" if multiple else "d"
            plan.options = {"options": logins}
            plan.reason = f"a dropdown of the {len(logins)} users of the master"
        else:
            plan.local_type, plan.options, plan.reason = "t", {}, f"a text field: {why}"
    elif code == "e":
        choices = _categories(client, options)
        plan.local_type = "M" if _category_multiple(options) else "d"
        plan.options = {"options": choices}
        plan.reason = f"a {'multi-select' if plan.local_type == 'M' else 'dropdown'} of " \
                      f"{len(choices)} categories (categId=Name)"
    elif code == "r":
        choices = _item_links(client, options)
        plan.local_type, plan.options = "d", {"options": choices}
        plan.reason = f"a dropdown of the {len(choices)} linked items (remoteItemId=label)"


def _short(exc):
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def plan_field(client, remote):
    """What happens to one remote field definition (a dict from exportfmt.parse)."""
    kind = field_type(remote["type"])
    plan = FieldPlan(
        perm=remote["permName"], name=remote["name"], remote_type=remote["type"],
        remote_id=remote["fieldId"], action="kept", local_type=remote["type"],
        options=dict(remote["options"]), mandatory=remote["isMandatory"],
        description=remote["description"], position=remote["position"],
        flags={**FLAG_DEFAULTS, **{k: v for k, v in remote["flags"].items() if v in ("y", "n")}},
    )
    if kind.policy == "skip":
        plan.action, plan.reason = "skipped", kind.reason
    elif kind.policy == "transform":
        plan.action = "transformed"
        try:
            _transform(client, remote, plan)
        except Exception as exc:  # noqa: BLE001 - one field's trouble must not sink the clone
            plan.action = "skipped"
            plan.reason = f"{kind.label} options could not be read from the master: {_short(exc)}"
    if "legacy" in plan.options and plan.action == "kept" and \
            kind.kind not in ("choice", "multichoice"):
        # CSV options of Tiki <= 11 mean something only per type; keep the text as found.
        plan.options = {"legacy": plan.options["legacy"]}
    elif plan.action != "kept":
        plan.options.pop("legacy", None)
    return plan


def plan_clone(client, remote_tracker_id):
    """Read the remote tracker and decide every field; creates nothing."""
    remote_tracker_id = int(remote_tracker_id)
    trackers = {t["id"]: t for t in client.list_trackers()}
    remote = trackers.get(remote_tracker_id)
    if remote is None:
        raise CloneError(f"the master has no tracker {remote_tracker_id} visible to this "
                         f"account (it lists {len(trackers)})")
    text, parsed = client.export_fields(remote_tracker_id)
    if not parsed:
        raise CloneError("the master's field export is empty: the account may lack "
                         "tracker-admin rights on that tracker")
    plans = [plan_field(client, f) for f in sorted(parsed, key=lambda f: (f["position"], f["fieldId"]))]
    return ClonePlan(remote_tracker_id, remote["name"], remote.get("description") or "", text, plans)


def create_clone(plan, source_url, protocol=None, credential=None, username=""):
    """Create the local tracker and its fields from a plan, in one transaction."""
    with database.atomic():
        tracker = Tracker.create(
            name=plan.name, description=plan.description, source_url=source_url.rstrip("/"),
            remote_tracker_id=plan.remote_tracker_id, protocol=protocol, credential=credential,
            remote_schema=plan.export)
        position = 0
        for fp in plan.fields:
            if fp.action == "skipped":
                continue
            position += 10
            Field.create(
                tracker=tracker, perm_name=fp.perm, name=fp.name, type=fp.local_type,
                options=fp.options, position=position, mandatory=fp.mandatory,
                description=fp.description, flags=fp.flags,
                remote_type=fp.remote_type if fp.action == "transformed" else None,
                remote_field_id=fp.remote_id)
        report = plan.report(tracker.id)
        audit.record("tracker.clone", username, tracker=tracker, source=tracker.source_url,
                     remote_tracker=plan.remote_tracker_id, kept=report["kept"],
                     transformed=report["transformed"], skipped=report["skipped"])
    return tracker


def drift(tracker, current_export):
    """Remote schema changes since the export adopted at clone time."""
    before = {f["permName"]: f for f in exportfmt.parse(tracker.remote_schema or "")}
    after = {f["permName"]: f for f in exportfmt.parse(current_export or "")}
    return {
        "added": [{"perm": p, "type": f["type"], "name": f["name"]}
                  for p, f in after.items() if p not in before],
        "removed": [{"perm": p, "type": f["type"], "name": f["name"]}
                    for p, f in before.items() if p not in after],
        "retyped": [{"perm": p, "from": before[p]["type"], "to": f["type"]}
                    for p, f in after.items() if p in before and before[p]["type"] != f["type"]],
    }


def refresh_fields(tracker, client, username=""):
    """Tiki's sync_meta: refresh names, options and flags of existing fields from the master."""
    text, parsed = client.export_fields(tracker.remote_tracker_id)
    local = {f.perm_name: f for f in tracker.ordered_fields()}
    changes = []
    with database.atomic():
        for remote in parsed:
            mine = local.get(remote["permName"])
            if mine is None:
                continue
            fp = plan_field(client, remote)
            if fp.action == "skipped":
                continue
            new = {"name": fp.name, "options": fp.options, "mandatory": fp.mandatory,
                   "description": fp.description, "flags": fp.flags, "type": fp.local_type,
                   "remote_type": fp.remote_type if fp.action == "transformed" else None,
                   "remote_field_id": fp.remote_id}
            diff = [k for k, v in new.items() if getattr(mine, k) != v]
            if diff:
                Field.update(**new).where(Field.id == mine.id).execute()
                changes.append({"perm": mine.perm_name, "changed": diff})
        audit.record("tracker.refresh_fields", username, tracker=tracker, changes=changes)
    return {"changed": changes, "drift": drift(tracker, text)}


def adopt_fields(tracker, client, perms, username=""):
    """Add remote fields that appeared after the clone (beyond Tiki); returns the plans."""
    text, parsed = client.export_fields(tracker.remote_tracker_id)
    existing = {f.perm_name for f in tracker.fields}
    wanted = [f for f in parsed if f["permName"] in set(perms) and f["permName"] not in existing]
    plans = [plan_field(client, f) for f in wanted]
    with database.atomic():
        last = max([f.position for f in tracker.fields] or [0])
        for fp in plans:
            if fp.action == "skipped":
                continue
            last += 10
            Field.create(tracker=tracker, perm_name=fp.perm, name=fp.name, type=fp.local_type,
                         options=fp.options, position=last, mandatory=fp.mandatory,
                         description=fp.description, flags=fp.flags, remote_field_id=fp.remote_id,
                         remote_type=fp.remote_type if fp.action == "transformed" else None)
        # The adopted definition becomes the reference for the next drift check.
        adopted = {f["permName"] for f in exportfmt.parse(tracker.remote_schema or "")}
        adopted |= {fp.perm for fp in plans}
        keep = [f for f in parsed if f["permName"] in adopted]
        Tracker.update(remote_schema=_reexport(keep)).where(Tracker.id == tracker.id).execute()
        audit.record("tracker.adopt_fields", username, tracker=tracker,
                     fields=[fp.perm for fp in plans])
    return plans


def _reexport(parsed):
    rows = []
    for f in parsed:
        rows.append({"fieldId": f["fieldId"], "name": f["name"], "permName": f["permName"],
                     "position": f["position"], "type": f["type"], "options": f["options_raw"],
                     "isMandatory": "y" if f["isMandatory"] else "n",
                     "description": f["description"], **f["flags"]})
    return exportfmt.write(rows)

"""Remote tracker + field export -> local tracker (tiki-protocol.md §7.1, §7.2, §8; DESIGN §6).

The policy per remote type comes from fields.py: synchronizable types are kept with their
options; `u`, `e`, `r` are transformed into dropdowns whose options are read from the master
(users, categories, linked items); everything else is skipped with a reason. A remote problem
with one field (categories not readable, say) skips that field, never the whole clone.

Where we knowingly differ from Tiki: a multiple user selector or item link becomes a
multiselect (`M`), since a dropdown cannot hold the comma-joined values those fields store;
the legacy `sMandatory` key of Tiki 9-12 is read, so the mandatory flag survives; Tiki 9-11
CSV options are read by position (Category's `descendants` is the 4th, Item Link's status
filter the 5th); item-link labels are plain text (Tiki keeps the rendered HTML, W19).
"""
from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from dataclasses import field as dc_field

from .. import audit
from ..db import write_transaction
from ..fields import PERM_NAME, field_type
from ..models import Field, Tracker
from ..remote.client import TikiClient
from ..remote.errors import RemoteValidationError

FLAG_DEFAULTS = {"isMain": "n", "isTblVisible": "y", "isSearchable": "y", "isPublic": "y",
                 "isHidden": "n"}
_TAGS = re.compile(r"<[^>]*>")
_DATE_TYPES = ("f", "j", "CAL")


class CloneError(Exception):
    """The clone cannot be made; the message says why and what to do."""


class FieldTrouble(Exception):
    """The master could not give what one field needs; that field is skipped."""


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
    problem: str = ""  # a remote read failed and a fallback was used (refresh keeps the field)


@dataclass
class ClonePlan:
    remote_tracker_id: int
    name: str
    description: str
    export: str
    fields: list

    def report(self, tracker_id: int | None = None) -> dict:
        """The CLI.md shape: tracker, kept, transformed, skipped."""
        return {
            "tracker": tracker_id,
            "kept": [f.perm for f in self.fields if f.action == "kept"],
            "transformed": [{"perm": f.perm, "from": f.remote_type, "to": f.local_type,
                             "options": f.options, "reason": f.reason}
                            for f in self.fields if f.action == "transformed"],
            "skipped": [{"perm": f.perm, "type": f.remote_type, "reason": f.reason}
                        for f in self.fields if f.action == "skipped"],
            # fields whose data could not be read from the master (refresh-fields retries)
            "failed": [{"perm": f.perm, "reason": f.problem}
                       for f in self.fields if f.problem],
        }

    def digest(self) -> str:
        """Changes whenever anything the preview shows would change."""
        import hashlib

        body = json.dumps([self.remote_tracker_id, self.name, self.description,
                           [vars(f) for f in self.fields]], sort_keys=True, default=str)
        return hashlib.sha1(body.encode("utf-8"), usedforsecurity=False).hexdigest()


# --- options as the master wrote them --------------------------------------------------------

def remote_options(remote: dict) -> dict:
    """The options dict of a parsed remote field; PHP's empty array `[]` is no options."""
    raw = str(remote.get("options_raw", "")).strip()
    if raw in ("", "[]", "null", "{}"):
        return {}
    return dict(remote.get("options") or {})


def _legacy(options, index, default=None):
    """Positional option `index` of Tiki 9-11's comma-separated options, if that is what we have."""
    if "legacy" not in options:
        return default
    parts = str(options["legacy"]).split(",")
    return parts[index].strip() if index < len(parts) and parts[index].strip() != "" else default


def _option(options, name, index, default=None):
    value = options.get(name)
    if value in (None, "", []):
        value = _legacy(options, index, default)
    return default if value in (None, "") else value


def _truthy(value):
    return str(value).strip().lower() in ("1", "y", "yes", "true")


def _int_or_none(value):
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number or None  # Tiki's "0" means "none"


# --- the three transformed types (§8.1) ------------------------------------------------------

def _users(client, options):
    groups = options.get("groupIds")
    if groups in (None, "", []):
        groups = [g for g in str(_legacy(options, 2, "")).split("|") if g.strip()]
    if isinstance(groups, (str, int)):
        groups = [g for g in str(groups).split("|") if g.strip()]
    ids = [n for n in (_int_or_none(g) for g in groups) if n]
    users = client.list_users(group_ids=ids or None)
    logins = [u.get("login") if isinstance(u, dict) else u for u in users or []]
    return sorted({str(login) for login in logins if login not in (None, "")})


def _categories(client, options):
    parent = _int_or_none(_option(options, "parentId", 0))
    descends = _truthy(_option(options, "descendants", 3, 0))
    try:
        rows = client.list_categories(parent_id=parent, descends=descends)
    except RemoteValidationError as exc:
        if parent is not None or exc.status != 409:
            raise
        raise FieldTrouble("this master (Tiki 9-23) lists categories only under a parent "
                           "category and the field names none: give it a parent category on "
                           "the master, or add the field here by hand") from None
    rows = rows.values() if isinstance(rows, dict) else rows or []
    result = []
    for row in rows:
        if isinstance(row, dict) and row.get("categId") not in (None, ""):
            name = " ".join(str(row.get("name") or row["categId"]).split())
            result.append(f"{row['categId']}={name}")
    return result


def _label(value):
    """A rendered value as plain text: tags dropped, entities decoded, blanks collapsed."""
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    text = html.unescape(_TAGS.sub(" ", "" if value in (None, False) else str(value)))
    return " ".join(text.split())


def _item_links(client, options):
    tracker_id = _int_or_none(_option(options, "trackerId", 0))
    display_id = _int_or_none(_option(options, "fieldId", 1))
    if not tracker_id or not display_id:
        raise FieldTrouble("the item link names no linked tracker or display field")
    answer = client.edit_field(tracker_id, display_id)
    field = answer.get("field", answer) if isinstance(answer, dict) else {}
    perm = field.get("permName") if isinstance(field, dict) else None
    if not perm:
        raise FieldTrouble("the master did not say which field the item link displays")
    status = str(_option(options, "status", 4, "opc"))
    status = "".join(s for s in status if s in "opc") or "opc"
    choices = []
    for item in client.iter_items(tracker_id, status=None if status == "opc" else status,
                                  fmt=None):
        label = _label(item["fields"].get(perm, ""))
        choices.append(f"{item['itemId']}={label or item['itemId']}")
    return choices


def _transform(client, remote, plan):
    """Fill `plan` for u / e / r from the master; raises on what cannot be read."""
    code, options = remote["type"], plan.options
    if code == "u":
        try:
            logins = _users(client, options)
        except Exception as exc:  # noqa: BLE001 - any remote failure means "not readable"
            logins, why = [], f"the master's user list is not readable ({_short(exc)})"
            plan.problem = why
        else:
            why = "the master's user list is empty"
        if logins:
            plan.local_type = "M" if _truthy(options.get("multiple", 0)) else "d"
            plan.options = {"options": logins}
            plan.reason = f"a {_widget(plan.local_type)} of the {len(logins)} users of the master"
        else:
            plan.local_type, plan.options, plan.reason = "t", {}, f"a text field: {why}"
    elif code == "e":
        choices = _categories(client, options)
        inputtype = str(_option(options, "inputtype", 1, "d"))
        plan.local_type = "M" if inputtype in ("m", "checkbox") else "d"
        plan.options = {"options": choices}
        plan.reason = f"a {_widget(plan.local_type)} of {len(choices)} categories (categId=Name)"
    elif code == "r":
        choices = _item_links(client, options)
        plan.local_type = "M" if _truthy(_option(options, "selectMultipleValues", 12, 0)) else "d"
        plan.options = {"options": choices}
        plan.reason = (f"a {_widget(plan.local_type)} of the {len(choices)} linked items "
                       "(remoteItemId=label)")


def _widget(code):
    return "multi-select" if code == "M" else "dropdown"


def _short(exc):
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def _kept_options(code, options):
    """Options of a kept field; Tiki 9-11 CSV options are read where their meaning is known."""
    if "legacy" not in options:
        return options
    if field_type(code).kind in ("choice", "multichoice"):
        return {"options": list(options.get("options", []))}  # the CSV is the list of choices
    if code in _DATE_TYPES and _legacy(options, 0) in ("d", "dt"):
        return {"datetime": _legacy(options, 0), "legacy": options["legacy"]}
    return {"legacy": options["legacy"]}  # kept as found: its meaning depends on the type


def plan_field(client: TikiClient, remote: dict) -> FieldPlan:
    """What happens to one remote field definition (a dict from exportfmt.parse)."""
    kind = field_type(remote["type"])
    options = remote_options(remote)
    plan = FieldPlan(
        perm=remote["permName"], name=remote["name"], remote_type=remote["type"],
        remote_id=remote["fieldId"], action="kept", local_type=remote["type"],
        options=options, mandatory=remote["isMandatory"],
        description=remote["description"], position=remote["position"],
        flags={**FLAG_DEFAULTS, **{k: v for k, v in remote["flags"].items() if v in ("y", "n")}},
    )
    if not PERM_NAME.match(plan.perm):
        # Refused, not renamed: the name is the field's key on the wire both ways (every
        # reload and push), so a local alias would have to be mapped everywhere.
        plan.action, plan.local_type, plan.options = "skipped", "", {}
        plan.reason = ("its permanent name cannot be used here (a letter, then letters, digits "
                       "or _, at most 100): rename it on the master, then adopt it")
    elif kind.policy == "skip":
        plan.action, plan.reason, plan.options = "skipped", kind.reason, {}
    elif kind.policy == "transform":
        plan.action = "transformed"
        try:
            _transform(client, remote, plan)
        except Exception as exc:  # noqa: BLE001 - one field's trouble must not sink the clone
            plan.action, plan.local_type, plan.options = "skipped", "", {}
            plan.problem = plan.reason = (f"{kind.label} options could not be read from the "
                                          f"master: {_short(exc)}")
    else:
        plan.options = _kept_options(plan.remote_type, options)
    return plan


def plan_fields(client: TikiClient, parsed: list[dict]) -> list[FieldPlan]:
    """Plans for every remote field, in the master's order; a repeated permName is skipped."""
    plans, seen = [], set()
    for remote in sorted(parsed, key=lambda f: (f["position"], f["fieldId"])):
        if remote["permName"] in seen:
            plans.append(FieldPlan(remote["permName"], remote["name"], remote["type"],
                                   remote["fieldId"], "skipped",
                                   reason="another field of the master has the same "
                                          "permanent name"))
            continue
        seen.add(remote["permName"])
        plans.append(plan_field(client, remote))
    return plans


def plan_clone(client: TikiClient, remote_tracker_id: int) -> ClonePlan:
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
    return ClonePlan(remote_tracker_id, remote["name"], remote.get("description") or "", text,
                     plan_fields(client, parsed))


def _field_row(tracker, fp, position):
    return dict(tracker=tracker, perm_name=fp.perm, name=fp.name, type=fp.local_type,
                options=fp.options, position=position, mandatory=fp.mandatory,
                description=fp.description, flags=fp.flags, remote_field_id=fp.remote_id,
                remote_type=fp.remote_type if fp.action == "transformed" else None)


def create_clone(plan: ClonePlan, source_url: str, protocol: str | None = None, credential=None,
                 username: str = "") -> Tracker:
    """Create the local tracker and its fields from a plan, in one transaction."""
    with write_transaction():
        tracker = Tracker.create(
            name=plan.name, description=plan.description, source_url=source_url.rstrip("/"),
            remote_tracker_id=plan.remote_tracker_id, protocol=protocol, credential=credential,
            remote_schema=plan.export)
        created = [fp for fp in plan.fields if fp.action != "skipped"]
        for position, fp in enumerate(created, start=1):
            Field.create(**_field_row(tracker, fp, position * 10))
        report = plan.report(tracker.id)
        audit.record("tracker.clone", username, tracker=tracker, source=tracker.source_url,
                     remote_tracker=plan.remote_tracker_id, kept=report["kept"],
                     transformed=report["transformed"], skipped=report["skipped"])
    return tracker


# --- after the clone: drift, refresh, adopt --------------------------------------------------

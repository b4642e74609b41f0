"""Our rows in the shapes Tiki answers with (tiki-protocol.md §5, tiki-examples/)."""
import json

from .. import fields as ft
from ..items import choice_source
from ..models import ROLES

# We have roles, not groups. Each role is offered as a group with a fixed id, so a user
# selector limited to roles can be cloned by Tiki (its `groupIds` option, user/list_users).
ROLE_GROUPS = {role: number for number, role in enumerate(ROLES, start=1)}
GROUP_ROLES = {number: role for role, number in ROLE_GROUPS.items()}

_FLAG_DEFAULTS = {"isMain": "n", "isTblVisible": "y", "isSearchable": "y", "isPublic": "y",
                  "isHidden": "n", "descriptionIsParsed": "n"}


def _flag(field, name):
    value = (field.flags or {}).get(name, _FLAG_DEFAULTS[name])
    return "y" if value in ("y", "Y", True, 1, "1") else "n"


def served_options(field):
    """The options dict we publish for a field (stored options, plus groupIds for roles)."""
    options = dict(field.options or {})
    roles = options.get("roles") if field.type == "u" else None
    if roles and "groupIds" not in options:
        options["groupIds"] = [ROLE_GROUPS[r] for r in roles if r in ROLE_GROUPS]
    return options


def _options_text(options):
    # JSON, as Tiki >= 12 stores and reads options. Empty is "{}" rather than PHP's "[]":
    # both decode to an empty array in Tiki, and only "{}" reads as empty in fields.parse_options.
    return json.dumps(options, separators=(",", ":"))


def field_row(field):
    """A field as export_fields' `fields` and edit_field's `field` carry it."""
    options = served_options(field)
    return {
        "fieldId": field.id, "trackerId": field.tracker_id, "name": field.name,
        "permName": field.perm_name, "options": _options_text(options), "type": field.type,
        "isMain": _flag(field, "isMain"), "isTblVisible": _flag(field, "isTblVisible"),
        "position": field.position, "isSearchable": _flag(field, "isSearchable"),
        "isPublic": _flag(field, "isPublic"), "isHidden": _flag(field, "isHidden"),
        "isMandatory": "y" if field.mandatory else "n", "description": field.description or "",
        "isMultilingual": None, "itemChoices": [], "errorMsg": None, "visibleBy": [],
        "editableBy": [], "descriptionIsParsed": _flag(field, "descriptionIsParsed"),
        "validation": None, "validationParam": None, "validationMessage": None, "rules": None,
        "encryptionKeyId": None, "options_map": options,
    }


def export_entry(field):
    """A field as remote.exportfmt.write takes it (its KEYS)."""
    row = field_row(field)
    entry = {key: row[key] for key in (
        "fieldId", "name", "permName", "position", "type", "options", "isMain", "isTblVisible",
        "isSearchable", "isPublic", "isHidden", "isMandatory", "description",
        "descriptionIsParsed")}
    entry["rules"] = ""
    return entry


def served_fields(fields):
    """Fields Tiki can address: those with a permName (Tiki omits the others)."""
    return [f for f in fields if f.perm_name]


def _text(value):
    if value is None:
        return ""
    return value if isinstance(value, str) else ft.normalize_raw(value)


class ItemRenderer:
    """Turns (id, status, values, created, modified) rows into Tiki's item objects.

    Raw values go out as stored. Without `format=raw`, values are what a person reads
    (dates as dates, choices by label), as plain text: Tiki renders HTML there, but item-link
    labels built from it end up escaped in our pages and in Tiki's dropdowns alike.
    """

    def __init__(self, fields, raw=True):
        self.fields = served_fields(fields)
        self.perms = [f.perm_name for f in self.fields]  # plain strings: this loop is hot
        self.raw = raw
        self.labels = {}

    def prepare(self, rows):
        """Fetch the labels a page of rendered rows needs: one query per item-link field."""
        if self.raw:
            return
        for field in self.fields:
            if field.type == "r":
                wanted = {v for row in rows for v in _text((row[2] or {}).get(field.perm_name))
                          .split(",") if v}
                self.labels[field.perm_name] = choice_source(field, wanted) if wanted else []

    def values(self, values):
        values = values or {}
        if self.raw:
            answer = {}
            for perm in self.perms:
                value = values.get(perm, "")
                answer[perm] = value if type(value) is str else _text(value)
            return answer
        return {f.perm_name: ft.display(f, _text(values.get(f.perm_name)),
                                        self.labels.get(f.perm_name)) for f in self.fields}

    def item(self, item_id, status, values, created, modified):
        return {"itemId": item_id, "status": status, "fields": self.values(values),
                "created": created, "lastModif": modified}


def stored_item(item, fields):
    """The answer to a write: the item as now stored, raw, with its title and display values."""
    raw = ItemRenderer(fields, raw=True)
    shown = ItemRenderer(fields, raw=False)
    row = (item.id, item.status, item.values, item.created, item.modified)
    shown.prepare([row])
    answer = raw.item(*row)
    processed = shown.values(item.values)
    main = next((f.perm_name for f in raw.fields if _flag(f, "isMain") == "y"), None)
    answer["itemTitle"] = processed.get(main, "") if main else ""
    answer["processedFields"] = processed
    return answer

"""tracker/update_items: many items' updates in one request (ours only; no Tiki has it).

A clone pushing a thousand edits would otherwise send a thousand update_item requests. The
route is announced by `route=version` (`"updates": true`), so a client uses it only where it
exists. The body's `items` is a JSON array of `{"itemId", "fields": {permName: value},
"status"}` (status optional), at most MAX_ITEMS. A body that is not such an array is refused
whole (400, nothing written); otherwise every item is validated as update_item validates it
and the valid ones are written in one transaction, while each refused item is answered with
Tiki's error (`code`, `errortitle`, `message`) under its own itemId: one bad value does not
sink the other items.
"""
import json

from .. import items as svc
from ..db import write_transaction
from ..models import Item
from .errors import bad_request
from .params import MAX_ID
from .shapes import ItemRenderer
from .tracker_items import refused, writable
from .trackers import find_tracker

MAX_ITEMS = 200


def update_items(params, user):
    """Apply each item's update; `result` answers every item in the order sent."""
    tracker = find_tracker(params)
    wanted = _parse(params.text("items"))
    fields = tracker.ordered_fields()
    found = {item.id: item for item in Item.select().where(
        Item.tracker == tracker.id, Item.id.in_([w["itemId"] for w in wanted]))}
    renderer = ItemRenderer(fields, raw=True)
    result = []
    with write_transaction():
        for entry in wanted:
            item = found.get(entry["itemId"])
            if item is None:
                result.append(_error(entry["itemId"], 404, f"Item {entry['itemId']} is not in "
                                                           f"tracker {tracker.id}"))
                continue
            try:
                changed = svc.update_item(item, writable(entry["fields"], fields),
                                          status=entry["status"], username=user.username,
                                          partial=True, fields=fields)
            except svc.ItemInvalid as exc:
                error = refused(exc)
                result.append(_error(item.id, error.code, error.message, **error.extra))
                continue
            result.append({"ok": True, **renderer.item(item.id, item.status, item.values,
                                                       item.created, item.modified),
                           "changed": changed})
    return {"trackerId": tracker.id, "result": result}


def _error(item_id, code, message, **extra):
    return {"itemId": item_id, "ok": False, "code": code, "errortitle": message,
            "message": message, **extra}


def _parse(text):
    """The items of the body as [{"itemId": int, "fields": {perm: str | [str]}, "status"}];
    400 for anything else (before anything is written)."""
    if not text.strip():
        raise bad_request("items is required: a JSON array of {itemId, fields, status}")
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        raise bad_request("items is not valid JSON") from None
    if not isinstance(document, list) or not document:
        raise bad_request("items must be a non-empty JSON array of {itemId, fields, status}")
    if len(document) > MAX_ITEMS:
        raise bad_request(f"Too many items ({len(document)}): at most {MAX_ITEMS} a request")
    wanted, seen = [], set()
    for number, entry in enumerate(document):
        one = _entry(entry, f"items[{number}]")
        if one["itemId"] in seen:
            raise bad_request(f"Item {one['itemId']} is given twice")
        seen.add(one["itemId"])
        wanted.append(one)
    return wanted


def _entry(entry, where):
    if not isinstance(entry, dict):
        raise bad_request(f"{where} must be an object {{itemId, fields, status}}")
    item_id = entry.get("itemId")
    if isinstance(item_id, str) and item_id.strip().isdigit():
        item_id = int(item_id)
    if isinstance(item_id, bool) or not isinstance(item_id, int) or not 1 <= item_id <= MAX_ID:
        raise bad_request(f"{where}.itemId must be an item id")
    values = entry.get("fields") or {}
    if not isinstance(values, dict) or not all(_is_value(v) for v in values.values()):
        raise bad_request(f"{where}.fields must map permNames to text (or lists of text)")
    status = entry.get("status")
    if status is not None and not isinstance(status, str):
        raise bad_request(f"{where}.status must be a letter (o, p or c)")
    if _has_nul(values) or "\x00" in (status or ""):
        raise bad_request(f"{where} contains a NUL character")
    return {"itemId": item_id, "fields": {str(k): v for k, v in values.items()},
            "status": (status or "").strip() or None}


def _is_value(value):
    return isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(v, str) for v in value))


def _has_nul(values):
    return any("\x00" in k or any("\x00" in v for v in ([v] if isinstance(v, str) else v))
               for k, v in values.items())

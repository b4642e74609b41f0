"""Tiki's answers turned into plain, typed Python, tolerant of how PHP spells things.

Ids may come as numbers or strings, "empty" as "", false, null or [] (a PHP empty array is
`[]` even where an object is meant), and `fields` may be `[]`. What cannot be read as Tiki's
shape is a BadShape error, never an empty result (W15).
"""
from __future__ import annotations

from ..fields import is_empty, normalize_raw, parse_options
from .errors import BadShape, short


def to_int(value: object, default: int | None = None) -> int | None:
    """An id or count from 12, "12", 12.0 or "12.0"; `default` for empties and junk."""
    if value is None or value is False or value == "" or isinstance(value, (list, dict)):
        return default
    try:
        number = float(str(value).strip())
    except ValueError:
        return default
    return int(number) if number.is_integer() else default


def _object(answer, url, what):
    if isinstance(answer, dict):
        return answer
    raise BadShape(f"{url} answered {what} with JSON that is not an object "
                   f"({type(answer).__name__}): is this a Tiki master?", url=url)


def rows(value: object, url: str, what: str) -> list:
    """A JSON list of rows; an empty object is an empty list (PHP's `[]`/`{}` ambiguity)."""
    if isinstance(value, list):
        return value
    if is_empty(value):
        return []
    raise BadShape(f"{url}: `{what}` is a {type(value).__name__}, not a list: the master does "
                   "not answer as Tiki does, so nothing can be read from it", url=url)


def trackers(answer: object, url: str) -> list[dict]:
    """[{"id", "name", "description", "items"}] from list_trackers (`data`, else `list`)."""
    answer = _object(answer, url, "the tracker list")
    data = answer.get("data")
    if isinstance(data, dict):  # a PHP array with gaps in its keys
        data = list(data.values())
    result = []
    if isinstance(data, list) and data:
        for row in data:
            if not isinstance(row, dict) or not to_int(row.get("trackerId")):
                raise BadShape(f"{url}: a tracker without trackerId in `data`", url=url)
            result.append({
                "id": to_int(row["trackerId"]),
                "name": "" if is_empty(row.get("name")) else str(row["name"]),
                "description": "" if is_empty(row.get("description")) else str(row["description"]),
                "items": to_int(row.get("items")),
            })
    elif not is_empty(data) and data is not None:
        raise BadShape(f"{url}: `data` is a {type(data).__name__}, not a list", url=url)
    else:
        listing = answer.get("list")
        if isinstance(listing, dict):
            for key, name in listing.items():
                if to_int(key):
                    result.append({"id": to_int(key), "name": str(name or ""), "description": "",
                                   "items": None})
        elif not is_empty(listing) and listing is not None:
            raise BadShape(f"{url}: `list` is not an object keyed by tracker id", url=url)
        elif "list" not in answer and "data" not in answer:
            raise BadShape(f"{url}: the answer has neither `list` nor `data`: is this the "
                           "Tiki root?", url=url)
    return sorted(result, key=lambda t: t["id"])


def export_text(answer: object, url: str) -> str:
    answer = _object(answer, url, "the field export")
    text = answer.get("export")
    if text is None or not isinstance(text, str):
        if is_empty(text) and "export" in answer:
            return ""
        raise BadShape(f"{url}: the field export has no `export` text", url=url)
    return text


def item(raw: object, url: str) -> dict:
    """One list_items entry as {"itemId", "status", "fields", "lastModif", "created"}."""
    if not isinstance(raw, dict):
        raise BadShape(f"{url}: an item is a {type(raw).__name__}, not an object", url=url)
    item_id = to_int(raw.get("itemId"))
    if not item_id or item_id < 0:
        raise BadShape(f"{url}: an item has no usable itemId ({raw.get('itemId')!r})", url=url)
    values = raw.get("fields")
    if is_empty(values) or values is None:
        values = {}
    if not isinstance(values, dict):
        raise BadShape(f"{url}: the fields of item {item_id} are not an object", url=url)
    status = raw.get("status")
    return {
        "itemId": item_id,
        "status": "o" if is_empty(status) else str(status),
        "fields": {str(perm): normalize_raw(value) for perm, value in values.items()},
        "lastModif": to_int(raw.get("lastModif")),
        "created": to_int(raw.get("created")),
    }


def result_list(answer: object, url: str, what: str = "result") -> list | None:
    """The `result` list of a paged answer."""
    answer = _object(answer, url, "a page")
    if "result" not in answer:
        raise BadShape(f"{url}: the answer has no `{what}`: is this the Tiki root?", url=url)
    if answer["result"] is None:
        return None
    return rows(answer["result"], url, what)


def user(raw: object, url: str) -> dict:
    """A user row without what Tiki leaks to admin accounts (hashes, e-mail): W13."""
    if not isinstance(raw, dict) or is_empty(raw.get("login")):
        raise BadShape(f"{url}: a user without login", url=url)
    return {"login": str(raw["login"]), "userId": to_int(raw.get("userId"))}


def categories(answer: object, url: str) -> list[dict]:
    """[{"categId", "name", "parentId"}] from an object keyed by id, or a list."""
    if isinstance(answer, dict):
        for key in ("result", "data", "categories"):
            if key in answer and not isinstance(answer[key], (str, int)):
                answer = answer[key]
                break
    if isinstance(answer, dict):
        values = list(answer.values())
    else:
        values = rows(answer, url, "categories")
    result = []
    for row in values:
        if not isinstance(row, dict) or not to_int(row.get("categId")):
            raise BadShape(f"{url}: a category without categId", url=url)
        result.append({"categId": to_int(row["categId"]), "name": str(row.get("name") or ""),
                       "parentId": to_int(row.get("parentId"), 0)})
    return sorted(result, key=lambda c: c["categId"])


def field(answer: object, url: str) -> dict:
    """edit_field's `field`: {"fieldId", "permName", "name", "type", "options"}."""
    answer = _object(answer, url, "the field")
    raw = answer.get("field")
    if not isinstance(raw, dict) or is_empty(raw.get("permName")):
        raise BadShape(f"{url}: the answer has no `field` with a permName", url=url)
    return {"fieldId": to_int(raw.get("fieldId")), "permName": str(raw["permName"]),
            "name": str(raw.get("name") or ""), "type": str(raw.get("type") or ""),
            "options": parse_options(raw.get("options"))}


_MESSAGE_KEYS = ("message", "mes", "error", "errortitle", "title")


def feedback(answer: object) -> str:
    """The messages a 200 answer carries (Tiki 18+ puts a rejected change's errors in
    `feedback`), as one line; "" when there are none."""
    found = []

    def collect(value, depth):
        if depth > 3 or len(found) >= 5:
            return
        if isinstance(value, str):
            if value.strip():
                found.append(value)
        elif isinstance(value, list):
            for entry in value:
                collect(entry, depth + 1)
        elif isinstance(value, dict):
            for key in _MESSAGE_KEYS:
                if key in value:
                    collect(value[key], depth + 1)

    if isinstance(answer, dict):
        for key in ("feedback", "message", "error", "errortitle"):
            collect(answer.get(key), 0)
    return short("; ".join(dict.fromkeys(found)), 200)


_EXACT = 2 ** 53  # to_int goes through a float: beyond this it would round


_SHAPE = frozenset(("itemId", "status", "fields", "lastModif", "created"))


def fast_item(raw):
    """item() for the usual well-formed row (int id, text status, text values, int
    stamps), reusing the decoded objects; None for anything else, which item() then
    reads (and may refuse)."""
    if type(raw) is not dict:
        return None
    item_id, values, status = raw.get("itemId"), raw.get("fields"), raw.get("status")
    modified, created = raw.get("lastModif"), raw.get("created")
    if type(item_id) is not int or not 0 < item_id < _EXACT or type(values) is not dict or \
            type(status) is not str or not status or \
            not (modified is None or (type(modified) is int and -_EXACT < modified < _EXACT)) or \
            not (created is None or (type(created) is int and -_EXACT < created < _EXACT)):
        return None
    for value in values.values():
        if type(value) is not str:
            values = {perm: v if type(v) is str else normalize_raw(v)
                      for perm, v in values.items()}
            break
    if raw.keys() == _SHAPE:
        raw["fields"] = values
        return raw
    return {"itemId": item_id, "status": status, "fields": values, "lastModif": modified,
            "created": created}

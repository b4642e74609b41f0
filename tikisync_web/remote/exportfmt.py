"""Tiki's field export text (tiki-protocol.md §6): write it so Tiki's `read_raw` reads it back,
and read what any Tiki version writes.

Tiki writes values verbatim, so a multi-line description breaks its line parser (W10). We
carry such values on one line: a newline becomes the two characters `\\n`, a carriage return
`\\r`, a backslash `\\\\`. A comment line (ignored by Tiki, which skips lines starting
with `#`) announces the escaping, and only then does our reader undo it: a real Tiki's
description such as `C:\\new` stays as written. Tiki shows an escaped newline as `\\n`.
Leading and trailing blanks of a value are lost, as in Tiki.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from ..fields import parse_options

ESCAPE_MARK = "# tikisync-export: escaped=1"
KEYS = ("fieldId", "name", "permName", "position", "type", "options", "isMain", "isTblVisible",
        "isSearchable", "isPublic", "isHidden", "isMandatory", "description",
        "descriptionIsParsed", "rules")
FLAGS = ("isMain", "isTblVisible", "isSearchable", "isPublic", "isHidden", "isMandatory",
         "descriptionIsParsed")

_SECTION = re.compile(r"^\[([A-Z0-9]+)\]")
_PAIR = re.compile(r"^([A-Za-z0-9 _/-]+?)[ \t]*[=:](?:[ \t]+(.*))?$")


def _escape(value):
    return str(value).replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n")


def _unescape(value):
    return re.sub(r"\\(\\|n|r)", lambda m: {"\\": "\\", "n": "\n", "r": "\r"}[m.group(1)], value)


def write(fields: Iterable[dict]) -> str:
    """Export text for field dicts with the KEYS above (options as a JSON string)."""
    lines = [ESCAPE_MARK]
    for field in fields:
        lines.append(f"[FIELD{int(field['fieldId'])}]")
        for key in KEYS:
            value = field.get(key, "")
            value = "" if value is None else _escape(value)
            # "key = " keeps its trailing space: Tiki drops a line without it.
            lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"


def read_raw(text: str) -> dict[str, dict[str, str]]:
    """Ordered {section: {key: value}}, as Tiki's `read_raw` would read it (but tolerant of
    `key =` whose trailing space was trimmed in transit)."""
    sections, current = {}, None
    escaped = False
    for line in (text or "").split("\n"):
        line = line.rstrip("\r")
        if line.startswith("#"):
            escaped = escaped or line.strip() == ESCAPE_MARK
            continue
        section = _SECTION.match(line)
        if section:
            current = sections.setdefault(section.group(1).lower(), {})
            continue
        pair = _PAIR.match(line)
        if pair and current is not None:
            value = (pair.group(2) or "").strip()
            current[pair.group(1).strip()] = _unescape(value) if escaped else value
    return sections


_INT = re.compile(r"^[+-]?[0-9]{1,10}$")
_INT_RANGE = (-2**31, 2**31 - 1)  # what the id and position columns hold in every database


def _int(value, default=0):
    """A whole number of the columns' range; `default` for anything else (a master's export
    is not trusted: 30 digits, or 4,300 that Python refuses to read)."""
    text = str(value).strip()
    if not _INT.match(text):
        return default
    number = int(text)
    return number if _INT_RANGE[0] <= number <= _INT_RANGE[1] else default


def parse(text: str) -> list[dict]:
    """Field definitions from an export, normalised: ints, booleans, options as a dict.

    Tolerates Tiki 9-12's `sMandatory` typo and CSV options (Tiki <= 11)."""
    result = []
    for section, raw in read_raw(text).items():
        if not section.startswith("field") or not raw.get("permName"):
            continue
        mandatory = raw.get("isMandatory", raw.get("sMandatory", "n"))
        field_id = _int(raw.get("fieldId"), _int(section[len("field"):]))
        result.append({
            "fieldId": field_id,
            "name": raw.get("name", "") or raw["permName"],
            "permName": raw["permName"],
            "position": _int(raw.get("position")),
            "type": raw.get("type", ""),
            "options": parse_options(raw.get("options", "")),
            "options_raw": raw.get("options", ""),
            "isMandatory": mandatory == "y",
            "description": raw.get("description", ""),
            "flags": {k: raw[k] for k in FLAGS if k in raw and k != "isMandatory"},
        })
    return result

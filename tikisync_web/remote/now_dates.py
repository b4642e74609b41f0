"""Values as a master's handlers spell them, made ready to compare.

Tiki 24+ reads an empty date as the current time (W18): its date handlers answer
`list_items` with "now" where nothing was set, on every read. Such a value is no date anybody
set: taken at face value, every reload would see the item changed and a due date nobody chose
would land in the local item and go back to the master.

A date equal to the master's clock while it answered is such a "now", so it is read as empty.
The master's clock is taken from the reply's own `Date` header, never from ours (a master
whose clock is hours off is common): the value lies between that header minus the time the
request took and the header itself, with a second of slack on each side for the header's
whole seconds. Without a `Date` header our own clock around the request stands in. A date
somebody really set to the very second of a read is the price: it reads as empty once, and
the next read, a second later, shows it again.

Other spellings of one value (a checkbox's "on", category ids in the handler's order, ...)
become the one spelling clean() gives the same input here (fields.canonical_raw).
"""
from __future__ import annotations

from ..fields import SPELLED, canonical_raw

DATE_TYPES = ("f", "j")  # Date and time, Date picker: the handlers that answer "now"
SLACK = 1  # seconds: Date headers and Tiki's clock are whole seconds


def date_perms(remote_fields: list[dict]) -> frozenset[str]:
    """The permNames of the date fields of an export (remote.exportfmt.parse)."""
    return frozenset(f["permName"] for f in remote_fields
                     if f.get("type") in DATE_TYPES and f.get("permName"))


def window(reply_date: int | None, elapsed: float, started: float,
           ended: float) -> tuple[int, int]:
    """(first, last) second the master's "now" may have had while it answered."""
    if reply_date is not None:
        return int(reply_date - elapsed) - SLACK, reply_date + SLACK
    return int(started) - SLACK, int(ended) + SLACK


def spelled(remote_fields: list[dict]) -> dict[str, str]:
    """{permName: type} of the fields whose values have several spellings (fields.SPELLED)."""
    return {f["permName"]: f["type"] for f in remote_fields
            if f.get("type") in SPELLED and f.get("permName")}


def settle(items: list[dict], types: dict[str, str] | None) -> list[dict]:
    """`items` with each value of `types` in its one spelling (fields.canonical_raw)."""
    if not types:
        return items
    for item in items:
        values = item["fields"]
        for perm, code in types.items():
            value = values.get(perm)
            if value:
                values[perm] = canonical_raw(code, value)
    return items


def blank_now(items: list[dict], perms: frozenset[str], span: tuple[int, int]) -> list[dict]:
    """`items` (remote.shapes.item dicts) with every date of `perms` inside `span` emptied."""
    if not perms:
        return items
    first, last = span
    for item in items:
        values = item["fields"]
        for perm in perms:
            value = values.get(perm)
            if value and value.isdigit() and first <= int(value) <= last:
                values[perm] = ""
    return items

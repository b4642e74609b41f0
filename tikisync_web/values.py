"""Comparing item values across the three states: base (Baseline), mine (Item), theirs (master).

Tiki spells "empty" four ways ("", null, false, []) and may change the spelling by itself
(tiki-examples/README.md), so every comparison goes through `canonical`, and an empty value
equals a missing one. A content hash of the canonical form lets the database find modified
items (item hash != baseline hash) without loading any values.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from typing import Any

from .fields import normalize_raw

# The item status takes part in comparisons beside the fields, under this key: a permName
# starts with a letter (fields.PERM_NAME), so no field, not even one called "status", has it.
STATUS_KEY = "@status"


def canonical(values: dict | None, perms: Collection[str] | None = None) -> dict[str, str]:
    """{perm: normalised raw string} without empties; only `perms` when given."""
    result = {}
    for perm, value in (values or {}).items():
        if perms is not None and perm not in perms:
            continue
        text = normalize_raw(value)
        if text != "":
            result[perm] = text
    return result


def content_hash(values: dict | None, status: str | None,
                 perms: Collection[str] | None = None) -> str:
    body = json.dumps([status or "o", canonical(values, perms)], sort_keys=True,
                      ensure_ascii=False, separators=(",", ":"))
    # A content digest, not security: FIPS-mode OpenSSL allows SHA-1 for this.
    return hashlib.sha1(body.encode("utf-8"), usedforsecurity=False).hexdigest()


def norm(value: Any) -> str:
    """One value as it is compared: Tiki's empties are "", lists comma-joined, all text."""
    return normalize_raw(value)


def get(values: dict | None, perm: str) -> str:
    """The compared value of `perm` in a value dict (missing = empty)."""
    return normalize_raw((values or {}).get(perm, ""))


def three_way(mine: dict | None, base: dict | None, theirs: dict | None, perms: list[str],
              mine_status: str | None = None, base_status: str | None = None,
              theirs_status: str | None = None) -> dict[str, str]:
    """Per-field verdicts: {perm: "local" | "remote" | "same" | "conflict"} for fields that moved.

    local: only mine changed (push it); remote: only theirs changed (take it);
    same: both changed to the same value; conflict: both changed differently.
    The item status takes part under STATUS_KEY when the statuses are given.
    """
    verdicts = {}
    items = [(p, get(mine, p), get(base, p), get(theirs, p)) for p in perms]
    if base_status is not None:
        items.append((STATUS_KEY, mine_status or "o", base_status or "o",
                      theirs_status or base_status or "o"))
    for perm, m, b, t in items:
        if m == b and t == b:
            continue
        if m == b:
            verdicts[perm] = "remote"
        elif t == b:
            verdicts[perm] = "local"
        elif m == t:
            verdicts[perm] = "same"
        else:
            verdicts[perm] = "conflict"
    return verdicts

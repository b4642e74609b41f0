"""What comes from a master, made ready to compare and store: which fields are synchronized,
remote values projected onto them, their stored JSON text, search text and content hash, and
items fetched ahead in a thread (prefetch).
"""
from __future__ import annotations

import hashlib
import json
import queue
import threading
from collections.abc import Iterable, Iterator

import orjson

from ..fields import field_type, normalize_raw
from ..items import SEARCH_TEXT_MAX
from ..models import Tracker
from ..values import content_hash

_sha1 = hashlib.sha1
_dumps, _SORTED = orjson.dumps, orjson.OPT_SORT_KEYS


def synced_perms(tracker: Tracker, remote_fields: list[dict]) -> list[tuple[str, bool]]:
    """[(perm, blank)] for local fields the master also has with a synchronizable type.

    `blank`: header and static text carry empty values both ways (tiki-protocol.md §8.1).
    """
    remote = {f["permName"]: f for f in remote_fields}
    result = []
    for field in tracker.ordered_fields():
        theirs = remote.get(field.perm_name)
        if theirs is not None and field_type(theirs["type"]).policy != "skip":
            result.append((field.perm_name, theirs["type"] in ("h", "S")))
    return result


def project(remote_values: dict | None, synced: list[tuple[str, bool]]) -> dict[str, str]:
    """{perm: normalised raw text} of the synchronized fields (every value a str)."""
    remote_values = remote_values or {}
    projected = {}
    for perm, blank in synced:
        if blank:
            projected[perm] = ""
        else:
            value = remote_values.get(perm, "")
            projected[perm] = value if type(value) is str else normalize_raw(value)
    return projected


def stored_text(values: dict) -> str:
    """The JSON text an item's values are stored as (compact; any JSON text reads back)."""
    try:
        return _dumps(values).decode()
    except TypeError:  # what orjson refuses (a lone surrogate): Python's json decides
        return json.dumps(values, ensure_ascii=False)


def digest(values: dict[str, str], status: str | None) -> str:
    """values.content_hash(values, status) for `project`'s output (every value text).

    orjson writes exactly what content_hash's json.dumps(sort_keys=True, ensure_ascii=False,
    separators=(",", ":")) writes (tests/test_sync_incoming.py checks every character), in a
    third of the time: a reload hashes every item it reads.
    """
    if "" in values.values():
        values = {perm: value for perm, value in values.items() if value != ""}
    try:
        return _sha1(_dumps([status or "o", values], option=_SORTED),
                     usedforsecurity=False).hexdigest()
    except TypeError:
        return content_hash(values, status)


def searchable(values: dict[str, str]) -> str:
    """items.search_text for `project`'s output (every value text)."""
    return " ".join(filter(None, values.values())).lower()[:SEARCH_TEXT_MAX]


def prefetch(iterator: Iterable, size: int, depth: int = 2) -> Iterator[list]:
    """Batches of `size` from `iterator`, produced by a thread while the caller works; at most
    `depth` batches wait. The iterator is only ever advanced by that thread."""
    out = queue.Queue(maxsize=depth)
    stop = threading.Event()
    thread = threading.Thread(target=_produce, args=(iterator, size, out, stop), daemon=True,
                              name="tikisync-prefetch")
    thread.start()
    try:
        while True:
            entry = out.get()
            if entry is _DONE:
                return
            if isinstance(entry, BaseException):
                raise entry
            if entry:
                yield entry
    finally:
        stop.set()
        thread.join(timeout=10)


_DONE = object()


def _put(out, stop, entry):
    """Put `entry` into `out` unless the consumer stops first; says whether it was put."""
    while not stop.is_set():
        try:
            out.put(entry, timeout=0.2)
            return True
        except queue.Full:
            continue
    return False


def _produce(iterator, size, out, stop):
    """Batches of `iterator` into `out`, then _DONE, or the exception that ended it."""
    try:
        batch = []
        for entry in iterator:
            batch.append(entry)
            if len(batch) >= size:
                if not _put(out, stop, batch):
                    return
                batch = []
            if stop.is_set():
                return
        if _put(out, stop, batch):
            _put(out, stop, _DONE)
    except BaseException as exc:  # noqa: BLE001 - handed to the consumer
        _put(out, stop, exc)

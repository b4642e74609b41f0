"""What comes from a master, made ready to compare and store: which fields are synchronized,
remote values projected onto them, their stored JSON text, search text and content hash, and
items fetched ahead in a thread (prefetch).
"""
import hashlib
import json
import queue
import threading

import orjson

from ..fields import field_type, normalize_raw
from ..items import SEARCH_TEXT_MAX
from ..values import content_hash

_sha1 = hashlib.sha1
_dumps, _SORTED = orjson.dumps, orjson.OPT_SORT_KEYS


def synced_perms(tracker, remote_fields):
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


def project(remote_values, synced):
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


def stored_text(values):
    """The JSON text an item's values are stored as (compact; any JSON text reads back)."""
    try:
        return _dumps(values).decode()
    except TypeError:  # what orjson refuses (a lone surrogate): Python's json decides
        return json.dumps(values, ensure_ascii=False)


def digest(values, status):
    """values.content_hash(values, status) for `project`'s output (every value text).

    orjson writes exactly what content_hash's json.dumps(sort_keys=True, ensure_ascii=False,
    separators=(",", ":")) writes (tests/test_sync_incoming.py checks every character), in a
    third of the time: a reload hashes every item it reads.
    """
    if "" in values.values():
        values = {perm: value for perm, value in values.items() if value != ""}
    try:
        return _sha1(_dumps([status or "o", values], option=_SORTED)).hexdigest()
    except TypeError:
        return content_hash(values, status)


def searchable(values):
    """items.search_text for `project`'s output (every value text)."""
    return " ".join(filter(None, values.values())).lower()[:SEARCH_TEXT_MAX]


def prefetch(iterator, size, depth=2):
    """Batches of `size` from `iterator`, produced by a thread while the caller works; at most
    `depth` batches wait."""
    out = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def put(entry):
        while not stop.is_set():
            try:
                out.put(entry, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            batch = []
            for entry in iterator:
                batch.append(entry)
                if len(batch) >= size:
                    if not put(batch):
                        return
                    batch = []
                if stop.is_set():
                    return
            if put(batch):
                put(done)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            put(exc)

    thread = threading.Thread(target=produce, daemon=True, name="tikisync-prefetch")
    thread.start()
    try:
        while True:
            entry = out.get()
            if entry is done:
                return
            if isinstance(entry, BaseException):
                raise entry
            if entry:
                yield entry
    finally:
        stop.set()
        thread.join(timeout=10)

"""What comes from a master, made ready to compare and store: which fields are synchronized,
remote values projected onto them, their stored JSON text and content hash (Codec), and pages
fetched ahead in a thread (prefetch).
"""
import hashlib
import json
import queue
import threading

from ..fields import field_type, normalize_raw

_sha1 = hashlib.sha1
_enc = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) quotes text with


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


class Codec:
    """The stored JSON text and the content hash of `project`'s output, from keys quoted once.

    `text(values)` is json.dumps(values, ensure_ascii=False) and `digest(values, status)` is
    values.content_hash(values, status), character for character, for values that are all
    text with the synchronized perms as keys (project's output); json.dumps builds a new
    encoder at every call when given options, which took most of a reload's time per item.
    `quote` + `digest_of` + `text_of` share the quoting of the values.
    """

    def __init__(self, perms):
        self.perms = list(dict.fromkeys(perms))
        self._text_keys = [_enc(p) + ": " for p in self.perms]
        self._hash_keys = sorted((p, index, _enc(p) + ":") for index, p in enumerate(self.perms))
        self._hash_keys = [(index, key) for _, index, key in self._hash_keys]

    def quote(self, values):
        return [_enc(values[p]) for p in self.perms]

    def text_of(self, quoted):
        return "{" + ", ".join([k + q for k, q in zip(self._text_keys, quoted)]) + "}"

    def digest_of(self, quoted, status):
        body = "[" + _enc(status or "o") + ",{" + ",".join(
            [key + quoted[i] for i, key in self._hash_keys if quoted[i] != '""']) + "}]"
        return _sha1(body.encode("utf-8")).hexdigest()

    def text(self, values):
        return self.text_of(self.quote(values))

    def digest(self, values, status):
        return self.digest_of(self.quote(values), status)


def prefetch(iterator, size, depth=2, pages=False):
    """Batches of `size` from `iterator`, produced by a thread while the caller works.

    With `pages`, `iterator` yields lists (pages): the thread asks for the next page as soon
    as it has handed over the current one, so the master prepares page n+1 while page n is
    stored; at most one page waits, and the caller gets each page cut into batches of `size`.
    """
    out = queue.Queue(maxsize=1 if pages else depth)
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
            if pages:
                for page in iterator:
                    if not put(page):
                        return
                    del page  # held by the caller from now on, not by this thread
                put(done)
                return
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
            if not pages:
                if entry:
                    yield entry
                continue
            for start in range(0, len(entry), size):
                yield entry[start:start + size]
            del entry
    finally:
        stop.set()
        thread.join(timeout=10)

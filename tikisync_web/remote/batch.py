"""Many items' updates in one request, where the master announces it (tikisync-web's own
master: `route=version` answers `"updates": true`; no Tiki does, and against a Tiki the
one-item update_item stays the only way).

    if batch.announced(client):
        results = batch.update_items(client, tracker_id, [(item_id, fields, status), ...])
        # {item_id: {"itemId", "status", "fields", ...}} or {item_id: RemoteError}

Like every write, a request is sent once. A whole request the master refused (a 400 for the
body, a 403) wrote nothing; one whose answer is lost or not what the route answers may have
been applied: its error says so (`maybe_written`), and the caller judges each item by reading
it back, never by sending it again.
"""
from __future__ import annotations

import json

from . import errors as e
from . import session_path, shapes

MAX_ITEMS = 200  # what the master takes in one request


def announced(client) -> bool:
    """True when the master says it takes update_items (asked once per client; any failure
    to ask means no: the one-item path is always safe). A credential that logs in through
    Tiki's login page is for a Tiki 19-23, never for our master (it reads no cookies)."""
    known = getattr(client, "batch_updates", None)
    if known is None and session_path.session_of(client) is not None:
        known = client.batch_updates = False
    if known is None:
        try:
            answer = client.transport.json("GET", client._url_b("version"))
        except e.RemoteError:
            answer = None
        known = isinstance(answer, dict) and answer.get("updates") is True
        client.batch_updates = known
    return known


def _text(value):
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v is not None]
    return value if isinstance(value, str) else str(value)


def update_items(client, tracker_id: int, edits: list[tuple[int, dict, str | None]]
                 ) -> dict[int, dict | e.RemoteError]:
    """Send `edits` [(itemId, {perm: value}, status or None)] in one request; per item, the
    stored item (shaped as client.update_item answers) or the RemoteError the master
    answered for it (NotFound for an item it does not have)."""
    if not edits or len(edits) > MAX_ITEMS:
        raise ValueError(f"update_items takes 1 to {MAX_ITEMS} items, not {len(edits)}")
    tracker_id = int(tracker_id)
    body = [{"itemId": int(item_id),
             "fields": {p: _text(v) for p, v in fields.items() if v is not None},
             **({"status": status} if status else {})} for item_id, fields, status in edits]
    params = {"items": json.dumps(body, ensure_ascii=False, separators=(",", ":"))}
    answer, url = client._write("tracker", "update_items", f"trackers/{tracker_id}/updates",
                                {"trackerId": tracker_id, **params}, params)
    return _results(client, answer, url, [int(item_id) for item_id, _, _ in edits])


def _results(client, answer, url, sent):
    rows = answer.get("result") if isinstance(answer, dict) else None
    by_id = {}
    for row in rows if isinstance(rows, list) else ():
        item_id = shapes.to_int(row.get("itemId")) if isinstance(row, dict) else None
        if item_id in sent and item_id not in by_id:
            by_id[item_id] = row
    if len(by_id) != len(sent):
        missing = len(sent) - len(by_id)
        what = ("not an object with a `result` list" if not isinstance(rows, list) else
                f"a `result` list without {missing} of the {len(sent)} items sent")
        error = e.BadShape(f"{url} answered the updates with {what}, so what it wrote cannot "
                           "be told: each item is read back before anything is sent again",
                           url=url)
        error.maybe_written = True
        raise error
    return {item_id: _one(client, row, url) for item_id, row in by_id.items()}


def _one(client, row, url):
    if row.get("ok") is True:
        values = row.get("fields")
        return shapes.item(dict(row, fields=values if isinstance(values, dict) else {}), url)
    code = shapes.to_int(row.get("code")) or 400
    remote = client.transport.scrub(e.short(row.get("message") or row.get("errortitle"), 200))
    detail = f"{code}: {remote}" if remote else str(code)
    if code == 404:
        return e.NotFound(f"not found at {url} (item {row.get('itemId')}: {detail})", url=url)
    return e.RemoteValidationError(
        f"the master rejected the data of item {row.get('itemId')} ({detail}): correct it and "
        "try again", url=url, status=code, remote_message=remote)

"""tracker/update_items on the fake master (tests/support/fake_master.py), as our own master
serves it (tikisync_web/master/updates.py): on with `settings.batch_updates`, which also makes
route=version announce it (`"updates": true`); off, the route is not there, as on any Tiki.

The body's `items` is a JSON array of {itemId, fields, status}; each is applied as
update_item applies it and answered under its itemId (ok, or Tiki's error), at most 200."""
import json

from tests.support.fake_master_http import ApiError

MAX_ITEMS = 200


def update_items(master, user, params):
    if not master.settings.batch_updates:
        raise ApiError(404, "Action not found (update_items in tracker)")
    master._require_admin(user)
    tracker_id = master._tracker(params)
    try:
        wanted = json.loads(params.get("items") or "")
    except ValueError:
        raise ApiError(400, "items is not valid JSON") from None
    if not isinstance(wanted, list) or not 1 <= len(wanted) <= MAX_ITEMS or \
            not all(isinstance(e, dict) for e in wanted):
        raise ApiError(400, f"items must be a JSON array of 1 to {MAX_ITEMS} objects")
    result = []
    for entry in wanted:
        one = {"trackerId": str(tracker_id), "fields": entry.get("fields") or {},
               "status": entry.get("status")}
        try:
            row = master.update_item(user, one, path_item=entry.get("itemId"))
        except ApiError as exc:
            result.append({"itemId": entry.get("itemId"), "ok": False, "code": exc.status,
                           "errortitle": exc.message, "message": exc.message})
            continue
        result.append(dict(row, itemId=entry.get("itemId"), ok=True))
    return {"trackerId": tracker_id, "result": result}

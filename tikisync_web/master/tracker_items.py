"""tracker/list_items, tracker/insert_item and tracker/update_item.

list_items is the hot path (a reload downloads whole trackers): rows are read as tuples in
one query, ordered by itemId so offset paging is stable (W9), and encoded once; a deep offset
costs what offset 0 costs (positions.py).
"""
from .. import items as svc
from ..fields import field_type
from ..models import STATUSES, Item
from . import positions
from .errors import MasterError, bad_request, json_response
from .params import MAX_ID, valid_id
from .shapes import ItemRenderer, stored_item
from .trackers import find_in_tracker, find_tracker

# Bounds that keep every number a valid SQL literal on each database.
_MAX_OFFSET = 2**31 - 1
_MAX_TIME = 2**62


def list_items(params, user):
    """A page of items: `result` is always a list; every field with a permName is present."""
    tracker = find_tracker(params)
    offset_given = params.integer("offset")
    limit_given = params.integer("maxRecords")
    since = params.clamped("modifiedSince", None, -_MAX_TIME, _MAX_TIME)
    statuses = params.letters("status")
    item_ids = params.ids("itemId")  # our own client re-reads items it just pushed
    renderer = ItemRenderer(tracker.ordered_fields(), raw=params.text("format") == "raw")

    query = (Item.select(Item.id, Item.status, Item.values, Item.created, Item.modified)
             .where(Item.tracker == tracker.id))
    wanted = None
    if statuses:
        wanted = tuple(sorted({s for s in statuses if s in STATUSES}))
        query = query.where(Item.status.in_(wanted))
    if since is not None:
        query = query.where(Item.modified > since)
    if item_ids:
        query = query.where(Item.id.in_(sorted({i for i in item_ids if valid_id(i)})))
    # Tiki 24 answers nothing without maxRecords (tiki-examples/05); we answer everything, which
    # is what every caller that forgets it wants. -1 (or any negative) also means "all".
    limit = min(limit_given, MAX_ID) if limit_given is not None and limit_given >= 0 else None
    offset = max(0, min(offset_given or 0, _MAX_OFFSET))
    # A whole tracker (or one status) is read page after page: where a page starts is found by
    # itemId (positions.py), not by stepping over `offset` rows. modifiedSince and itemId
    # lists select few rows through their own index; they page the plain way.
    memory = positions.memory() if since is None and not item_ids else None
    key = (tracker.id, tracker.items_epoch, wanted)
    start, after = 0, None
    if memory is not None and offset and memory.tracked():
        start, after = memory.seek(key, offset, query)
    if limit == 0 or start is None:
        rows = []
    else:
        page = positions.seek(query, after) if after is not None else query
        page = page.order_by(Item.id).limit(limit)
        if offset - start:
            page = page.offset(offset - start)
        rows = list(page.tuples().iterator())
        if rows and memory is not None and memory.tracked():
            memory.remember(key, offset + len(rows), rows[-1][0])
    renderer.prepare(rows)
    result = [renderer.item(*row) for row in rows]
    return json_response({"trackerId": tracker.id, "offset": offset_given,
                          "maxRecords": limit_given, "result": result})


def refused(exc):
    """ItemInvalid as Tiki's error: 409 for a missing mandatory value, 400 otherwise."""
    errors = {perm: str(error) for perm, error in exc.errors.items()}
    message = "; ".join(f"{perm} {text}" for perm, text in errors.items())
    return MasterError(409 if exc.missing else 400, message, errors=errors)


def writable(submitted, fields):
    """The posted values Tiki would write: those of our fields that hold a value.

    Tiki reads each of the tracker's own fields from the input and never looks at the rest, so
    a permName we do not have (a Tiki clone's extra local field) or one that holds no value
    (header, static text) is dropped, not refused: such a clone must still be able to push.
    """
    keep = {f.perm_name for f in fields if field_type(f.type).kind != "none"}
    return {perm: value for perm, value in submitted.items() if perm in keep}


def insert_item(params, user):
    """Create an item from `fields[permName]`; a posted itemId is ignored (Tiki sends its own)."""
    tracker = find_tracker(params)
    submitted = params.mapping("fields")
    if not submitted:
        raise bad_request("No values given: send fields[permName]=value")
    fields = tracker.ordered_fields()
    submitted = writable(submitted, fields)
    if not submitted:
        # Beyond Tiki (which would insert an empty item): nothing we could store is a refusal.
        raise bad_request("None of the posted fields is a field of this tracker")
    try:
        item = svc.create_item(tracker, submitted, status=params.text("status").strip() or "o",
                               username=user.username, fields=fields)
    except svc.ItemInvalid as exc:
        raise refused(exc) from None
    return {"trackerId": tracker.id, **stored_item(item, fields)}


def update_item(params, user):
    """Change the posted fields (the others keep their value) and maybe the status."""
    tracker = find_tracker(params)
    if params.text("itemId").strip() == "":
        # Tiki's update_item: Services_Exception_MissingValue, a 409.
        raise MasterError(409, "itemId is required")
    item = find_in_tracker(Item, params, "itemId", tracker, "Item {id} is not in tracker {tracker}")
    fields = tracker.ordered_fields()
    submitted = writable(params.mapping("fields"), fields)
    try:
        changed = svc.update_item(item, submitted, status=params.text("status").strip() or None,
                                  username=user.username, partial=True, fields=fields)
    except svc.ItemInvalid as exc:
        raise refused(exc) from None
    return {"trackerId": tracker.id, **stored_item(item, fields), "changed": changed}

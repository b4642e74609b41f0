"""tracker/list_trackers, tracker/export_fields and the read-only tracker/edit_field."""
import peewee as pw

from ..models import Field, Item, Tracker
from ..remote import exportfmt
from .errors import denied, not_found
from .params import valid_id
from .shapes import export_entry, field_row, served_fields


def find_tracker(params):
    tracker_id = params.integer("trackerId", required=True)
    tracker = Tracker.get_or_none(Tracker.id == tracker_id) if valid_id(tracker_id) else None
    if tracker is None:
        raise not_found(f"Tracker {tracker_id} does not exist")
    return tracker


def find_in_tracker(model, params, key, tracker, missing):
    """The row of `model` whose id is the parameter `key`, in `tracker`; 404 with
    `missing` (formatted with id and tracker) otherwise."""
    ident = params.integer(key, required=True)
    row = model.get_or_none((model.id == ident) & (model.tracker == tracker.id)) \
        if valid_id(ident) else None
    if row is None:
        raise not_found(missing.format(id=ident, tracker=tracker.id))
    return row


def list_trackers(params, user):
    """Every tracker: `list` keyed by id for pickers, `data` rows for the clone's metadata."""
    stats = {tracker_id: (count, last) for tracker_id, count, last in (
        Item.select(Item.tracker, pw.fn.COUNT(Item.id), pw.fn.MAX(Item.modified))
        .group_by(Item.tracker).tuples())}
    data = []
    for tracker in Tracker.select().order_by(Tracker.id):
        count, last = stats.get(tracker.id, (0, None))
        data.append({
            "trackerId": tracker.id, "name": tracker.name, "description": tracker.description,
            "descriptionIsParsed": "n", "created": tracker.created,
            "lastModif": max(tracker.modified, last or 0), "items": count,
        })
    return {"list": {str(row["trackerId"]): row["name"] for row in data}, "data": data,
            "cant": len(data)}


def export_fields(params, user):
    """The field definitions, as rows and as the §6 text Tiki's clone parses."""
    tracker = find_tracker(params)
    fields = served_fields(tracker.ordered_fields())
    wanted = params.ids("fields")
    if wanted:
        by_id = {f.id: f for f in fields}
        missing = [i for i in wanted if i not in by_id]
        if missing:
            raise not_found(f"Field {missing[0]} does not exist in tracker {tracker.id}")
        fields = [by_id[i] for i in wanted]
    return {"title": "Export Fields", "trackerId": tracker.id,
            "fields": [field_row(f) for f in fields],
            "export": exportfmt.write([export_entry(f) for f in fields])}


def edit_field(params, user):
    """One field's definition. Read-only: fields are not changed over the API."""
    tracker = find_tracker(params)
    field = find_in_tracker(Field, params, "fieldId", tracker,
                            "Field {id} does not exist in tracker {tracker}")
    name = params.text("name", None)
    if name is not None and name.strip() != field.name:
        raise denied("Fields cannot be changed through the web services; "
                     "an admin edits them on this site")
    return {"title": f"Edit Field: {field.name}", "trackerId": tracker.id, "fieldId": field.id,
            "field": field_row(field)}

"""Creating, changing, deleting and listing local items: one path for forms, CLI and master."""
import time

import peewee as pw

from . import audit, item_search, sortindex
from .db import database, is_mysql, is_sqlite, write_transaction
from .fields import clean_item, field_type
from .item_search import Total
from .models import STATUSES, Baseline, Field, Item, User
from .values import STATUS_KEY, content_hash


class ItemInvalid(ValueError):
    """Values a tracker refuses; `errors` maps permName -> FieldValueError."""

    def __init__(self, errors):
        self.errors = errors
        first = next(iter(errors.items()))
        super().__init__(f"{first[0]} {first[1]}")

    @property
    def missing(self):
        return any(e.missing for e in self.errors.values())


# --- where an item's base lives (DESIGN §3, "Baseline") -----------------------------------
#
# A synchronized item that nobody changed here is its own base: Item.base_hash equals
# Item.hash and no Baseline row is needed. Before such an item first moves away from its base
# (a local edit, a history restore), `materialize` writes the row with the values it is about
# to leave; from then on the row is the base. Item.base_hash always holds the base's hash, so
# "changed here" is `hash != base_hash`, without reading any values.
def materialize(item):
    """The item's Baseline row, written first when the item is its own base; None for an item
    that was never synchronized."""
    if item.remote_id is None or item.base_hash is None:
        return None
    row = Baseline.get_or_none(Baseline.item == item.id)
    if row is None:
        row = Baseline.create(item=item.id, values=dict(item.values or {}), status=item.status,
                              hash=item.base_hash, remote_modified=item.remote_modified)
    return row


LINK_CHOICES_CAP = 1000


def choice_source(field, wanted=None):
    """Allowed [(value, label)] of fields whose choices are local data: users, linked items."""
    if field.type == "u":
        query = User.select(User.username).where(User.active == True)  # noqa: E712
        groups = [str(g) for g in (field.options or {}).get("roles", [])]
        if groups:
            query = query.where(User.role.in_(groups))
        if wanted is not None:
            query = query.where(User.username.in_(list(wanted)))
        return [(u.username, u.username) for u in query.order_by(User.username)]
    if field.type == "r":
        options = field.options or {}
        linked, display = options.get("trackerId"), options.get("fieldId")
        query = Item.select(Item.id, Item.values).where(Item.tracker == linked)
        if wanted is not None:
            ids = [int(w) for w in wanted if str(w).isdigit()]
            query = query.where(Item.id.in_(ids))
        else:
            query = query.order_by(Item.id).limit(LINK_CHOICES_CAP)
        perm = None
        if display:
            label_field = Field.get_or_none(Field.id == display)
            perm = label_field.perm_name if label_field else None
        return [(str(i.id), str((i.values or {}).get(perm, "")) or f"#{i.id}") for i in query]
    return None


SEARCH_TEXT_MAX = 16000  # characters; the column is TEXT (64 KB) on MariaDB


def search_text(values):
    """What the list's search box looks into: the values, lower-cased, capped."""
    text = " ".join(str(v) for v in values.values() if v not in ("", None)).lower()
    return text[:SEARCH_TEXT_MAX]


def _check_status(status):
    if status not in STATUSES:
        raise ItemInvalid({"status": _status_error()})
    return status


def _status_error():
    from .fields import FieldValueError

    return FieldValueError("must be o (open), p (pending) or c (closed)")


def _validate(fields, submitted, partial):
    def source(field):
        raw = str(submitted.get(field.perm_name, ""))
        wanted = [v.strip() for v in raw.split(",") if v.strip()]
        if isinstance(submitted.get(field.perm_name), (list, tuple)):
            wanted = [str(v).strip() for v in submitted[field.perm_name]]
        return choice_source(field, wanted)

    unknown = [k for k in submitted if k not in {f.perm_name for f in fields}]
    if unknown:
        from .fields import FieldValueError

        raise ItemInvalid({unknown[0]: FieldValueError("is not a field of this tracker")})
    values, errors = clean_item(fields, submitted, partial=partial, choice_source=source)
    if errors:
        raise ItemInvalid(errors)
    return values


def next_modified(previous):
    """Our clock for a write, kept strictly increasing per item so lastModif always moves."""
    return max(int(time.time()), (previous or 0) + 1)


def create_item(tracker, submitted, status="o", username="", fields=None):
    """Validate and insert a new item; raises ItemInvalid and then saves nothing."""
    fields = fields if fields is not None else tracker.ordered_fields()
    _check_status(status)
    values = _validate(fields, submitted, partial=False)
    stamp = int(time.time())
    with write_transaction():
        item = Item.create(
            tracker=tracker, status=status, values=values, search_text=search_text(values),
            hash=content_hash(values, status),
            created=stamp, modified=stamp, created_by=username, modified_by=username,
        )
        audit.record("item.create", username, tracker=tracker, item_id=item.id,
                     fields=sorted(values))
    return item


def update_item(item, submitted, status=None, username="", partial=True, fields=None,
                action="item.update"):
    """Validate and apply changes; fields not submitted keep their value when `partial`.

    Returns the list of permNames whose value changed, plus values.STATUS_KEY when the item
    status changed (a field may be called "status").
    """
    fields = fields if fields is not None else item.tracker.ordered_fields()
    if status is not None:
        _check_status(status)
    values = _validate(fields, submitted, partial=partial)
    merged = dict(item.values or {})
    changed = [p for p, v in values.items() if merged.get(p, "") != v]
    merged.update(values)
    if status is not None and status != item.status:
        changed.append(STATUS_KEY)
    if not changed:
        return []
    new_status = status or item.status
    row = {"values": merged, "search_text": search_text(merged),
           "modified": next_modified(item.modified), "hash": content_hash(merged, new_status),
           "modified_by": username, "status": new_status}
    with write_transaction():
        materialize(item)  # a synchronized item keeps the base it is leaving
        Item.update(**row).where(Item.id == item.id).execute()
        audit.record(action, username, tracker=item.tracker_id, item_id=item.id, fields=changed)
    item.__data__.update(row)  # the caller's object now shows what was stored
    return changed


def delete_item(item, username=""):
    with write_transaction():
        audit.record("item.delete", username, tracker=item.tracker_id, item_id=item.id,
                     remote_id=item.remote_id, values=item.values)
        item.delete_instance()


SORT_KEYS = ("id", "status", "modified", "created")
COUNT_CAP = 10_000  # a search counts its matches up to here (or the page asked for)


def list_items(tracker, fields, q="", status="", sort="id", direction="asc", page=1, per_page=50,
               where=None, positions=None, excluded=None):
    """One page of a tracker's items and their Total; never loads the whole tracker.

    `where`: a condition the items also meet (the sync-state filter, sync/item_states.py).
    `excluded`: with `where`, a function counting the items of a query (the list without
    `where`) that do not meet it, few: the total is then the list's count without `where`
    (remembered, as the unfiltered list's) less theirs, rather than a count of every item
    `where` keeps.
    `positions` (master/positions.py's Memory, from the view): pages in id order, either
    direction, start at a remembered itemId rather than after `OFFSET` rows, as the master's
    do, so the last page costs what the first does; on SQLite and PostgreSQL they also count
    only the ids above the last count's (Memory.count). A sort by a field walks the tracker's
    index on that field (sortindex.py); a search finds the first pages in id order from the
    full-text index and counts at most COUNT_CAP matches."""
    sort_field = {f.perm_name: f for f in fields}.get(sort)
    # A sort by a field names the tracker by a literal: the partial index's own condition.
    query = Item.select().where(
        Item.tracker == (pw.SQL(str(int(tracker.id))) if sort_field else tracker))
    if status in STATUSES:
        query = query.where(Item.status == status)
    whole = query  # the list without `where`
    if where is not None:
        query = query.where(where)
    words = (q or "").lower().split()[:8]
    page = max(1, page)
    key = (tracker.id, tracker.items_epoch, (status,) if status in STATUSES else None)
    remembered = (positions is not None and not words and where is None
                  and positions.tracked())
    if words:
        query, total, led = item_search.search(query, tracker, fields, words, sort == "id",
                                               max(COUNT_CAP, page * per_page))
        if led is not None:
            ordered = led.desc() if direction == "desc" else led.asc()
            return list(query.order_by(ordered).paginate(page, per_page)), total
    elif remembered and not is_mysql():  # counts only the ids above the last count's
        total = Total(positions.count(key, query))
    elif excluded is not None:  # the whole list's count, less the few items left out
        counted = (positions is not None and not is_mysql() and positions.tracked())
        found = positions.count(key, whole) if counted else whole.count()
        total = Total(found - excluded(whole))
    else:
        total = Total(query.count())
    if remembered and sort == "id":
        offset = (page - 1) * per_page
        if direction == "desc":  # the same rows, counted from the other end
            start = max(0, total - offset - per_page)
            rows = positions.window(key, query, start, min(per_page, total - offset))
            return rows[::-1], total
        return positions.window(key, query, offset, per_page), total
    if sort_field is not None:
        column, index = _field_order(tracker, sort_field, total)
        # Without statistics SQLite's planner would rather sort; told to walk the index unless
        # a few items are wanted (a search, a sync state), which it finds and sorts instead.
        if index and is_sqlite() and not words and where is None:
            query = query.from_(pw.NodeList((Item, pw.SQL(f'INDEXED BY "{index}"'))))
    else:
        column = getattr(Item, sort if sort in SORT_KEYS else "id")
    order = [column.desc() if direction == "desc" else column.asc()]
    order.append(Item.id.desc() if direction == "desc" else Item.id.asc())
    rows = list(query.order_by(*order).paginate(page, per_page))
    return rows, total


def _field_order(tracker, field, total):
    """(expression, index) of a sort by `field`: the expression of its index and the index's
    name when there is one (made now when the tracker is large, sortindex.py), or peewee's
    expression and None where no index can serve it."""
    numeric = field_type(field.type).kind in ("number", "date")
    indexed = sortindex.expression(field.perm_name, numeric)
    if indexed is not None:
        made = sortindex.ensure(tracker.id, field, numeric, total)
        return pw.SQL(indexed), sortindex.index_name(tracker.id, field, numeric) if made else None
    column = Item.values[field.perm_name].as_text()
    return (_numeric(column) if numeric else column), None


def _numeric(column):
    """Sort expression reading a JSON text value as a number; junk sorts as NULL, never fails."""
    if isinstance(database.obj, pw.SqliteDatabase):
        return pw.Cast(pw.fn.NULLIF(column, ""), "REAL")
    if isinstance(database.obj, pw.PostgresqlDatabase):
        looks_numeric = pw.Expression(column, "~", r"^\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)\s*$")
        return pw.Case(None, [(looks_numeric, pw.Cast(column, "NUMERIC"))], None)
    return pw.Cast(pw.fn.NULLIF(column, ""), "DECIMAL(30,6)")

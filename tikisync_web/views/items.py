"""Item list (search, sort, filter, pages) and the add / edit / delete forms."""
import contextlib

from flask import redirect, render_template, request, url_for

from .. import items as svc
from ..db import BUSY_MESSAGE, DatabaseBusy
from ..forms.common import ConfirmForm
from ..forms.items import (
    attach_errors,
    form_to_submitted,
    item_form_class,
    raw_to_form,
    show_unknown_choices,
)
from ..master import positions
from ..models import STATUSES, Item, Tracker
from ..sync import item_states
from ..sync import status as sync_status
from ..values import STATUS_KEY
from .blueprint import bp, get_or_404, notify
from .common import current_user, form_status, int_arg, page_size, render_page, require
from .sync_tab import remote_item_url


def _list_args(fields):
    sort = request.args.get("sort", "id")
    if sort not in svc.SORT_KEYS and sort not in {f.perm_name for f in fields}:
        sort = "id"
    return {
        "q": request.args.get("q", "")[:200],
        "status": request.args.get("status", "") if request.args.get("status") in STATUSES else "",
        "sort": sort,
        "direction": "desc" if request.args.get("dir") == "desc" else "asc",
        "page": int_arg("page", 1),
        "state": request.args.get("state", "") if request.args.get("state") in
        sync_status.STATES else "",
    }


@bp.route("/trackers/<int:tracker_id>/items", endpoint="items")
@require("viewer")
def items(tracker_id):
    """One page of a tracker's items."""
    tracker = get_or_404(Tracker, tracker_id, "tracker")
    fields = tracker.ordered_fields()
    args = _list_args(fields)
    per_page = page_size()
    query = {k: v for k, v in args.items() if k != "state"}
    if tracker.is_clone and args["state"] == "in_sync":  # most items: count the others
        query["where"], query["excluded"] = item_states.in_sync(tracker,
                                                                sync_status.perms_of(tracker))
    elif tracker.is_clone and args["state"]:  # a condition in SQL, however many it keeps
        query["where"] = item_states.condition(tracker, args["state"],
                                               sync_status.perms_of(tracker))
    query["positions"] = positions.memory()
    with item_states.led_by_changes() if "where" in query else contextlib.nullcontext():
        rows, total = svc.list_items(tracker, fields, per_page=per_page, **query)
        pages = _pages(total, per_page)
        if args["page"] > pages:  # an old link after deletions, or a typed page number
            args["page"] = query["page"] = pages
            rows, total = svc.list_items(tracker, fields, per_page=per_page, **query)
            pages = _pages(total, per_page)
    # A clone's items carry their sync state, for every role (computed from hashes, no
    # network), for the shown page's items only.
    states = None
    if tracker.is_clone:
        with item_states.led_by_changes():  # each of the page's items looked up by its id
            states = sync_status.states_by_item(tracker, [r.id for r in rows])
    columns = [f for f in fields if f.type not in ("h", "S") and f.flag("isTblVisible", "y")]
    return render_page(
        "tikisync/items.html", fragments={"item-table": "tikisync/_item_table.html"},
        tracker=tracker, fields=fields, columns=columns, rows=rows, total=total, pages=pages,
        per_page=per_page, args=args, statuses=STATUSES, labels=_link_labels(columns, rows),
        states=states, sync_states=sync_status.STATES,
    )


def _pages(total, per_page):
    """Pages of the list; a search that stopped counting (more than `total` items) has at
    least the page after the ones counted, and no known last page."""
    return max(1, -(-(total if total.exact else total + 1) // per_page))


def _link_labels(fields, rows):
    """perm -> [(item id, label)] for the item-link values shown: one query per such field,
    for these rows only, so a linked item reads as its label rather than its number."""
    labels = {}
    for field in fields:
        if field.type != "r":
            continue
        wanted = {v for row in rows
                  for v in str((row.values or {}).get(field.perm_name, "")).split(",") if v}
        labels[field.perm_name] = svc.choice_source(field, wanted) if wanted else []
    return labels


def _form_for(tracker, fields):
    return item_form_class(fields, svc.choice_source)()


@bp.route("/trackers/<int:tracker_id>/items/new", methods=["GET", "POST"], endpoint="item_new")
@require("editor")
def item_new(tracker_id):
    """Add an item."""
    tracker = get_or_404(Tracker, tracker_id, "tracker")
    fields = tracker.ordered_fields()
    form = _form_for(tracker, fields)
    busy = False
    if form.validate_on_submit():
        try:
            item = svc.create_item(tracker, form_to_submitted(form, fields),
                                   status=form.status.data, username=current_user().username,
                                   fields=fields)
        except svc.ItemInvalid as exc:
            attach_errors(form, exc.errors)
        except DatabaseBusy:
            busy = True
        else:
            notify(f"Item #{item.id} added.", "success")
            if request.form.get("then") == "another":
                return redirect(url_for("tikisync.item_new", tracker_id=tracker.id), 303)
            return redirect(url_for("tikisync.items", tracker_id=tracker.id), 303)
    return _item_form(form, tracker, fields, None, busy)


@bp.route("/items/<int:item_id>", endpoint="item")
@require("viewer")
def item(item_id):
    """One item, every field."""
    row = get_or_404(Item, item_id, "item")
    fields = row.tracker.ordered_fields()
    sync = sync_status.item_state(row, row.tracker) if row.tracker.is_clone else None
    names = {f.perm_name: f.name for f in fields}
    return render_page("tikisync/item.html", item=row, tracker=row.tracker, fields=fields,
                       statuses=STATUSES, labels=_link_labels(fields, [row]), sync=sync,
                       sync_fields=[names.get(p, "the status" if p == STATUS_KEY else p)
                                    for p in (sync.fields if sync else [])],
                       remote_url=remote_item_url(row.tracker, row.remote_id)
                       if row.remote_id and row.tracker.is_clone else None)


@bp.route("/items/<int:item_id>/edit", methods=["GET", "POST"], endpoint="item_edit")
@require("editor")
def item_edit(item_id):
    """Change an item."""
    row = get_or_404(Item, item_id, "item")
    tracker = row.tracker
    fields = tracker.ordered_fields()
    form = _form_for(tracker, fields)
    if request.method == "GET":
        raw_to_form(form, fields, row.values, row.status)
    busy = False
    if form.validate_on_submit():
        try:
            submitted = form_to_submitted(form, fields, stored=row.values or {})
            changed = svc.update_item(row, submitted, status=form.status.data,
                                      username=current_user().username, partial=False,
                                      fields=fields)
        except svc.ItemInvalid as exc:
            attach_errors(form, exc.errors)
        except DatabaseBusy:
            busy = True
        else:
            notify(f"Item #{row.id} saved." if changed else f"Item #{row.id}: nothing changed.",
                   "success")
            return redirect(url_for("tikisync.item", item_id=row.id), 303)
    return _item_form(form, tracker, fields, row, busy)


def _item_form(form, tracker, fields, item, busy):
    """The add or edit form again: with its errors (422), or with the user's values and the
    news that the database was busy (503: nothing was saved, trying again will work)."""
    show_unknown_choices(form, fields)
    body = render_template("tikisync/item_form.html", form=form, tracker=tracker,
                           fields=fields, item=item, busy=BUSY_MESSAGE if busy else None)
    return body, 503 if busy else form_status()


@bp.route("/items/<int:item_id>/delete", methods=["GET", "POST"], endpoint="item_delete")
@require("editor")
def item_delete(item_id):
    """Delete an item, after confirmation."""
    row = get_or_404(Item, item_id, "item")
    form = ConfirmForm()
    if form.validate_on_submit():
        svc.delete_item(row, current_user().username)
        notify(f"Item #{row.id} deleted.", "success")
        return redirect(url_for("tikisync.items", tracker_id=row.tracker_id), 303)
    note = ""
    if row.remote_id:
        note = (" It was copied from the master; deleting it here does not delete it there, "
                "and the next reload brings it back.")
    return render_template(
        "tikisync/confirm.html", form=form, title=f"Delete item #{row.id}?",
        message="The item and its values are removed from this site." + note,
        action=url_for("tikisync.item_delete", item_id=row.id), button="Delete item",
        cancel=url_for("tikisync.item", item_id=row.id))

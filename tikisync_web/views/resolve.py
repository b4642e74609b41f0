"""Conflict resolution (base / mine / theirs per field) and the item's history."""
from flask import abort, redirect, render_template, request, url_for

from .. import jobs
from ..forms.common import ConfirmForm
from ..models import STATUSES, Baseline, Field, Item, ItemHistory
from ..sync import push as push_mod
from ..sync import resolve as resolve_mod
from ..sync import status as status_mod
from ..values import STATUS_KEY
from .blueprint import bp, get_or_404, notify
from .common import current_user, form_status, require
from .jobs import start_job
from .sync_tab import remote_item_url, sync_tracker
from .titles import item_title_of

# The three-way view's order: conflicts first, then what moved on one side only.
RANKS = {"conflict": 0, "local": 1, "remote": 2, "same": 3}


def _synced_item(item_id):
    item = get_or_404(Item, item_id, "item")
    sync_tracker(item.tracker_id)
    base = Baseline.get_or_none(Baseline.item == item)
    if base is None:
        abort(404, f"Item #{item.id} was never synchronized with the master: nothing to resolve.")
    item.baseline = base
    return item


@bp.route("/items/<int:item_id>/resolve", methods=["GET", "POST"], endpoint="item_resolve")
@require("admin")
def item_resolve(item_id):
    """Base, mine and theirs side by side; keep mine, take theirs or write a value per field."""
    item = _synced_item(item_id)
    tracker = item.tracker
    form = ConfirmForm()
    perms = status_mod.perms_of(tracker)
    rows = status_mod.field_table(item, perms)
    errors = []
    if form.validate_on_submit():
        if item.baseline.deleted_on_master:
            choice = request.form.get("deleted")
            if choice not in ("mine", "theirs"):
                errors.append("Choose to create the item again on the master or to delete it here.")
            else:
                kept = resolve_mod.resolve(item, {}, username=current_user().username,
                                           all_mine=choice == "mine", all_theirs=choice == "theirs")
                notify("The item will be created again on the next push." if kept else
                       f"Item #{item_id} deleted here.", "success")
                return redirect(url_for("tikisync.sync", tracker_id=tracker.id), 303)
        else:
            choices = {}
            for row in rows:
                if row["verdict"] != "conflict":
                    continue
                picked = request.form.get(f"choice-{row['perm']}", "")
                if picked == "value":
                    choices[row["perm"]] = ("value", request.form.get(f"value-{row['perm']}", ""))
                elif picked in ("mine", "theirs"):
                    choices[row["perm"]] = picked
            try:
                resolve_mod.resolve(item, choices, username=current_user().username)
            except resolve_mod.ResolveError as exc:
                errors.append(str(exc)[:1].upper() + str(exc)[1:] + ".")
            else:
                notify(f"Item #{item_id} resolved. Push it to send the values you kept.", "success")
                return redirect(url_for("tikisync.sync", tracker_id=tracker.id), 303)
    fields = {f.perm_name: f for f in tracker.ordered_fields()}
    for row in rows:  # conflicts first, then what moved on one side; the rest folded away
        row["rank"] = RANKS.get(row["verdict"], len(RANKS))
    return render_template("tikisync/resolve.html", item=item, tracker=tracker, rows=rows,
                           fields=fields, form=form, errors=errors, statuses=STATUSES,
                           remote_url=remote_item_url(tracker, item.remote_id)), \
        form_status(bool(errors))


@bp.route("/items/<int:item_id>/overwrite", methods=["GET", "POST"], endpoint="item_overwrite")
@require("admin")
def item_overwrite(item_id):
    """Overwrite the master with every local value of this item (after confirmation)."""
    item = _synced_item(item_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        if not item.baseline.deleted_on_master:
            resolve_mod.resolve(item, {}, username=current_user().username, all_mine=True)
        plan = push_mod.plan_push(item.tracker, item_ids=[item.id])
        try:
            job = start_job("push", tracker=item.tracker, username=current_user().username,
                            params={"items": plan.entries, "skipped": plan.skipped})
        except jobs.JobBusy as exc:
            notify(str(exc), "warning")
            return redirect(url_for("tikisync.sync", tracker_id=item.tracker_id), 303)
        return redirect(url_for("tikisync.job", job_id=job.id), 303)
    tracker = item.tracker
    rows = [r for r in status_mod.field_table(item, status_mod.perms_of(tracker))
            if str(r["theirs"]) != str(r["mine"])]
    return render_template(
        "tikisync/overwrite.html", form=form, item=item, tracker=tracker, rows=rows,
        title_of=item_title_of(tracker), fields={f.perm_name: f for f in tracker.ordered_fields()})


@bp.route("/items/<int:item_id>/history", endpoint="item_history")
@require("viewer")
def item_history(item_id):
    """Every value overwritten on either side, newest first, with a way back."""
    item = get_or_404(Item, item_id, "item")
    entries = list(ItemHistory.select().where(ItemHistory.item == item)
                   .order_by(ItemHistory.id.desc()))
    return render_template("tikisync/item_history.html", item=item, tracker=item.tracker,
                           entries=entries, form=ConfirmForm(),
                           fields={f.perm_name: f for f in item.tracker.ordered_fields()})


@bp.route("/history/<int:entry_id>/restore", methods=["POST"], endpoint="history_restore")
@require("editor")
def history_restore(entry_id):
    """Put an overwritten value back into the local item (push it to send it to the master)."""
    entry = get_or_404(ItemHistory, entry_id, "history entry")
    resolve_mod.restore(entry, username=current_user().username)
    field = Field.get_or_none(Field.tracker == entry.item.tracker_id,
                              Field.perm_name == entry.perm_name)
    label = field.name if field else ("Status" if entry.perm_name == STATUS_KEY
                                      else entry.perm_name)
    notify(f"{label} restored to “{entry.old_value}”.", "success")
    return redirect(url_for("tikisync.item_history", item_id=entry.item_id), 303)

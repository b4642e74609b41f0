"""A tracker's fields: add, edit, reorder, delete."""
import peewee as pw
from flask import redirect, render_template, request, url_for

from .. import audit, sortindex
from ..db import write_transaction
from ..forms.common import ConfirmForm
from ..forms.trackers import FieldForm, derive_perm_name
from ..models import Field, Item, Tracker
from .blueprint import bp, get_or_404, notify
from .common import current_user, form_status, render_page, require


def _unique_perm(tracker, wanted, exclude=None):
    query = Field.select().where(Field.tracker == tracker, Field.perm_name == wanted)
    if exclude is not None:
        query = query.where(Field.id != exclude.id)
    return not query.exists()


@bp.route("/trackers/<int:tracker_id>/fields", endpoint="fields")
@require("viewer")
def fields(tracker_id):
    """The fields of a tracker, in order."""
    tracker = get_or_404(Tracker, tracker_id, "tracker")
    return render_page("tikisync/fields.html", tracker=tracker, fields=tracker.ordered_fields(),
                       form=ConfirmForm())


@bp.route("/trackers/<int:tracker_id>/fields/new", methods=["GET", "POST"], endpoint="field_new")
@require("admin")
def field_new(tracker_id):
    """Add a field."""
    tracker = get_or_404(Tracker, tracker_id, "tracker")
    form = FieldForm()
    if form.validate_on_submit():
        perm = form.perm_name.data or derive_perm_name(form.name.data)
        if _unique_perm(tracker, perm):
            with write_transaction():
                field = _create_field(tracker, perm, form)
            notify(f"Field “{field.name}” added.", "success")
            return redirect(url_for("tikisync.fields", tracker_id=tracker.id), 303)
        form.perm_name.errors = [f"This tracker already has a field named {perm!r}."]
    return render_template("tikisync/field_form.html", form=form, tracker=tracker,
                           field=None), form_status()


@bp.route("/fields/<int:field_id>/edit", methods=["GET", "POST"], endpoint="field_edit")
@require("admin")
def field_edit(field_id):
    """Change a field's label, type, options or flags."""
    field = get_or_404(Field, field_id, "field")
    tracker = field.tracker
    form = FieldForm(obj=field)
    if request.method == "GET":
        form.fill_from(field)
    if form.validate_on_submit():
        perm = form.perm_name.data or field.perm_name
        if _unique_perm(tracker, perm, exclude=field):
            with write_transaction():
                if perm != field.perm_name:
                    _rename_values(tracker, field.perm_name, perm)
                Field.update(
                    perm_name=perm, name=form.name.data.strip(), type=form.type.data,
                    options=form.options(), mandatory=form.mandatory.data,
                    description=form.description.data or "",
                    flags={**(field.flags or {}),
                           "isTblVisible": "n" if form.unlisted.data else "y"},
                ).where(Field.id == field.id).execute()
                audit.record("field.update", current_user().username, tracker=tracker, perm=perm)
            notify(f"Field “{form.name.data.strip()}” saved.", "success")
            return redirect(url_for("tikisync.fields", tracker_id=tracker.id), 303)
        form.perm_name.errors = [f"This tracker already has a field named {perm!r}."]
    return render_template("tikisync/field_form.html", form=form, tracker=tracker,
                           field=field), form_status()


def _create_field(tracker, perm, form):
    last = Field.select(pw.fn.MAX(Field.position)).where(Field.tracker == tracker).scalar()
    field = Field.create(
        tracker=tracker, perm_name=perm, name=form.name.data.strip(), type=form.type.data,
        options=form.options(), position=(last or 0) + 10, mandatory=form.mandatory.data,
        description=form.description.data or "",
        flags={"isMain": "n" if tracker.fields.count() else "y",
               "isTblVisible": "n" if form.unlisted.data else "y",
               "isSearchable": "y", "isPublic": "y", "isHidden": "n"},
    )
    audit.record("field.create", current_user().username, tracker=tracker,
                 perm=field.perm_name, type=field.type)
    return field


def _rename_values(tracker, old, new):
    """Move stored values to a renamed permName, in batches."""
    query = Item.select(Item.id, Item.values).where(Item.tracker == tracker).order_by(Item.id)
    for item in query.iterator():
        values = dict(item.values or {})
        if old in values:
            values[new] = values.pop(old)
            Item.update(values=values).where(Item.id == item.id).execute()


@bp.route("/fields/<int:field_id>/move", methods=["POST"], endpoint="field_move")
@require("admin")
def field_move(field_id):
    """Move a field one place up or down."""
    field = get_or_404(Field, field_id, "field")
    ordered = field.tracker.ordered_fields()
    index = next(i for i, f in enumerate(ordered) if f.id == field.id)
    other = index - 1 if request.form.get("direction") == "up" else index + 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
        with write_transaction():
            for position, item in enumerate(ordered, start=1):
                Field.update(position=position * 10).where(Field.id == item.id).execute()
    if request.headers.get("HX-Request") == "true":
        return render_page("tikisync/fields.html",
                           fragments={"field-list": "tikisync/_field_list.html"},
                           tracker=field.tracker, fields=field.tracker.ordered_fields(),
                           form=ConfirmForm())
    return redirect(url_for("tikisync.fields", tracker_id=field.tracker_id), 303)


@bp.route("/fields/<int:field_id>/delete", methods=["GET", "POST"], endpoint="field_delete")
@require("admin")
def field_delete(field_id):
    """Delete a field (its values stay in the items' history of the audit log)."""
    field = get_or_404(Field, field_id, "field")
    form = ConfirmForm()
    if form.validate_on_submit():
        with write_transaction():
            audit.record("field.delete", current_user().username, tracker=field.tracker_id,
                         perm=field.perm_name, type=field.type)
            field.delete_instance()
            sortindex.drop(field.tracker_id, field.id)
        notify(f"Field “{field.name}” deleted.", "success")
        return redirect(url_for("tikisync.fields", tracker_id=field.tracker_id), 303)
    return render_template(
        "tikisync/confirm.html", form=form, title=f"Delete field “{field.name}”?",
        message="Items keep their stored value, but it is no longer shown or sent to a master.",
        action=url_for("tikisync.field_delete", field_id=field.id), button="Delete field",
        cancel=url_for("tikisync.fields", tracker_id=field.tracker_id))

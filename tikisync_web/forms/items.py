"""Item forms, one class per tracker layout, and the conversions between stored raw values
and what the widgets show."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField

from .. import fields as ft
from ..models import STATUSES
from .common import options_of


class ItemFormBase(FlaskForm):
    status = SelectField("Status", choices=options_of(STATUSES.items()), default="o")


def form_name(field):
    return "v_" + field.perm_name


def item_form_class(fields, choice_source):
    """A FlaskForm class with one widget per field (h and S have none)."""
    attrs = {}
    for field in fields:
        widget = _widget(field, choice_source)
        if widget is not None:
            attrs[form_name(field)] = widget
    return type("ItemForm", (ItemFormBase,), attrs)


def _widget(field, choice_source):
    kind = ft.field_type(field.type).kind
    label, help_text = field.name, field.description or ""
    kw = {"label": label, "description": help_text}
    if field.mandatory:
        kw["render_kw"] = {"aria-required": "true"}
    if kind == "none":
        return None
    if kind == "textarea":
        return TextAreaField(**kw)
    if kind == "checkbox":
        return BooleanField(**kw)
    if kind in ("choice", "multichoice") and field.type != "D":
        options = (choice_source(field) if field.type in ("u", "r") else None) or ft.choices(field)
        if kind == "multichoice" or ft.is_multiple(field):
            return SelectMultipleField(choices=options_of(options), validate_choice=False, **kw)
        return SelectField(choices=options_of([("", "—")] + options), validate_choice=False, **kw)
    render = dict(kw.get("render_kw", {}))
    if kind == "date":
        render["type"] = "datetime-local" if ft.date_has_time(field) else "date"
    elif kind == "number":
        render["inputmode"] = "decimal"
    elif kind == "email":
        render["type"] = "email"
    elif kind == "url":
        render["type"] = "url"
    elif field.type == "D":
        render["list"] = "choices-" + field.perm_name
    kw["render_kw"] = render
    return StringField(**kw)


def _shown(field, widget, raw):
    """What `widget` shows for the stored raw value `raw`."""
    kind = ft.field_type(field.type).kind
    if kind == "checkbox":
        return raw == "y"
    if isinstance(widget, SelectMultipleField):
        return [v for v in str(raw or "").split(",") if v]
    if kind == "date":
        return ft.format_date(raw, ft.date_has_time(field)).replace(" ", "T")
    return "" if raw is None else str(raw)


def _choice_values(widget):
    return {c.value if hasattr(c, "value") else c[0] for c in widget.choices or []}


def raw_to_form(form, fields, values, status):
    """Fill an item form from stored raw values."""
    form.status.data = status
    for field in fields:
        widget = getattr(form, form_name(field), None)
        if widget is None:
            continue
        widget.data = _shown(field, widget, (values or {}).get(field.perm_name, ""))


def show_unknown_choices(form, fields):
    """Add a select option for a value that is not a choice (any more), before rendering:
    otherwise the browser shows, and sends back, another option and the value is lost."""
    for field in fields:
        widget = getattr(form, form_name(field), None)
        if not isinstance(widget, SelectField) or not widget.data:
            continue
        wanted = widget.data if isinstance(widget.data, list) else [widget.data]
        missing = [v for v in wanted if v not in _choice_values(widget)]
        if missing:
            widget.choices = list(widget.choices) + options_of(
                (v, f"{v} (not a choice)") for v in missing)


def _unchanged(field, widget, raw):
    shown, data = _shown(field, widget, raw), widget.data
    if isinstance(widget, SelectMultipleField):
        return set(data or []) == set(shown)
    if isinstance(shown, bool):
        return bool(data) == shown
    if ft.field_type(field.type).kind == "textarea":
        return (data or "").replace("\r\n", "\n") == shown.replace("\r\n", "\n")
    return (data or "") == shown


def form_to_submitted(form, fields, stored=None):
    """permName -> value as typed, ready for fields.clean_item.

    With `stored` (an item's raw values), a widget the user left as it was gives back the
    stored raw value itself, so an edit never rewrites what the user did not touch (the
    seconds of a time, a date stored at another zone's midnight, an empty checkbox).
    """
    submitted = {}
    for field in fields:
        widget = getattr(form, form_name(field), None)
        if widget is None:
            continue
        kind = ft.field_type(field.type).kind
        if stored is not None and _unchanged(field, widget, stored.get(field.perm_name, "")):
            raw = stored.get(field.perm_name, "")
            submitted[field.perm_name] = "" if raw is None else raw
        elif kind == "checkbox":
            submitted[field.perm_name] = "y" if widget.data else ("" if field.mandatory else "n")
        elif isinstance(widget, SelectMultipleField):
            submitted[field.perm_name] = ",".join(widget.data or [])
        else:
            submitted[field.perm_name] = widget.data or ""
    return submitted


def attach_errors(form, errors):
    """Show ItemInvalid errors next to their widgets."""
    for perm, error in errors.items():
        widget = getattr(form, "v_" + perm, None) or getattr(form, perm, None)
        message = str(error)
        if widget is not None:
            widget.errors = list(widget.errors or []) + [message[:1].upper() + message[1:] + "."]
        else:
            form.form_errors.append(f"{perm} {message}.")

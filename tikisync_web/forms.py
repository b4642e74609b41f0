"""WTForms (through Flask-WTF for CSRF): accounts, trackers, fields, and item forms built per tracker."""
import json
import re

from flask_wtf import FlaskForm
from wtforms import (BooleanField, PasswordField, SelectField, SelectMultipleField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

try:  # WTForms 3.3 deprecates (value, label) tuples, and 3.4 drops them
    from wtforms import SelectChoice
except ImportError:  # WTForms 3.2
    SelectChoice = None

from . import fields as ft
from .models import ROLES, STATUSES


def options_of(pairs):
    """Select options from (value, label) pairs, in the form this WTForms wants."""
    if SelectChoice is None:
        return [(value, label) for value, label in pairs]
    return [SelectChoice(value, label) for value, label in pairs]


PERM_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,99}$")


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=100)])
    password = PasswordField("Password", validators=[DataRequired()])


class ConfirmForm(FlaskForm):
    """Only the CSRF token: the confirmation step of destructive actions."""


class TrackerForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=5000)])


def _type_choices():
    return options_of((code, f"{ft.TYPES[code].label} ({code})") for code in ft.LOCAL_TYPES)


class FieldForm(FlaskForm):
    name = StringField("Label", validators=[DataRequired(), Length(max=200)])
    perm_name = StringField(
        "Permanent name", validators=[Optional(), Regexp(PERM_NAME, message=(
            "Use letters, digits and underscores, starting with a letter."))],
        description="Used in exports and by the master API; derived from the label when empty.")
    type = SelectField("Type", choices=_type_choices)
    description = TextAreaField("Description", validators=[Optional(), Length(max=5000)])
    mandatory = BooleanField("Mandatory")
    choices = TextAreaField(
        "Choices", validators=[Optional(), Length(max=20000)],
        description="Dropdowns, radio buttons, multiselects and categories: one per line, "
                    "as value or value=Label.")
    date_mode = SelectField("Date input", choices=options_of(
        [("dt", "Date and time"), ("d", "Date only")]))
    multiple = BooleanField("Allow several values (user selector, category)")
    options_json = TextAreaField(
        "Other options (JSON)", validators=[Optional(), Length(max=20000)],
        description='Options as Tiki stores them, for example {"trackerId": 3, "fieldId": 12} '
                    "for an item link.")

    def validate_options_json(self, field):
        if field.data and field.data.strip():
            try:
                value = json.loads(field.data)
            except ValueError as exc:
                raise ValidationError(f"This is not valid JSON ({exc.msg}).") from None
            if not isinstance(value, dict):
                raise ValidationError('Options are a JSON object, such as {"decimals": 2}.')

    def options(self):
        """The options dict this form describes."""
        data = json.loads(self.options_json.data) if (self.options_json.data or "").strip() else {}
        kind = ft.field_type(self.type.data).kind
        lines = [ln.strip() for ln in (self.choices.data or "").splitlines() if ln.strip()]
        if kind in ("choice", "multichoice") and self.type.data not in ("u", "r"):
            data["options"] = lines
        if kind == "date":
            data["datetime"] = self.date_mode.data
        if self.type.data == "u":
            data["multiple"] = 1 if self.multiple.data else 0
        if self.type.data == "e":
            data["inputtype"] = "m" if self.multiple.data else "d"
        return data

    def fill_from(self, field):
        options = dict(field.options or {})
        self.choices.data = "\n".join(options.pop("options", []) or [])
        self.date_mode.data = options.pop("datetime", "dt")
        self.multiple.data = str(options.pop("multiple", "0")) in ("1", "y", "true") or \
            options.pop("inputtype", "d") in ("m", "checkbox")
        self.options_json.data = json.dumps(options) if options else ""


def derive_perm_name(label):
    words = re.findall(r"[A-Za-z0-9]+", label or "")
    if not words:
        return "field"
    name = words[0].lower() + "".join(w.capitalize() for w in words[1:])
    return name if name[0].isalpha() else "f" + name


class UserForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=100),
                                                   Regexp(r"^\S+$", message="No spaces.")])
    role = SelectField("Role", choices=options_of((r, r) for r in ROLES))
    password = PasswordField("Password", validators=[DataRequired(), Length(min=8)])


class UserEditForm(FlaskForm):
    role = SelectField("Role", choices=options_of((r, r) for r in ROLES))
    active = BooleanField("Active")
    password = PasswordField("New password", validators=[Optional(), Length(min=8)],
                             description="Leave empty to keep the current password.")


class TokenForm(FlaskForm):
    username = SelectField("User", choices=[])
    label = StringField("Label", validators=[Optional(), Length(max=100)])


class SettingsForm(FlaskForm):
    remote_sync = BooleanField("Synchronize remote trackers")


# --- item forms, one class per tracker layout -------------------------------------------------

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

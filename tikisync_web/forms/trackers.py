"""Forms of trackers and their fields."""
import json
import re

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from .. import fields as ft
from .common import options_of


class TrackerForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=5000)])


def _type_choices():
    return options_of((code, f"{ft.TYPES[code].label} ({code})") for code in ft.LOCAL_TYPES)


class FieldForm(FlaskForm):
    name = StringField("Label", validators=[DataRequired(), Length(max=200)])
    perm_name = StringField(
        "Permanent name", validators=[Optional(), Regexp(ft.PERM_NAME, message=(
            "Use letters, digits and underscores, starting with a letter."))],
        description="Used in exports and by the master API; derived from the label when empty.")
    type = SelectField("Type", choices=_type_choices)
    description = TextAreaField("Description", validators=[Optional(), Length(max=5000)])
    mandatory = BooleanField("Mandatory")
    # Tiki's "isTblVisible" flag, inverted so that a form posted without it keeps the column.
    unlisted = BooleanField("Hidden from the item list",
                            description="The item page and the forms still show it; a clone "
                                        "takes this from the master's field.")
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
        self.unlisted.data = not field.flag("isTblVisible", "y")
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

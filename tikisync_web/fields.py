"""Field types: Tiki type code -> kind (widget family), value rules, and clone policy.

Values are validated and normalised here, once, for every way in: the item form, the CLI and
the master API all call `clean_item`. Raw values follow Tiki (tiki-protocol.md §8.1):
checkbox `y`/`n`, dates Unix seconds, multi-values comma-joined, empty is "".
"""
import ipaddress
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

MAX_VALUE_LENGTH = 65535
# A permName: what Tiki allows, and safe as a form field name, a JSON key and a CLI key.
PERM_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,99}$")


@dataclass(frozen=True)
class FieldType:
    code: str
    label: str
    # text textarea number currency email url ip location checkbox choice multichoice date none
    kind: str
    # keep | transform | skip: what a clone does with a remote field of this type
    policy: str = "keep"
    reason: str = ""  # why a skipped type is skipped


_KEEP = [
    ("t", "Text field", "text"), ("a", "Text area", "textarea"), ("wiki", "Wiki page", "text"),
    ("n", "Numeric", "number"), ("b", "Currency", "currency"), ("c", "Checkbox", "checkbox"),
    ("d", "Dropdown", "choice"), ("D", "Dropdown with other", "choice"),
    ("R", "Radio buttons", "choice"), ("M", "Multiselect", "multichoice"),
    ("f", "Date and time", "date"), ("j", "Date picker", "date"), ("CAL", "Calendar item", "date"),
    ("DUR", "Duration", "text"), ("m", "Email", "email"), ("L", "URL", "url"),
    ("y", "Country selector", "text"), ("I", "IP address", "ip"), ("F", "Tags", "text"),
    ("G", "Location", "location"), ("GF", "Geographic feature", "textarea"),
    ("LANG", "Language", "text"), ("math", "Mathematical calculation", "text"),
    ("kaltura", "Kaltura video", "text"), ("h", "Header", "none"), ("S", "Static text", "none"),
]
_TRANSFORM = [
    ("u", "User selector", "choice"), ("e", "Category", "choice"), ("r", "Item link", "choice"),
]
_SKIP = [
    ("x", "Action"), ("q", "Auto-increment"), ("C", "Computed"), ("w", "Dynamic items list"),
    ("A", "Attachment"), ("FG", "Files"), ("g", "Group selector"), ("icon", "Icon"),
    ("i", "Image"), ("N", "In group"), ("l", "Items list"), ("P", "LDAP"),
    ("k", "Page selector"), ("STARS", "Rating"), ("*", "Stars (deprecated)"),
    ("s", "Stars (system)"), ("REL", "Relations"), ("usergroups", "User groups"),
    ("p", "User preference"), ("U", "User subscription"), ("W", "Webservice"),
    ("articles", "Articles"), ("STO", "show.tiki.org"), ("EF", "Email folder"),
]
_SKIP_REASONS = {
    "q": "auto-increment numbers are assigned by each site, so they cannot be copied",
    "k": "page selectors point at wiki pages of the master, which do not exist here",
    "C": "computed values are recalculated by the master",
    "A": "attachments are files on the master and are not transferred",
    "FG": "files live in the master's file galleries and are not transferred",
    "i": "images are files on the master and are not transferred",
}

TYPES = {}
for _code, _label, _kind in _KEEP:
    TYPES[_code] = FieldType(_code, _label, _kind)
for _code, _label, _kind in _TRANSFORM:
    TYPES[_code] = FieldType(_code, _label, _kind, policy="transform")
for _code, _label in _SKIP:
    TYPES[_code] = FieldType(
        _code, _label, "none", policy="skip",
        reason=_SKIP_REASONS.get(
            _code, f"{_label} fields are not synchronizable (Tiki skips them too)"),
    )

# Types a local tracker can hold (every synchronizable type; u/e/r work on local data).
LOCAL_TYPES = [code for code, t in TYPES.items() if t.policy != "skip"]
SYNCHRONIZABLE = set(LOCAL_TYPES)


def field_type(code):
    """The FieldType for a code; unknown codes are skipped types."""
    return TYPES.get(code) or FieldType(
        code, f"Unknown type {code}", "none", policy="skip",
        reason=f"type {code!r} is unknown to tikisync-web",
    )


class FieldValueError(ValueError):
    """A value a field cannot hold; `missing` is True for an absent mandatory value."""

    def __init__(self, message, missing=False):
        super().__init__(message)
        self.missing = missing


def parse_options(raw):
    """Options as a dict, from Tiki's JSON (Tiki >= 12) or legacy CSV (Tiki <= 11) encoding."""
    if isinstance(raw, dict):
        return raw
    if raw is None or raw == "" or raw == []:
        return {}
    if isinstance(raw, list):
        return {"options": [str(v) for v in raw]}
    text = str(raw).strip()
    if text.startswith(("{", "[")):
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):  # a master may send "[[[[…" thousands deep
            value = None
        if isinstance(value, dict):
            return value
        if isinstance(value, list):  # PHP's empty array, or a bare list of choices
            return {"options": [str(v) for v in value]} if value else {}
    return {"options": [part for part in text.split(",") if part != ""], "legacy": text}


def choices(field_or_options):
    """[(value, label)] of a choice field, from `options` entries `value=label` or `value`."""
    options = getattr(field_or_options, "options", field_or_options) or {}
    entries = options.get("options", []) if isinstance(options, dict) else []
    if isinstance(entries, str):
        entries = [e for e in entries.split(",") if e != ""]
    result = []
    for entry in entries:
        entry = str(entry)
        value, sep, label = entry.partition("=")
        result.append((value.strip(), label.strip() if sep else value.strip()))
    return result


def is_multiple(field):
    options = field.options or {}
    if field.type == "M":
        return True
    if field.type == "e":
        return options.get("inputtype") in ("m", "checkbox")
    return str(options.get("multiple", "0")) in ("1", "true", "y")


def is_empty(value):
    """Tiki spells "empty" as "", null, false or [] (tiki-examples/README.md)."""
    return value is None or value is False or value == "" or value == [] or value == {}


def normalize_raw(value):
    """A remote raw value as the string we store: all empties become ""; lists comma-joined."""
    if is_empty(value):
        return ""
    if value is True:
        return "y"
    if isinstance(value, list):
        return ",".join(normalize_raw(v) for v in value if not is_empty(v))
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_TRUE = ("y", "yes", "on", "1", "true")
_FALSE = ("n", "no", "off", "0", "false")
_WHOLE = re.compile(r"^\s*(-?[0-9]+)(\.0*)?\s*$")
# Types whose raw values have more than one spelling of the same thing.
SPELLED = frozenset(("c", "f", "j", "CAL", "M", "e", "u", "r"))


def canonical_raw(type_code, text):
    """One spelling per field type of a stored raw value (already through normalize_raw):
    what clean() makes of the same input, so a value from a master and one typed here compare
    equal when they mean the same. Checkbox y/n from on/1/true and off/0/false, dates as whole
    seconds ("1767225600.0" too), multiple values comma-joined without spaces or empties,
    category ids as a sorted set (a Tiki 24+ handler lists them in its own order)."""
    if not text or type_code not in SPELLED:
        return text
    if type_code == "c":
        lowered = text.strip().lower()
        return "y" if lowered in _TRUE else "n" if lowered in _FALSE else text
    if type_code in ("f", "j", "CAL"):
        whole = _WHOLE.match(text)
        return str(int(whole.group(1))) if whole else text
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if type_code == "e" and all(part.isdigit() for part in parts):
        parts = sorted(set(parts), key=int)
    return ",".join(parts)


def _as_text(value):
    if isinstance(value, (list, tuple)):
        return ",".join(str(v).strip() for v in value if str(v).strip() != "")
    if value is None or value is False:
        return ""
    if value is True:
        return "y"
    return str(value)


# ASCII digits only, as PHP's is_numeric: \d would take "٣" and other scripts' digits too.
_NUMBER = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$")
_CURRENCY = re.compile(r"^([+-]?[0-9]+(\.[0-9]+)?)\s*([A-Z]{3})?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^(https?|ftp)://[^\s/$.?#][^\s]*$", re.I)


def parse_date(text):
    """Unix seconds from seconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS] (UTC)."""
    text = text.strip()
    if re.fullmatch(r"-?[0-9]{1,12}", text):  # Unix seconds, up to year 33,000
        return int(text)
    for fmt in ("%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M",
                "%Y-%m-%d %H:%M:%S"):
        try:
            moment = datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
        return int(moment.timestamp())
    raise FieldValueError("is not a date: use YYYY-MM-DD, YYYY-MM-DDTHH:MM or Unix seconds")


def format_date(raw, with_time=True):
    if raw in ("", None):
        return ""
    try:
        moment = datetime.fromtimestamp(int(raw), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return str(raw)
    return moment.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


def date_has_time(field):
    return (field.options or {}).get("datetime", "dt") != "d"


def _clean_number(field, text):
    if not _NUMBER.match(text):
        raise FieldValueError("must be a number")
    return text


def _clean_currency(field, text):
    if not _CURRENCY.match(text):
        raise FieldValueError("must be an amount, optionally followed by a currency code "
                              "(12.50EUR)")
    return text.replace(" ", "")


def _clean_email(field, text):
    if not _EMAIL.match(text):
        raise FieldValueError("is not a valid email address")
    return text


def _clean_url(field, text):
    if not _URL.match(text):
        raise FieldValueError("is not a valid URL (it must start with http:// or https://)")
    return text


def _clean_ip(field, text):
    try:
        ipaddress.ip_address(text)
    except ValueError:
        raise FieldValueError("is not a valid IP address") from None
    return text


def _clean_location(field, text):
    parts = text.split(",")
    try:
        lat, lon = float(parts[0]), float(parts[1])
        ok = len(parts) in (2, 3) and -90 <= lat <= 90 and -180 <= lon <= 180
        if len(parts) == 3:
            int(parts[2])
    except (ValueError, IndexError):
        ok = False
    if not ok:
        raise FieldValueError("must be latitude,longitude[,zoom]")
    return text


def _clean_checkbox(field, text):
    lowered = text.lower()
    if lowered in ("y", "yes", "on", "1", "true"):
        text = "y"
    elif lowered in ("n", "no", "off", "0", "false"):
        text = "n"
    else:
        raise FieldValueError("must be y or n")
    if field.mandatory and text == "n":
        raise FieldValueError("must be checked", missing=True)
    return text


def _clean_date(field, text):
    return str(parse_date(text))


_CLEANERS = {
    "number": _clean_number, "currency": _clean_currency, "email": _clean_email,
    "url": _clean_url, "ip": _clean_ip, "location": _clean_location,
    "checkbox": _clean_checkbox, "date": _clean_date,
}


def clean(field, value, choice_source=None):
    """The raw value to store for `field`, or FieldValueError saying what is wrong.

    `choice_source(field)` gives the allowed [(value, label)] for fields whose choices come
    from data (users, linked items); plain dropdowns use their options.
    """
    kind = field_type(field.type).kind
    if kind == "none":
        return ""
    text = _as_text(value).strip() if kind != "textarea" else _as_text(value)
    if len(text) > MAX_VALUE_LENGTH:
        raise FieldValueError(f"is too long ({len(text)} characters, at most {MAX_VALUE_LENGTH})")
    if text.strip() == "":
        if field.mandatory:
            raise FieldValueError("is required", missing=True)
        return ""
    if kind in ("choice", "multichoice"):
        return _clean_choice(field, text, choice_source)
    cleaner = _CLEANERS.get(kind)
    return cleaner(field, text) if cleaner is not None else text


def _clean_choice(field, text, choice_source):
    if field.type == "D":  # dropdown with "other": any value goes
        return text
    values = [v.strip() for v in text.split(",") if v.strip() != ""]
    if len(values) > 1 and not (field_type(field.type).kind == "multichoice" or is_multiple(field)):
        raise FieldValueError("takes a single choice")
    if field.type in ("u", "r"):
        if choice_source is None:  # users and linked items are data: only a source knows them
            return ",".join(values)
        allowed = choice_source(field)
    else:
        allowed = choices(field)
    # The source is asked about the submitted values only, so an empty answer means none of
    # them exists: an unknown user is refused like an unknown linked item.
    known = {v for v, _ in allowed}
    wrong = [v for v in values if v not in known]
    if wrong:
        raise FieldValueError(f"has no choice {wrong[0]!r}")
    # A transformed field (a master's category list kept as a multi-select) is spelled as
    # the master's type is, so what is typed here and what the master answers compare equal.
    return canonical_raw(getattr(field, "remote_type", None) or field.type, ",".join(values))


def clean_item(fields, submitted, partial=False, choice_source=None):
    """Validate a whole item. Returns (values, errors) with errors {perm: FieldValueError}.

    `submitted` maps permName -> value. With `partial`, fields not submitted are left out of
    the result (they keep their stored value); otherwise they are validated as empty.
    """
    values, errors = {}, {}
    for field in fields:
        if partial and field.perm_name not in submitted:
            continue
        try:
            value = submitted.get(field.perm_name, "")
            values[field.perm_name] = clean(field, value, choice_source)
        except FieldValueError as exc:
            errors[field.perm_name] = exc
    return values, errors


def display(field, raw, labels=None):
    """A raw value as a person reads it (dates as dates, choices by label)."""
    kind = field_type(field.type).kind
    if raw in ("", None):
        return ""
    if kind == "date":
        return format_date(raw, date_has_time(field))
    if kind == "checkbox":
        return "yes" if raw == "y" else "no"
    if kind in ("choice", "multichoice"):
        names = dict(labels if labels is not None else choices(field))
        return ", ".join(names.get(v, v) for v in str(raw).split(","))
    return str(raw)

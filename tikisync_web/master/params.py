"""Request parameters read as PHP reads them.

Tiki's clients encode arguments with `http_build_query`: nested arrays become bracket keys
(`fields[title]=x`, `items[]=1`, `groupIds[0]=3`). PHP merges the query string and the form
body into `$_REQUEST` with the body winning. We build the same tree, but refuse what PHP would
silently mangle (unbalanced brackets, a name used both as a value and as a list), so a client
bug shows as a 400 instead of a write of the wrong data.
"""
import json
import re

from ..models import MAX_ID
from .errors import bad_request

MAX_DEPTH = 3  # fields[perm][] is the deepest a Tiki client sends
MAX_PARAMS = 5000
# A bracket index longer than this is no id of ours (ids have at most 10 digits), and Python
# refuses to read one of 4,300 digits as a number at all.
MAX_INDEX_DIGITS = 18
_NAME = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_INDEX = re.compile(r"\[([^\[\]]*)\]")
_INTEGER = re.compile(r"^\s*[+-]?[0-9]{1,30}\s*$")  # ASCII digits only: int() takes others too


class _Node(dict):
    """A PHP array: string keys, `[]` appends at the next free integer key."""

    next_index = 0

    def append_key(self):
        key = str(self.next_index)
        self.next_index += 1
        return key

    def note_key(self, key):
        if is_number(key):
            self.next_index = max(self.next_index, int(key) + 1)


def parse_pairs(pairs):
    """A tree of _Node / str from (name, value) pairs; later pairs win, as in PHP."""
    tree = _Node()
    for count, (name, value) in enumerate(pairs):
        if count >= MAX_PARAMS:
            raise bad_request(f"Too many parameters (at most {MAX_PARAMS})")
        if "\x00" in name or "\x00" in value:
            raise bad_request(f"Parameter {name[:50]!r} contains a NUL character")
        match = _NAME.match(name)
        if not match:
            raise bad_request(f"Malformed parameter name {name[:100]!r}")
        path = [match.group(1)] + _INDEX.findall(match.group(2))
        if len(path) > MAX_DEPTH + 1:
            raise bad_request(f"Parameter {name[:100]!r} is nested too deeply")
        _store(tree, path, value, name)
    return tree


def _store(tree, path, value, name):
    node = tree
    for depth, key in enumerate(path):
        if key == "" and depth > 0:
            key = node.append_key()
        elif key.isascii() and key.isdigit() and not is_number(key):
            raise bad_request(f"Parameter {name[:40]!r}... has an index of {len(key)} digits")
        node.note_key(key)
        if depth == len(path) - 1:
            if isinstance(node.get(key), _Node):
                raise bad_request(
                    f"Parameter {name[:100]!r} is given both as a list and as a value")
            node[key] = value
            return
        child = node.get(key)
        if child is None:
            child = node[key] = _Node()
        elif not isinstance(child, _Node):
            raise bad_request(f"Parameter {name[:100]!r} is given both as a value and as a list")
        node = child


def from_json(document):
    """The same tree from a JSON object body (newer Tiki clients may send one)."""
    if not isinstance(document, dict):
        raise bad_request("A JSON body must be an object")
    pairs = []

    def walk(prefix, value, depth):
        if depth > MAX_DEPTH:
            raise bad_request(f"Parameter {prefix[:100]!r} is nested too deeply")
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}[{_utf8(key)}]", item, depth + 1)
        elif isinstance(value, list):
            for item in value:
                walk(f"{prefix}[]", item, depth + 1)
        elif value is None:
            return  # http_build_query omits nulls
        elif value is True or value is False:
            pairs.append((prefix, "1" if value else "0"))
        else:
            pairs.append((prefix, _utf8(str(value))))

    for key, value in document.items():
        walk(_utf8(str(key)), value, 0)
    return parse_pairs(pairs)


def _utf8(text):
    # JSON may spell lone surrogates ("\ud800") that no database can store.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise bad_request("The JSON body holds text that is not valid Unicode") from None
    return text


def read_request(request, path_values=None, defaults=None):
    """Params of a request: query, then body (body wins), then route placeholders."""
    tree = parse_pairs(request.args.items(multi=True))
    if request.method not in ("GET", "HEAD"):
        if request.is_json:
            try:
                document = json.loads(request.get_data(as_text=True) or "{}")
            except (ValueError, RecursionError):
                raise bad_request("The JSON body cannot be parsed") from None
            body = from_json(document)
        else:
            body = parse_pairs(request.form.items(multi=True))
        tree.update(body)
    for key, value in (defaults or {}).items():
        tree.setdefault(key, value)
    # Unlike Tiki's ApiBridge, the path wins over the body: Tiki 24 posts its *local* itemId
    # in the body of an update (W12), and the path names the item actually meant.
    tree.update(path_values or {})
    return Params(tree)


class Params:
    """Typed access to the parameter tree; every wrong shape is a 400 naming the parameter."""

    def __init__(self, tree):
        self.tree = tree

    def text(self, name, default=""):
        value = self.tree.get(name)
        if value is None:
            return default
        if isinstance(value, dict):
            raise bad_request(f"{name} must be a single value, not a list")
        return value

    def integer(self, name, default=None, required=False):
        text = self.text(name, "").strip()
        if text == "":
            if required:
                raise bad_request(f"{name} is required")
            return default
        return _to_int(name, text)

    def clamped(self, name, default, low, high):
        value = self.integer(name, default)
        return value if value is None else max(low, min(high, value))

    def ids(self, name):
        """A list of ids from `name=1`, `name[]=1&name[]=2` or `name[0]=1`; [] when absent."""
        value = self.tree.get(name)
        if value is None or value == "":
            return []
        values = list(value.values()) if isinstance(value, dict) else [value]
        result = []
        for item in values:
            if isinstance(item, dict):
                raise bad_request(f"{name} must be a list of numbers")
            if item.strip() != "":
                result.append(_to_int(name, item))
        return result

    def mapping(self, name):
        """`name[key]=value` pairs as {key: str or [str]}; {} when absent."""
        value = self.tree.get(name)
        if value is None or value == "":
            return {}
        if not isinstance(value, dict):
            raise bad_request(f"{name} must be sent as {name}[key]=value")
        result = {}
        for key, item in value.items():
            if isinstance(item, dict):
                if any(isinstance(v, dict) for v in item.values()):
                    raise bad_request(f"{name}[{key}] is nested too deeply")
                result[key] = list(item.values())
            else:
                result[key] = item
        return result

    def letters(self, name):
        """A string of letters from `name=opc` or `name[]=o&name[]=p`."""
        value = self.tree.get(name)
        if value is None:
            return ""
        if isinstance(value, dict):
            if any(isinstance(v, dict) for v in value.values()):
                raise bad_request(f"{name} must be letters")
            return "".join(value.values())
        return value


def _to_int(name, text):
    if not _INTEGER.match(text):
        raise bad_request(f"{name} must be a whole number, not {text[:30]!r}")
    return int(text)


def is_number(text):
    """True for a plain non-negative integer in ASCII digits ("²".isdigit() is True too) of a
    size an id or an index can have (int() refuses 4,300 digits)."""
    return text.isascii() and text.isdigit() and len(text) <= MAX_INDEX_DIGITS


def valid_id(value):
    """True when `value` can be a row id (anything else cannot exist: answer 404)."""
    return value is not None and 1 <= value <= MAX_ID

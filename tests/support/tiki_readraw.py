"""Tiki's `TikiLib::read_raw`, re-implemented from tiki-protocol.md §6 for the tests.

Deliberately independent of tikisync_web.remote.exportfmt (it must not import it): this is
what a real Tiki does with our field export, warts included. It knows nothing of our escaping,
so an escaped newline stays the two characters backslash and n, as Tiki shows it.

1. split on "\\n"; skip lines whose first character is "#";
2. "[" + uppercase letters/digits + "]" at the start of a line opens a section, keyed by the
   lower-cased name;
3. in a section, key (letters, digits, space, "-", "_", "/") + at least one space or tab +
   "=" or ":" + at least one space or tab + value stores trim(key) -> trim(value);
4. every other line is ignored.
"""
import re

SECTION = re.compile(r"^\[([A-Z0-9]+)\]")
PAIR = re.compile(r"^([A-Za-z0-9 /_-]+)[ \t]+[=:][ \t]+(.*)$")
PHP_TRIM = " \t\n\r\0\x0b"


def read_raw(text):
    """Ordered {section: {key: value}}."""
    sections = {}
    current = None
    for line in text.split("\n"):
        if line.startswith("#"):
            continue
        opened = SECTION.match(line)
        if opened:
            current = sections.setdefault(opened.group(1).lower(), {})
            continue
        pair = PAIR.match(line)
        if pair and current is not None:
            current[pair.group(1).strip(PHP_TRIM)] = pair.group(2).strip(PHP_TRIM)
    return sections

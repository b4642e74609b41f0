"""Durations as people write them in schedules: `15m`, `2h`, `1h30m`, `1d`; `off` for none."""
import re

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MINIMUM = 60  # a schedule runs at most once a minute
MAXIMUM = 30 * 86400
_PART = re.compile(r"(\d+)\s*([smhd])")
_WHOLE = re.compile(r"(?:\d+\s*[smhd]\s*)+")
OFF = ("off", "never", "none")


class DurationError(ValueError):
    """A duration that cannot be used; the message says how to write one."""


def parse(text, *, allow_off=True):
    """Seconds for `15m`, `2h`, `1h30m`, `1d` (case and spaces ignored); None for `off` (or an
    empty text) when `allow_off`. Raises DurationError with a message for people."""
    raw = (text or "").strip().lower()
    if allow_off and raw in ("", *OFF):
        return None
    if not _WHOLE.fullmatch(raw):
        raise DurationError(f"{text!r} is not a duration: write it like 15m, 2h or 1h30m"
                            + (" (or off)" if allow_off else ""))
    seconds = sum(int(n) * UNITS[unit] for n, unit in _PART.findall(raw))
    if seconds < MINIMUM:
        raise DurationError(f"{text!r} is too short: a schedule runs at most once a minute "
                            "(1m)")
    if seconds > MAXIMUM:
        raise DurationError(f"{text!r} is too long: at most 30 days (30d)")
    return seconds


def short(seconds):
    """`1h30m` for 5400, `15m` for 900 (what parse reads); "" for None."""
    if not seconds:
        return ""
    parts = []
    for unit in ("d", "h", "m", "s"):
        count, seconds = divmod(seconds, UNITS[unit])
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def words(seconds):
    """`every 15 minutes`-style words: "15 minutes", "2 hours", "1 hour 30 minutes"."""
    if not seconds:
        return ""
    names = {"d": "day", "h": "hour", "m": "minute", "s": "second"}
    parts = []
    for unit in ("d", "h", "m", "s"):
        count, seconds = divmod(seconds, UNITS[unit])
        if count:
            parts.append(f"{count} {names[unit]}{'s' if count > 1 else ''}")
    return " ".join(parts)

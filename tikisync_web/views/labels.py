"""Words for stored codes: an item's status, a job's kind, a time as "3 hours ago".

Template filters built from the Python constants, so no template keeps a copy of a map.

Flask has one Jinja environment per app and no per-blueprint filters: `app_template_filter`
on our blueprint adds them to the host's environment when the blueprint is registered. The
`tikisync_` prefix keeps them out of the host's way (STYLE rule 7), as it does for our
template globals. Filters rather than globals from the blueprint's context processor: they
are the Jinja idiom for "this value, shown as words", and they work in any template that
renders one of our partials.
"""
import time

from ..models import STATUSES
from ..sync.status import STATES
from .blueprint import bp

# The job kinds of jobs/handlers.py, as the header of their progress widget; the first three
# are the labels of the buttons that start them. "clone" is for jobs of older versions.
JOB_KINDS = {
    "reload": "Reload from source",
    "check": "Check the master for changes",
    "meta": "Reload field definitions",
    "push": "Push to the master",
    "preview": "Read the master for a push preview",
    "clone": "Clone",
    "auto-reload": "Scheduled reload",  # jobs/scheduled.py
    "auto-check": "Scheduled check",
}

# An item's sync state (sync/status.py STATES), as the item list's column and filter say it.
SYNC_STATES = dict(zip(STATES, ("new here", "modified here", "in conflict",
                                "deleted on the master", "in sync"), strict=True))


@bp.app_template_filter("tikisync_sync_state")
def sync_state_label(state):
    """An item's sync state as words: "conflict" -> "in conflict"."""
    return SYNC_STATES.get(state, state)


@bp.app_template_filter("tikisync_status")
def status_label(code):
    """An item status code as its word: "o" -> "open"."""
    return STATUSES.get(code, code)


@bp.app_template_filter("tikisync_job_kind")
def job_kind_label(kind):
    """A job kind as the name of what it does: "meta" -> "Reload field definitions"."""
    return JOB_KINDS.get(kind) or str(kind).capitalize()


@bp.app_template_filter("tikisync_ago")
def ago(stamp, now=None):
    """A Unix time in words: "3 hours ago", "just now", or "never" when there is none."""
    if not stamp:
        return "never"
    seconds = max(0, int(time.time() if now is None else now) - int(stamp))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n > 1 else ''} ago"
    return "just now"


@bp.app_template_filter("tikisync_duration")
def duration(finished, started):
    """How long a job took, from its start and end times: "4 s", "2 min 5 s", "1 h 3 min";
    "—" when it has not both started and ended."""
    if not finished or not started:
        return "—"
    seconds = max(0, round(finished - started))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


@bp.app_template_filter("tikisync_words")
def words(value):
    """A job result's value as a line of words, never as JSON: `[]` -> "none",
    `{"added": [{"perm": "due", "name": "Due", "type": "j"}], "removed": []}` ->
    "added: Due (due, type j)"."""
    if value is None or value == "" or value == [] or value == {}:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "; ".join(words(v) for v in value)
    if isinstance(value, dict):
        if "name" in value and "perm" in value:
            rest = ", ".join(f"{k.replace('_', ' ')} {words(v)}" for k, v in value.items()
                             if k not in ("name", "perm"))
            return f"{value['name']} ({value['perm']}{', ' + rest if rest else ''})"
        parts = [f"{k.replace('_', ' ')}: {words(v)}" for k, v in value.items()
                 if v not in (None, "", [], {})]
        return ", ".join(parts) if parts else "none"
    return str(value)

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
from .blueprint import bp

# The job kinds of jobs/handlers.py, as the header of their progress widget; the first three
# are the labels of the buttons that start them. "clone" is for jobs of older versions.
JOB_KINDS = {
    "reload": "Reload from source",
    "check": "Check the master for changes",
    "meta": "Reload field definitions",
    "push": "Push to the master",
    "clone": "Clone",
    "auto-reload": "Scheduled reload",  # jobs/scheduled.py
    "auto-check": "Scheduled check",
}


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

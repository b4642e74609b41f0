"""The audit trail: who did what to which tracker, in one table."""
from .models import AuditEvent


def record(action, username="", tracker=None, item_id=None, **summary):
    return AuditEvent.create(
        action=action, username=username or "", tracker=tracker, item_id=item_id, summary=summary,
    )

"""Telling people about unattended runs: one notice per event, as one email to the admins (with
an address) and/or one JSON POST to a webhook (the tracker's, else TIKISYNC_WEBHOOK_URL).

A notice that cannot be delivered never fails the run: the reasons are returned (and shown on
the tracker's sync tab) and logged.
"""
import logging

from ..models import User
from . import mail, webhook
from .messages import Notice

__all__ = ["Notice", "deliver", "recipients"]
log = logging.getLogger(__name__)


def recipients():
    """The addresses of the active admins that have one."""
    rows = User.select(User.email).where(User.role == "admin", User.active == True,  # noqa: E712
                                          User.email != "").order_by(User.username)
    return [row.email for row in rows]


def deliver(notice, context, webhook_url=""):
    """Send `notice` by every channel configured; returns the list of delivery problems."""
    context = context or {}
    problems = []
    smtp = mail.smtp_settings(context)
    to = recipients()
    if smtp is not None and to:
        try:
            mail.send(notice, to, smtp)
        except mail.MailError as exc:
            problems.append(f"email: {exc}")
        except Exception as exc:  # noqa: BLE001 - a notice never fails the run it tells about
            log.exception("notice %r not built or sent", notice.event)
            problems.append(f"email: {type(exc).__name__}: {exc}")
    url = (webhook_url or context.get("TIKISYNC_WEBHOOK_URL") or "").strip()
    if url:
        try:
            webhook.post(notice, url, timeout=float(context.get("TIKISYNC_SMTP_TIMEOUT") or 10),
                         ca_bundle=context.get("TIKISYNC_CA_BUNDLE"))
        except webhook.WebhookError as exc:
            problems.append(f"webhook: {exc}")
        except Exception as exc:  # noqa: BLE001 - as above
            log.exception("notice %r not posted", notice.event)
            problems.append(f"webhook: {type(exc).__name__}: {exc}")
    for problem in problems:
        log.warning("notice %r about tracker %s not delivered: %s", notice.event,
                    notice.tracker_id, problem)
    return problems

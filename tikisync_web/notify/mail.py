"""Email through the SMTP server of the configuration (TIKISYNC_SMTP_*): one message per notice,
addressed to every recipient at once."""
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

LOOPBACK = ("127.0.0.1", "::1", "localhost")


class MailError(RuntimeError):
    """The message was not handed to the SMTP server; the text says why."""


def truthy(value):
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false", "no", "off")
    return bool(value)


def smtp_settings(config):
    """The SMTP settings from a config mapping; None when TIKISYNC_SMTP_HOST is not set."""
    host = (config.get("TIKISYNC_SMTP_HOST") or "").strip()
    if not host:
        return None
    use_ssl = truthy(config.get("TIKISYNC_SMTP_SSL"))
    return {
        "host": host,
        "port": int(config.get("TIKISYNC_SMTP_PORT") or (465 if use_ssl else 25)),
        "user": config.get("TIKISYNC_SMTP_USER") or "",
        "password": config.get("TIKISYNC_SMTP_PASSWORD") or "",
        "sender": config.get("TIKISYNC_SMTP_FROM") or f"tikisync@{socket.getfqdn()}",
        "starttls": truthy(config.get("TIKISYNC_SMTP_STARTTLS")),
        "ssl": use_ssl,
        "timeout": float(config.get("TIKISYNC_SMTP_TIMEOUT") or 10),
        "ca_bundle": config.get("TIKISYNC_CA_BUNDLE") or None,
    }


def build(notice, sender, recipients):
    message = EmailMessage()
    message["Subject"] = notice.subject
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(notice.at or None, usegmt=True)
    message["Message-ID"] = make_msgid(domain="tikisync")
    message["X-Tikisync-Event"] = notice.event
    message["X-Tikisync-Tracker"] = str(notice.tracker_id)
    message.set_content(notice.text)
    return message


def send(notice, recipients, settings):
    """Hand one message for `recipients` to the SMTP server; raises MailError."""
    tls = ssl.create_default_context(cafile=settings["ca_bundle"])
    encrypted = settings["ssl"] or settings["starttls"]
    if settings["user"] and not encrypted and settings["host"] not in LOOPBACK:
        raise MailError("TIKISYNC_SMTP_USER is set but neither TIKISYNC_SMTP_STARTTLS nor "
                        "TIKISYNC_SMTP_SSL: the password would cross the network in clear")
    message = build(notice, settings["sender"], recipients)
    try:
        if settings["ssl"]:
            server = smtplib.SMTP_SSL(settings["host"], settings["port"],
                                      timeout=settings["timeout"], context=tls)
        else:
            server = smtplib.SMTP(settings["host"], settings["port"],
                                  timeout=settings["timeout"])
        with server:
            if settings["starttls"]:
                server.starttls(context=tls)
            if settings["user"]:
                server.login(settings["user"], settings["password"])
            refused = server.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(f"the SMTP server {settings['host']}:{settings['port']} did not take "
                        f"the message ({_reason(exc, settings)})") from None
    if refused:
        raise MailError(f"the SMTP server refused {', '.join(sorted(refused))}")


def _reason(exc, settings):
    text = str(exc) or type(exc).__name__
    if settings["password"]:
        text = text.replace(settings["password"], "***")
    return text[:300]

"""Every TIKISYNC_* setting in one visible block: its default and its type. A host's values win
(init_app only fills gaps); the standalone app also reads each one from the environment, typed.
The README's configuration table lists the same keys, and tests/test_config.py walks it."""
import re
from collections.abc import Mapping

TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off", "")
KEYWORDS = {"self": "'self'", "'self'": "'self'", "none": "'none'", "'none'": "'none'"}
# A CSP source: a scheme, a host with an optional * label and port, or a full origin.
SOURCE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:(?://)?)?(?:\*\.)?[a-z0-9.-]*(?::(?:\d+|\*))?/?$",
                    re.IGNORECASE)
RUNNERS = ("thread", "inline", "worker")
SCHEDULERS = ("auto", "thread", "off")


class SettingError(RuntimeError):
    """A setting's value cannot be used; the message names the key and what it takes."""


def text(value):
    return None if value is None else str(value)


def whole(value):
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValueError("a whole number") from None
    if number < 1:
        raise ValueError("a whole number of at least 1")
    return number


def seconds(value):
    try:
        number = float(str(value).strip())
    except ValueError:
        raise ValueError("a number of seconds") from None
    if not number > 0:
        raise ValueError("a number of seconds above 0")
    return int(number) if number.is_integer() else number


def pause(value):
    """Seconds that may be 0 (no pause at all)."""
    try:
        number = float(str(value).strip())
    except ValueError:
        raise ValueError("a number of seconds") from None
    if number < 0:
        raise ValueError("a number of seconds, 0 or more")
    return int(number) if number.is_integer() else number


def boolean(value):
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE or word in FALSE:
        return word in TRUE
    raise ValueError("true or false (also 1/0, yes/no, on/off)")


def runner(value):
    if str(value) not in RUNNERS:
        raise ValueError(" or ".join(RUNNERS))
    return str(value)


def origins(value):
    """A list of CSP frame-ancestors sources, from a list or a string split on spaces or
    commas; `self` and `none` may be written without their quotes."""
    items = value if isinstance(value, list | tuple) else re.split(r"[\s,]+", str(value))
    found = []
    for item in (str(i).strip() for i in items):
        if not item:
            continue
        item = KEYWORDS.get(item.lower(), item)
        if item not in KEYWORDS.values() and not SOURCE.match(item):
            raise ValueError(f"origins such as https://portal.example.org or 'self' "
                             f"({item!r} is not one)")
        found.append(item)
    if not found:
        raise ValueError("at least one origin, or 'self'")
    if "'none'" in found and len(found) > 1:
        raise ValueError("'none' alone, or a list of origins")
    return found


def scheduler_mode(value):
    word = str(value).strip().lower()
    if word not in SCHEDULERS:
        raise ValueError(" or ".join(SCHEDULERS))
    return word


# key: (default, type). The database default depends on the instance folder (init_app).
SETTINGS = {
    "TIKISYNC_DATABASE": (None, text),  # a peewee db_url
    "TIKISYNC_SECRET_KEY": (None, text),  # encrypts stored secrets; None: SECRET_KEY
    "TIKISYNC_AUTO_UPGRADE": (True, boolean),  # create/upgrade the schema at start-up
    "TIKISYNC_BASE_TEMPLATE": ("tikisync/layout.html", text),  # our pages extend this
    "TIKISYNC_LOAD_ASSETS": (True, boolean),  # False when the host already loads htmx 2
    "TIKISYNC_PAGE_SIZE": (50, whole),  # items per list page
    "TIKISYNC_HTTP_TIMEOUT": (30, seconds),  # every request to a master
    "TIKISYNC_HTTP_BACKOFF": (0.5, pause),  # before a read's first retry (then doubled)
    "TIKISYNC_DB_BUSY_TIMEOUT": (10, seconds),  # a write waits this long for a reload's lock
    "TIKISYNC_CA_BUNDLE": (None, text),  # a CA file for masters with a private CA
    "TIKISYNC_POLL_SECONDS": (1, seconds),  # progress widgets poll this often
    "TIKISYNC_JOB_RUNNER": ("thread", runner),  # thread | inline | worker
    "TIKISYNC_JOB_STALE_SECONDS": (60, whole),  # no heartbeat this long: interrupted
    "TIKISYNC_FRAME_ANCESTORS": (["'self'"], origins),  # CSP frame-ancestors allow-list
    "TIKISYNC_BEHIND_PROXY": (False, boolean),  # standalone: trust one proxy's X-Forwarded-*
    # Schedules (jobs/scheduler.py): who runs them, how often it looks, retries, notices.
    "TIKISYNC_SCHEDULER": ("auto", scheduler_mode),  # auto | thread | off
    "TIKISYNC_SCHEDULER_TICK": (15, seconds),  # between two looks for due runs
    "TIKISYNC_SCHEDULE_RETRY": (60, whole),  # seconds before retrying a failed run (doubled)
    "TIKISYNC_SCHEDULE_RETRY_MAX": (3600, whole),  # the longest wait between two tries
    "TIKISYNC_SCHEDULE_PAUSE_AFTER": (5, whole),  # failed runs in a row: the schedule pauses
    "TIKISYNC_PUBLIC_URL": (None, text),  # the site's root URL, for links in notices
    "TIKISYNC_SMTP_HOST": (None, text),  # the notices' mail server; none: no email
    "TIKISYNC_SMTP_PORT": (None, whole),  # None: 25, or 465 with TIKISYNC_SMTP_SSL
    "TIKISYNC_SMTP_USER": (None, text),
    "TIKISYNC_SMTP_PASSWORD": (None, text),
    "TIKISYNC_SMTP_FROM": (None, text),  # None: tikisync@<this host>
    "TIKISYNC_SMTP_STARTTLS": (False, boolean),
    "TIKISYNC_SMTP_SSL": (False, boolean),
    "TIKISYNC_SMTP_TIMEOUT": (10, seconds),  # every exchange with the mail server and webhook
    "TIKISYNC_WEBHOOK_URL": (None, text),  # notices also as JSON POSTs (an allowed origin)
}
# Read from the environment only, by the standalone app: where its instance folder is.
ENVIRONMENT_ONLY = ("TIKISYNC_INSTANCE",)


def typed(key, value):
    """`value` for `key` in its type; a SettingError says what the key takes."""
    _default, kind = SETTINGS[key]
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError as exc:
        raise SettingError(f"{key}={value!r} cannot be used: it takes {exc}") from None


def fill_defaults(config):
    """Give every setting the host left out its default, and every value its type."""
    for key, (default, _kind) in SETTINGS.items():
        config.setdefault(key, list(default) if isinstance(default, list) else default)
        config[key] = typed(key, config[key])


def from_environ(environ: Mapping[str, str]):
    """The settings the environment gives (an empty value counts as unset), typed."""
    return {key: typed(key, environ[key]) for key in SETTINGS if environ.get(key, "") != ""}

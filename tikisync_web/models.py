"""Tables (DESIGN §3). Times are Unix seconds (Tiki's own unit); item values are Tiki raw values."""
import secrets
import time

import peewee as pw

from .db import BaseModel

ROLES = ("viewer", "editor", "admin")
MAX_ID = 2**31 - 1  # ids are 32-bit integers in every database we run on
STATUSES = {"o": "open", "p": "pending", "c": "closed"}


def now():
    return int(time.time())


def epoch_start():
    """A random start for Tracker.items_epoch: a tracker made again under a reused id never
    meets the positions remembered for the one before it."""
    return secrets.randbelow(2**53)


class User(BaseModel):
    username = pw.CharField(max_length=100, unique=True)
    password_hash = pw.CharField(max_length=255)
    role = pw.CharField(max_length=10, default="viewer")
    active = pw.BooleanField(default=True)
    created = pw.BigIntegerField(default=now)
    last_login = pw.BigIntegerField(null=True)
    # Part of every session cookie of this user; signing out or a new password moves it on,
    # so a copied cookie stops working (views/common.py).
    session_generation = pw.IntegerField(default=0)
    email = pw.CharField(max_length=254, default="")  # admins get the schedules' notices here

    def can(self, role):
        """True when this user's role is `role` or above (viewer < editor < admin)."""
        return self.active and ROLES.index(self.role) >= ROLES.index(role)


class ApiToken(BaseModel):
    user = pw.ForeignKeyField(User, backref="tokens", on_delete="CASCADE")
    token_hash = pw.CharField(max_length=64, unique=True)
    label = pw.CharField(max_length=100, default="")
    created = pw.BigIntegerField(default=now)
    last_used = pw.BigIntegerField(null=True)


class Credential(BaseModel):
    """Tiki's "Content Authentication": which secret goes to which remote URL."""

    identifier = pw.CharField(max_length=50, unique=True)
    url = pw.CharField(max_length=1000)
    method = pw.CharField(max_length=10, default="basic")  # basic | bearer | header | session
    username = pw.CharField(max_length=200, default="")
    secret = pw.TextField(default="")  # Fernet token; never the clear secret
    login_url = pw.CharField(max_length=1000, default="")
    allow_http = pw.BooleanField(default=False)
    generation = pw.CharField(max_length=4, default="auto")  # auto | A | B
    created = pw.BigIntegerField(default=now)
    updated = pw.BigIntegerField(default=now)


class AllowedOrigin(BaseModel):
    """Outbound policy: remote origins an admin allowed besides the credentials' own."""

    origin = pw.CharField(max_length=300, unique=True)
    created = pw.BigIntegerField(default=now)


class Tracker(BaseModel):
    name = pw.CharField(max_length=200)
    description = pw.TextField(default="")
    created = pw.BigIntegerField(default=now)
    modified = pw.BigIntegerField(default=now)
    # Source of a clone; all null for a tracker created here.
    source_url = pw.CharField(max_length=1000, null=True)
    remote_tracker_id = pw.IntegerField(null=True)
    protocol = pw.CharField(max_length=4, null=True)  # A | B
    credential = pw.ForeignKeyField(Credential, null=True, on_delete="SET NULL")
    remote_schema = pw.TextField(null=True)  # the field export as last adopted
    last_reload_at = pw.BigIntegerField(null=True)  # our clock
    remote_clock_at_reload = pw.BigIntegerField(null=True)  # the master's clock (HTTP Date)
    remote_clock_at_check = pw.BigIntegerField(null=True)  # master's clock at the last change check
    checked_at = pw.BigIntegerField(null=True)  # our clock at that check (its clock's drift)
    # Moved on by database triggers (dbobjects.py) whenever an item of this tracker is deleted
    # or changes status: the positions our master remembers are valid for one epoch only.
    items_epoch = pw.BigIntegerField(default=epoch_start)
    # SQLite: this tracker's items from this id up are not in the full-text index yet (a
    # reload wrote them without it; sync/search_index.py fills it after the commit).
    search_pending_from = pw.BigIntegerField(null=True)

    @property
    def is_clone(self):
        return self.source_url is not None

    def ordered_fields(self):
        return list(self.fields.order_by(Field.position, Field.id))


class Field(BaseModel):
    tracker = pw.ForeignKeyField(Tracker, backref="fields", on_delete="CASCADE")
    perm_name = pw.CharField(max_length=100)
    name = pw.CharField(max_length=200)
    type = pw.CharField(max_length=10)
    options = pw.JSONField(default=dict)
    position = pw.IntegerField(default=0)
    mandatory = pw.BooleanField(default=False)
    description = pw.TextField(default="")
    # isMain, isTblVisible, isSearchable, isPublic, isHidden, ...
    flags = pw.JSONField(default=dict)
    remote_type = pw.CharField(max_length=10, null=True)  # set when clone transformed the type
    remote_field_id = pw.IntegerField(null=True)

    class Meta:
        indexes = ((("tracker", "perm_name"), True),)

    def flag(self, name, default="n"):
        return (self.flags or {}).get(name, default) == "y"


class Item(BaseModel):
    tracker = pw.ForeignKeyField(Tracker, backref="items", on_delete="CASCADE")
    status = pw.CharField(max_length=1, default="o")
    values = pw.JSONField(default=dict)  # permName -> raw value (Tiki encoding)
    # Lower-cased values, for the list's search box; NULL (PostgreSQL only): written by a
    # reload and not made yet, so not in the search index (sync/search_index.py).
    search_text = pw.TextField(default="", null=True)
    remote_id = pw.IntegerField(null=True)  # null: created here, never pushed
    hash = pw.CharField(max_length=40, default="")  # values.content_hash of values + status
    # For items synchronized with a master: the content hash of the base (the master's values
    # as last agreed). hash != base_hash means "changed here". The base values themselves are
    # kept in a Baseline row only when they differ from the item's (see Baseline).
    base_hash = pw.CharField(max_length=40, null=True)
    remote_modified = pw.BigIntegerField(null=True)  # the master's lastModif, when it sends one
    created = pw.BigIntegerField(default=now)
    modified = pw.BigIntegerField(default=now)
    created_by = pw.CharField(max_length=100, default="")
    modified_by = pw.CharField(max_length=100, default="")

    class Meta:
        indexes = (
            (("tracker", "remote_id"), True),
            (("tracker", "status"), False),
            (("tracker", "modified"), False),
        )


class Baseline(BaseModel):
    """The base of an item in three-way comparisons, when it is not the item itself.

    A synchronized item that nobody changed here is its own base: no row (a reload of 100,000
    items writes 100,000 rows, not 200,000). A row is written before the item first moves
    away from its base (an edit here, a conflict, a deletion on the master) and from then on
    it is authoritative; Item.base_hash always holds the base's hash.
    """

    item = pw.ForeignKeyField(Item, backref="baselines", unique=True, on_delete="CASCADE")
    values = pw.JSONField(default=dict)
    status = pw.CharField(max_length=1, default="o")
    hash = pw.CharField(max_length=40, default="")  # same function as Item.hash
    fetched_at = pw.BigIntegerField(default=now)
    remote_modified = pw.BigIntegerField(null=True)  # the master's lastModif, when it sends one
    deleted_on_master = pw.BooleanField(default=False)
    # The master's values when they moved away from base on a field we changed too (a
    # conflict, kept until resolved); null when the master holds base.
    theirs = pw.JSONField(null=True)
    theirs_status = pw.CharField(max_length=1, null=True)


class PushIntent(BaseModel):
    """Write-ahead record of a remote insert or update, so a retry never writes twice."""

    item = pw.ForeignKeyField(Item, backref="intents", on_delete="CASCADE")
    kind = pw.CharField(max_length=10)  # new | edit
    payload_hash = pw.CharField(max_length=64)
    payload = pw.JSONField(default=dict)
    started = pw.BigIntegerField(default=now)
    remote_clock = pw.BigIntegerField(null=True)  # the master's clock just before the write
    finished = pw.BigIntegerField(null=True)
    remote_id = pw.IntegerField(null=True)
    outcome = pw.CharField(max_length=20, default="pending")  # pending | done | failed | adopted


class ItemHistory(BaseModel):
    """Every value overwritten on either side, restorable."""

    item = pw.ForeignKeyField(Item, backref="history", on_delete="CASCADE")
    at = pw.BigIntegerField(default=now)
    username = pw.CharField(max_length=100, default="")
    side = pw.CharField(max_length=10)  # local | master
    action = pw.CharField(max_length=30)
    perm_name = pw.CharField(max_length=100)
    old_value = pw.TextField(null=True)
    new_value = pw.TextField(null=True)


class Job(BaseModel):
    kind = pw.CharField(max_length=20)  # clone | reload | push | meta
    tracker = pw.ForeignKeyField(Tracker, null=True, backref="jobs", on_delete="CASCADE")
    state = pw.CharField(max_length=12, default="queued")  # queued running done failed interrupted
    total = pw.IntegerField(default=0)
    done = pw.IntegerField(default=0)
    message = pw.CharField(max_length=500, default="")
    error = pw.TextField(default="")
    params = pw.JSONField(default=dict)
    result = pw.JSONField(null=True)
    username = pw.CharField(max_length=100, default="")
    worker = pw.CharField(max_length=200, default="")
    # who may run it: thread | inline | worker
    runner = pw.CharField(max_length=10, default="thread")
    # "tracker:<id>" while queued or running, NULL afterwards: a UNIQUE index makes
    # "one active job per tracker" hold across processes without check-then-insert races.
    lock_key = pw.CharField(max_length=50, null=True, unique=True)
    created = pw.DoubleField(default=time.time)
    started = pw.DoubleField(null=True)
    finished = pw.DoubleField(null=True)
    heartbeat = pw.DoubleField(null=True)

    class Meta:
        indexes = ((("state", "created"), False), (("tracker", "state"), False))

    @property
    def active(self):
        return self.state in ("queued", "running")

    @property
    def percent(self):
        if not self.total:
            return 100 if self.state == "done" else 0
        return max(0, min(100, round(100 * self.done / self.total)))


class AuditEvent(BaseModel):
    at = pw.BigIntegerField(default=now)
    username = pw.CharField(max_length=100, default="")
    tracker = pw.ForeignKeyField(Tracker, null=True, on_delete="SET NULL")
    item_id = pw.IntegerField(null=True)
    action = pw.CharField(max_length=50)
    summary = pw.JSONField(default=dict)


class SignInThrottle(BaseModel):
    """Failed sign-ins of one account or one address (throttle.py); shared by every process."""

    scope = pw.CharField(max_length=10)  # account | address
    subject = pw.CharField(max_length=150)  # the username (case-folded) or the address
    failures = pw.IntegerField(default=0)  # in the current window
    window_start = pw.DoubleField()
    strikes = pw.IntegerField(default=0)  # blocks in a row: each one waits twice as long
    blocked_until = pw.DoubleField(default=0)
    last_failure = pw.DoubleField(index=True)

    class Meta:
        indexes = ((("scope", "subject"), True),)


class Schedule(BaseModel):
    """Unattended synchronization of one cloned tracker: what runs how often, and how it went.

    `next_reload` / `next_check` are claimed with a conditional UPDATE (only the process that
    moves the time on enqueues the run); `job` is the run in flight, cleared when its outcome
    is recorded.
    """

    tracker = pw.ForeignKeyField(Tracker, unique=True, backref="schedules", on_delete="CASCADE")
    reload_every = pw.IntegerField(null=True)  # seconds; null: no scheduled reload
    check_every = pw.IntegerField(null=True)  # seconds; null: no scheduled check
    auto_push = pw.CharField(max_length=4, default="off")  # off | safe
    webhook_url = pw.CharField(max_length=1000, default="")  # empty: TIKISYNC_WEBHOOK_URL
    paused = pw.BooleanField(default=False)
    paused_reason = pw.TextField(default="")
    next_reload = pw.BigIntegerField(null=True)  # Unix seconds, our clock
    next_check = pw.BigIntegerField(null=True)
    failures = pw.IntegerField(default=0)  # failed runs in a row
    job = pw.ForeignKeyField(Job, null=True, on_delete="SET NULL")  # the run in flight
    last_run = pw.BigIntegerField(null=True)  # when the last run ended
    last_kind = pw.CharField(max_length=10, default="")  # reload | check
    last_outcome = pw.CharField(max_length=12, default="")  # ok | failed | interrupted
    last_message = pw.TextField(default="")
    last_job = pw.IntegerField(null=True)
    # Local ids already told about, so one conflict or failed item is announced once.
    told_conflicts = pw.JSONField(default=list)
    told_failed = pw.JSONField(default=list)
    notice_error = pw.TextField(default="")  # why the last notice could not be delivered
    created = pw.BigIntegerField(default=now)
    updated = pw.BigIntegerField(default=now)

    @property
    def next_run(self):
        times = [t for t in (self.next_reload, self.next_check) if t is not None]
        return min(times) if times else None

    @property
    def next_kind(self):
        if self.next_reload is not None and (self.next_check is None or
                                             self.next_reload <= self.next_check):
            return "reload"
        return "check" if self.next_check is not None else None


class Setting(BaseModel):
    key = pw.CharField(max_length=100, primary_key=True)
    value = pw.TextField(default="")


ALL_MODELS = [
    User, ApiToken, Credential, AllowedOrigin, Tracker, Field, Item, Baseline, PushIntent,
    ItemHistory, Job, AuditEvent, Setting, SignInThrottle, Schedule,
]

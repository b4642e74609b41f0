"""Schema, users, tokens, local trackers, fields and items."""
import json
import secrets

import click
import peewee as pw

from .. import accounts, migrations
from ..db import database
from ..fields import LOCAL_TYPES, PERM_NAME, field_type
from ..items import create_item, update_item
from ..models import ROLES, STATUSES, Field, Item, Tracker, User
from ..values import STATUS_KEY
from . import emit, fail, tikisync


@tikisync.command("init")
def init():
    """Create or upgrade the database schema (safe to run again)."""
    applied = migrations.upgrade()
    click.echo("schema: " + (", ".join(applied) if applied else "up to date") +
               f" (version {migrations.LATEST})")


@tikisync.group("user")
def user():
    """Accounts: admin, editor, viewer."""


@user.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--password", required=True, help="At least 8 characters.")
@click.option("--email", default="", help="Where an admin gets the schedules' notices.")
def user_add(username, role, password, email):
    """Create an account."""
    try:
        accounts.create_user(username, role, password, email=email)
    except accounts.AuthError as exc:
        fail(str(exc))
    click.echo(f"user {username} added as {role}")


@user.command("ensure-admin")
def user_ensure_admin():
    """Create `admin` with a random password if no admin exists (prints it once)."""
    if User.select().where(User.role == "admin", User.active == True).exists():  # noqa: E712
        return
    password = secrets.token_urlsafe(12)
    name = "admin"
    existing = User.get_or_none(User.username == name)
    if existing is not None:
        User.update(role="admin", active=True).where(User.id == existing.id).execute()
        accounts.set_password(existing.id, password)
    else:
        accounts.create_user(name, "admin", password)
    click.echo("=" * 60)
    click.echo(f"  First run: sign in as {name} with password  {password}")
    click.echo("  (shown once; change it under Users)")
    click.echo("=" * 60)


@tikisync.group("token")
def token():
    """API tokens for Tiki 24+ clients."""


@token.command("add")
@click.argument("username")
@click.option("--label", default="", help="What the token is for.")
def token_add(username, label):
    """Create an API token for USERNAME and print it once."""
    owner = User.get_or_none(User.username == username)
    if owner is None:
        fail(f"no user {username!r}; create it with `tikisync user add`")
    click.echo(accounts.create_token(owner, label))


@tikisync.group("tracker")
def tracker():
    """Local trackers."""


@tracker.command("create")
@click.argument("name")
@click.option("--description", default="")
@click.option("--json", "as_json", is_flag=True)
def tracker_create(name, description, as_json):
    """Create a local tracker."""
    if not name.strip():
        fail("a tracker needs a name")
    _max_length("NAME", name.strip(), 200)  # the limits of the tracker form
    _max_length("--description", description, 5000)
    row = Tracker.create(name=name.strip(), description=description)
    emit({"id": row.id}) if as_json else click.echo(f"tracker {row.id} created")


@tracker.command("list")
@click.option("--json", "as_json", is_flag=True)
def tracker_list(as_json):
    """List trackers with their item counts."""
    counts = dict(Item.select(Item.tracker, pw.fn.COUNT(Item.id)).group_by(Item.tracker).tuples())
    rows = [{"id": t.id, "name": t.name, "items": counts.get(t.id, 0),
             "source": ({"url": t.source_url, "tracker": t.remote_tracker_id}
                        if t.source_url else None)}
            for t in Tracker.select().order_by(Tracker.id)]
    if as_json:
        emit(rows)
    else:
        for r in rows:
            source = f"  <- {r['source']['url']} #{r['source']['tracker']}" if r["source"] else ""
            click.echo(f"{r['id']:>5}  {r['name']}  ({r['items']} items){source}")


def _max_length(what, value, limit):
    if len(value) > limit:
        fail(f"{what} cannot be longer than {limit} characters")


def _tracker(tracker_id):
    row = Tracker.get_or_none(Tracker.id == tracker_id)
    if row is None:
        fail(f"no tracker {tracker_id}; see `tikisync tracker list`")
    return row


@tikisync.group("field")
def field():
    """Fields of local trackers."""


@field.command("add")
@click.argument("tracker_id", type=int)
@click.argument("permname")
@click.argument("type_code", metavar="TYPE")
@click.argument("label")
@click.option("--options", "options_json", default="{}", help='Tiki options as JSON.')
@click.option("--mandatory", is_flag=True)
@click.option("--description", default="")
@click.option("--json", "as_json", is_flag=True)
def field_add(tracker_id, permname, type_code, label, options_json, mandatory, description,
              as_json):
    """Add a field of Tiki type TYPE (t, n, d, f, ...) to a tracker."""
    row = _tracker(tracker_id)
    if not label.strip():  # the limits of the field form
        fail("LABEL is required")
    _max_length("LABEL", label.strip(), 200)
    _max_length("--description", description, 5000)
    if type_code not in LOCAL_TYPES:
        fail(f"type {type_code!r} cannot be held here ({field_type(type_code).label}); "
             f"use one of {' '.join(LOCAL_TYPES)}")
    if not PERM_NAME.match(permname):
        fail("PERMNAME takes letters, digits and underscores, starting with a letter")
    try:
        options = json.loads(options_json)
    except ValueError as exc:
        fail(f"--options is not valid JSON ({exc.msg})")
    if not isinstance(options, dict):
        fail('--options must be a JSON object, e.g. {"options":["1=Low","2=High"]}')
    if Field.select().where(Field.tracker == row, Field.perm_name == permname).exists():
        fail(f"tracker {tracker_id} already has a field {permname!r}")
    last = Field.select(pw.fn.MAX(Field.position)).where(Field.tracker == row).scalar() or 0
    created = Field.create(
        tracker=row, perm_name=permname, type=type_code, name=label.strip(), options=options,
        mandatory=mandatory, description=description, position=last + 10,
        flags={"isMain": "n" if last else "y", "isTblVisible": "y", "isSearchable": "y",
               "isPublic": "y", "isHidden": "n"})
    emit({"id": created.id}) if as_json else click.echo(f"field {created.id} added")


def _assignments(pairs):
    values = {}
    for pair in pairs:
        perm, sep, value = pair.partition("=")
        if not sep:
            fail(f"--set takes PERM=VALUE, not {pair!r}")
        values[perm.strip()] = value
    return values


def item_json(item):
    return {"id": item.id, "tracker": item.tracker_id, "remote_id": item.remote_id,
            "status": item.status, "fields": item.values or {}}


@tikisync.group("item", invoke_without_command=False)
def item():
    """Items of local trackers."""


@item.command("add")
@click.argument("tracker_id", type=int)
@click.option("--status", type=click.Choice(list(STATUSES)), default="o")
@click.option("--set", "pairs", multiple=True, metavar="PERM=VALUE")
@click.option("--json", "as_json", is_flag=True)
def item_add(tracker_id, status, pairs, as_json):
    """Add an item; values are validated exactly as the item form does."""
    row = _tracker(tracker_id)
    created = create_item(row, _assignments(pairs), status=status, username="cli")
    emit({"id": created.id}) if as_json else click.echo(f"item {created.id} added")


def _item(item_id):
    row = Item.get_or_none(Item.id == item_id)
    if row is None:
        fail(f"no item {item_id}")
    return row


@item.command("set")
@click.argument("item_id", type=int)
@click.option("--status", type=click.Choice(list(STATUSES)), default=None)
@click.option("--set", "pairs", multiple=True, metavar="PERM=VALUE")
def item_set(item_id, status, pairs):
    """Change fields of an item; the others keep their value."""
    row = _item(item_id)
    changed = update_item(row, _assignments(pairs), status=status, username="cli", partial=True)
    names = ["item status" if name == STATUS_KEY else name for name in changed]
    click.echo(f"item {item_id}: " + (", ".join(names) + " changed" if names else "no change"))


@item.command("show")
@click.argument("item_id", type=int)
@click.option("--json", "as_json", is_flag=True)
def item_show(item_id, as_json):
    """Show an item's raw values."""
    row = _item(item_id)
    if as_json:
        emit(item_json(row))
    else:
        click.echo(f"item {row.id} of tracker {row.tracker_id} [{row.status}]")
        for perm, value in (row.values or {}).items():
            click.echo(f"  {perm} = {value}")


@tikisync.command("items")
@click.argument("tracker_id", type=int)
@click.option("--json", "as_json", is_flag=True)
def items(tracker_id, as_json):
    """List a tracker's items (streamed, in id order)."""
    row = _tracker(tracker_id)
    query = Item.select().where(Item.tracker == row).order_by(Item.id)
    if as_json:
        # Stream the array so a big tracker never sits in memory at once.
        click.echo("[", nl=False)
        with database.atomic():
            for n, it in enumerate(query.iterator()):
                text = json.dumps(item_json(it), ensure_ascii=False)
                click.echo(("," if n else "") + text, nl=False)
        click.echo("]")
    else:
        for it in query.iterator():
            click.echo(f"{it.id:>7} [{it.status}] " + ", ".join(
                f"{k}={v}" for k, v in (it.values or {}).items()))

"""Remote masters: credentials (`dsn`), the outbound allow-list (`origin`), remote listings.

No command ever prints a secret: listings show whether one is stored, errors are the remote
layer's scrubbed messages.
"""
import sys

import click

from .. import credentials as creds
from ..credential_methods import GENERATIONS, METHODS
from ..remote.errors import RemoteError
from . import emit, fail, tikisync


def _secret(value, what):
    """A secret from its option; `-` reads it from stdin (keeps it out of `ps` and history)."""
    if value == "-":
        value = sys.stdin.readline().rstrip("\r\n")
        if not value:
            fail(f"no {what} on standard input")
    return value or ""


def _invalid(exc):
    names = {"secret": "--password/--token", "login_url": "--login-url", "url": "URL",
             "identifier": "IDENTIFIER", "generation": "--generation", "method": "--method",
             "username": "--username", "origin": "ORIGIN"}
    fail("; ".join(f"{names.get(field, field)}: {text}" for field, text in exc.errors.items()))


def _credential(identifier):
    row = creds.get(identifier)
    if row is None:
        fail(f"no credential {identifier!r}; see `tikisync dsn list`")
    return row


@tikisync.group("dsn")
def dsn():
    """Credentials for remote masters (Tiki's Admin DSN > Content Authentication)."""


@dsn.command("add")
@click.argument("identifier")
@click.argument("url")
@click.option("--method", type=click.Choice(list(METHODS)), required=True,
              help="basic: user+password; bearer: API token (Tiki 24+); header: a raw "
                   "Authorization value; session: log in through the login form.")
@click.option("--username", default="", help="For basic and session.")
@click.option("--password", default="", help="For basic and session; `-` reads it from stdin.")
@click.option("--token", default="", help="For bearer (the API token) and header (the whole "
              "Authorization value); `-` reads it from stdin.")
@click.option("--login-url", default="", help="Session login page (default URL/tiki-login.php).")
@click.option("--allow-http", is_flag=True,
              help="Allow sending this secret over plain http (only on a trusted network).")
@click.option("--generation", type=click.Choice(list(GENERATIONS)), default="auto",
              show_default=True, help="A: tiki-ajax_services.php (Tiki 8-23); B: tiki-api.php "
              "(Tiki 24+); auto: detect.")
@click.option("--replace", is_flag=True, help="Update the credential if IDENTIFIER exists "
              "(an empty secret keeps the stored one).")
def dsn_add(identifier, url, method, username, password, token, login_url, allow_http,
            generation, replace):
    """Store a credential for the master at URL (secrets are encrypted)."""
    secret = _secret(password, "password") if method in ("basic", "session") else \
        _secret(token, "token")
    if method in ("basic", "session") and token:
        fail(f"--method {method} takes --password, not --token")
    if method in ("bearer", "header") and password:
        fail(f"--method {method} takes --token, not --password")
    values = dict(identifier=identifier, url=url, method=method, username=username,
                  secret=secret, login_url=login_url, allow_http=allow_http,
                  generation=generation)
    existing = creds.get(identifier)
    try:
        if existing is not None and replace:
            row = creds.update(existing, actor="cli", **values)
            click.echo(f"credential {row.identifier} updated for {row.url}")
        else:
            row = creds.add(actor="cli", **values)
            click.echo(f"credential {row.identifier} added for {row.url}")
    except creds.CredentialInvalid as exc:
        _invalid(exc)


@dsn.command("list")
@click.option("--json", "as_json", is_flag=True)
def dsn_list(as_json):
    """List credentials (never their secrets)."""
    rows = [creds.public(row) for row in creds.all_credentials()]
    if as_json:
        emit(rows)
        return
    for row in rows:
        who = f" as {row['username']}" if row["username"] else ""
        flags = " (plain http allowed)" if row["allow_http"] else ""
        click.echo(f"{row['identifier']}: {row['url']} [{row['method']}{who}, generation "
                   f"{row['generation']}]{flags}")


@dsn.command("remove")
@click.argument("identifier")
def dsn_remove(identifier):
    """Delete a credential."""
    creds.delete(_credential(identifier), actor="cli")
    click.echo(f"credential {identifier} removed")


@dsn.command("test")
@click.argument("identifier")
@click.option("--json", "as_json", is_flag=True)
def dsn_test(identifier, as_json):
    """Try a credential: does the master answer, which protocol, may it list trackers and items?"""
    result = creds.probe(_credential(identifier))
    if as_json:
        emit(result)
    else:
        click.echo(result["message"])
    if not result["ok"]:
        fail(result["error"] or result["message"])


@tikisync.group("remote")
def remote():
    """Look at a remote master."""


@remote.command("trackers")
@click.argument("url")
@click.option("--json", "as_json", is_flag=True)
def remote_trackers(url, as_json):
    """List the trackers of the master at URL (with the credential that matches it)."""
    try:
        with creds.client_for(url) as client:
            rows = client.list_trackers()
    except RemoteError as exc:
        fail(str(exc))
    if as_json:
        emit(rows)
        return
    for row in rows:
        count = "" if row["items"] is None else f" ({row['items']} items)"
        click.echo(f"{row['id']:>5}  {row['name']}{count}")


@tikisync.group("origin")
def origin():
    """The outbound allow-list: remote sites the app may contact besides the credentials'."""


@origin.command("add")
@click.argument("origin_url", metavar="ORIGIN")
def origin_add(origin_url):
    """Allow requests to ORIGIN (scheme://host[:port]; a path is ignored)."""
    try:
        added = creds.add_origin(origin_url, actor="cli")
    except creds.CredentialInvalid as exc:
        _invalid(exc)
    click.echo(f"{added} allowed")


@origin.command("list")
@click.option("--json", "as_json", is_flag=True)
def origin_list(as_json):
    """Allowed origins (the credentials' own origins are allowed as well)."""
    rows = creds.allowed_origins()
    if as_json:
        emit(rows)
    else:
        for row in rows:
            click.echo(row)


@origin.command("remove")
@click.argument("origin_url", metavar="ORIGIN")
def origin_remove(origin_url):
    """Stop allowing ORIGIN."""
    if not creds.remove_origin(origin_url, actor="cli"):
        fail(f"{origin_url} is not in the allow-list; see `tikisync origin list`")
    click.echo(f"{creds.normalize_origin(origin_url)} removed")

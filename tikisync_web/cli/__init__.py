"""`tikisync …`: the command line (CLI.md). Also available as `flask --app wsgi tikisync …`.

Failure is one line on stderr and exit status 1 (click's usage errors: 2); `--json` prints
exactly one JSON document on stdout.
"""
import json
import sys

import click
import peewee as pw
from flask.cli import AppGroup


class Group(AppGroup):
    """Turns expected failures into one line on stderr and exit status 1."""

    def invoke(self, ctx):
        from ..db import BUSY_MESSAGE, is_busy
        from ..items import ItemInvalid

        try:
            return super().invoke(ctx)
        except ItemInvalid as exc:
            raise click.ClickException(
                "; ".join(f"{perm} {err}" for perm, err in exc.errors.items())) from None
        except pw.DatabaseError as exc:
            if is_busy(exc):
                raise click.ClickException(BUSY_MESSAGE) from None
            raise click.ClickException(f"database error: {str(exc).splitlines()[0]}") from None


@click.group("tikisync", cls=Group, help="Tiki tracker synchronization: local trackers, "
             "remote masters, clone, reload and push.")
def tikisync():
    from .. import migrations

    ctx = click.get_current_context()
    if ctx.invoked_subcommand != "init" and migrations.current_version() != migrations.LATEST:
        raise click.ClickException(
            "the database has no tikisync schema or an older one; run `tikisync init`")


def emit(value):
    """Print one JSON document."""
    click.echo(json.dumps(value, ensure_ascii=False, sort_keys=False))


def fail(message):
    raise click.ClickException(message)


def partly_failed(message):
    """End a command that did part of its work (its output is printed already): one line on
    stderr and exit status 1 (CLI.md)."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def main(argv=None):
    """Console script: build the app from the environment, then run the group."""
    from ..app import create_app
    from ..db import ConfigError

    try:
        app = create_app({"TIKISYNC_AUTO_UPGRADE": False})
    except (ConfigError, pw.DatabaseError, OSError, RuntimeError) as exc:
        click.echo(f"Error: {str(exc).splitlines()[0]}", err=True)
        sys.exit(1)
    with app.app_context():
        tikisync.main(args=argv, prog_name="tikisync")


from . import core, demo, remote, schedules, sync  # noqa: E402,F401  (registers the commands)

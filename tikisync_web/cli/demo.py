"""`tikisync demo-seed`: fill an empty database with the demo trackers (README, quick start)."""
import os

import click

from .. import demo
from . import emit, fail, tikisync


@tikisync.command("demo-seed")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--token-file", type=click.Path(dir_okay=False),
              help="Also write the demo admin's new API token to this file (mode 600), for "
                   "the main app's credential.")
@click.option("--items", "count", type=click.IntRange(0, 100_000), default=demo.REQUEST_COUNT,
              show_default=True, help="How many help desk requests to make.")
def demo_seed(as_json, token_file, count):
    """Fill an EMPTY database with the demo: an Equipment tracker and a Help desk tracker using
    every synchronizable field type, a few hundred items, and their users."""
    try:
        result = demo.seed(requests=count)
    except demo.AlreadySeeded as exc:
        fail(str(exc))
    if token_file:
        fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(result["token"] + "\n")
    if as_json:
        emit(result)
        return
    for tracker in result["trackers"]:
        click.echo(f"tracker {tracker['id']}: {tracker['name']} ({tracker['items']} items)")
    click.echo(f"sign in as {result['username']} / {result['password']}; API token "
               f"{result['token']}")

"""The README against the code, so the two cannot drift apart again:
- its configuration table: every key is a setting with that default and type, every setting is
  in the table, and the standalone app reads each one from the environment, typed;
- its one command-line reference: every command and subcommand of `tikisync --help` is listed
  with every option it takes, and nothing is listed that does not exist."""
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from werkzeug.middleware.proxy_fix import ProxyFix

from tikisync_web import config as settings
from tikisync_web.app import create_app
from tikisync_web.cli import tikisync

README = Path(__file__).resolve().parents[1] / "README.md"
TYPES = {  # the README's type column -> (the setting's type, a value to set, what it gives)
    "text": (settings.text, "some text", "some text"),
    "boolean": (settings.boolean, None, None),  # the opposite of the default, below
    "whole number": (settings.whole, "7", 7),
    "seconds": (settings.seconds, "2.5", 2.5),
    "seconds, 0 or more": (settings.pause, "0.25", 0.25),
    "list of origins": (settings.origins, "'self', https://portal.example.org",
                        ["'self'", "https://portal.example.org"]),
    "`thread`, `inline` or `worker`": (settings.runner, "worker", "worker"),
    "`auto`, `thread` or `off`": (settings.scheduler_mode, "off", "off"),
}
UNTYPED_DEFAULTS = ("TIKISYNC_DATABASE", "TIKISYNC_SECRET_KEY")  # computed, described in words


def section(title):
    text = README.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def table_rows(title):
    """The cells of the rows of the tables in a README section (header rows left out)."""
    rows = []
    for line in section(title).splitlines():
        if not line.startswith("|") or line.startswith("|---"):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if cells[0] not in ("key", "command"):
            rows.append(cells)
    return rows


def config_table():
    return {row[0].strip("`"): row for row in table_rows("Configuration")}


# --- configuration ---------------------------------------------------------------------------
def test_the_table_and_the_settings_are_the_same_keys_defaults_and_types(app):
    table = config_table()
    listed = {key for key, row in table.items() if row[2] != "environment only"}
    assert listed == set(settings.SETTINGS), "README table vs tikisync_web/config.py"
    assert {key for key, row in table.items() if row[2] == "environment only"} == set(
        settings.ENVIRONMENT_ONLY)
    # Every TIKISYNC_* key an app ends up with is a documented setting.
    assert {k for k in app.config if k.startswith("TIKISYNC_")} == set(settings.SETTINGS)
    for key, (default, kind) in settings.SETTINGS.items():
        _key, shown, type_word, _meaning = table[key]
        assert type_word in TYPES, f"{key}: unknown type {type_word!r} in the README"
        assert TYPES[type_word][0] is kind, f"{key}: README says {type_word}"
        if key in UNTYPED_DEFAULTS:
            continue
        if default is None:
            assert shown == "none", key
        else:
            assert kind(shown.strip("`")) == default, f"{key}: README default {shown}"


@pytest.mark.parametrize("key", [k for k in settings.SETTINGS if k != "TIKISYNC_DATABASE"])
def test_the_standalone_app_reads_every_key_from_the_environment(key, monkeypatch, db_url,
                                                                 tmp_path):
    kind_word = config_table()[key][2]
    _kind, value, expected = TYPES[kind_word]
    if kind_word == "boolean":
        default = settings.SETTINGS[key][0]
        value, expected = ("off", False) if default else ("on", True)
    monkeypatch.setenv("TIKISYNC_DATABASE", db_url)
    monkeypatch.setenv("TIKISYNC_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv(key, value)
    app = create_app({"TESTING": True, "SECRET_KEY": "s"})
    assert app.config[key] == expected
    assert type(app.config[key]) is type(expected)
    if key == "TIKISYNC_BEHIND_PROXY":
        assert isinstance(app.wsgi_app, ProxyFix)


def test_database_and_instance_come_from_the_environment(monkeypatch, tmp_path, db_url):
    monkeypatch.setenv("TIKISYNC_DATABASE", db_url)
    monkeypatch.setenv("TIKISYNC_INSTANCE", str(tmp_path / "elsewhere"))
    app = create_app({"TESTING": True})
    assert app.config["TIKISYNC_DATABASE"] == db_url
    assert app.instance_path == str(tmp_path / "elsewhere")
    assert (tmp_path / "elsewhere" / "secret_key").exists()  # the standalone's own key


def test_a_bad_value_stops_the_command_line_with_one_line(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "TIKISYNC_PAGE_SIZE": "ten",
           "TIKISYNC_DATABASE": f"sqlite:///{tmp_path}/t.db",
           "TIKISYNC_INSTANCE": str(tmp_path / "instance")}
    done = subprocess.run([str(Path(sys.executable).parent / "tikisync"), "init"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip() == ("Error: TIKISYNC_PAGE_SIZE='ten' cannot be used: it takes "
                                   "a whole number")
    assert not (tmp_path / "t.db").exists()  # nothing done


# --- the command-line reference --------------------------------------------------------------
def leaf_commands(group, path=()):
    """{("dsn", "add"): command} for every command `tikisync --help` leads to."""
    found = {}
    with click.Context(group) as ctx:
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            if isinstance(command, click.Group):
                found.update(leaf_commands(command, (*path, name)))
            else:
                found[(*path, name)] = command
    return found


def options_of(command):
    return {o for p in command.params if isinstance(p, click.Option) for o in p.opts
            if o.startswith("--")}


def readme_commands():
    """{("dsn", "add"): {"--method", …}} from the Command line table; `a\\|b` names both."""
    listed = {}
    for row in table_rows("Command line"):
        for usage in re.findall(r"`(tikisync [^`]+)`", row[0]):
            words = usage.replace("\\|", "|").split()[1:]
            options = set(re.findall(r"--[a-z][a-z-]*", usage))
            group = tikisync.commands.get(words[0])
            names = [(w,) for w in words[0].split("|")]
            if isinstance(group, click.Group):
                names = [(words[0], sub) for sub in words[1].split("|")]
            for name in names:
                assert name not in listed, f"{' '.join(name)} is listed twice"
                listed[name] = options
    return listed


def test_the_readme_lists_every_command_and_option_and_nothing_else():
    listed = readme_commands()
    real = leaf_commands(tikisync)
    assert sorted(set(real) - set(listed)) == [], "commands missing from the README"
    assert sorted(set(listed) - set(real)) == [], "the README lists commands that do not exist"
    for name, command in real.items():
        assert listed[name] == options_of(command) - {"--help"}, " ".join(name)


def test_the_command_line_is_documented_once():
    text = README.read_text()
    assert text.count("| command | JSON result |") == 1
    tables = [s for s in re.split(r"\n## ", text) if re.search(r"^\| `tikisync ", s, re.M)]
    assert [s.splitlines()[0] for s in tables] == ["Command line"]


def test_tikisync_help_names_the_same_commands(runner):
    shown = runner.invoke(tikisync, ["--help"])
    assert shown.exit_code == 0
    commands = re.findall(r"^  ([a-z-]+)  ", shown.output.split("Commands:")[1], re.M)
    assert set(commands) == {name[0] for name in readme_commands()}

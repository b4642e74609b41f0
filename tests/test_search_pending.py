"""The full-text index filled after a reload's commit (issue 17, sync/search_index.py): a
search finds the reload's items before, during and after their indexing; a process killed
between the commit and the fill loses nothing; the rows a reload writes (COPY on PostgreSQL)
are the ones the item service would write."""
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from tests.support.sync import client, connect, make_clone
from tikisync_web import db as tdb
from tikisync_web import dbobjects
from tikisync_web import items as item_svc
from tikisync_web.db import database
from tikisync_web.models import Item, Job, Tracker
from tikisync_web.sync import reload as reload_mod
from tikisync_web.sync import search_index
from tikisync_web.values import content_hash


def found(tracker, q):
    rows, total = item_svc.list_items(tracker, tracker.ordered_fields(), q=q, per_page=200)
    assert total == len(rows)
    return sorted(row.id for row in rows)


def in_index(word):
    """Item ids the SQLite FTS5 index itself holds for `word` (no fallback)."""
    table = dbobjects.FTS_TABLE
    rows = database.execute_sql(f'SELECT rowid FROM "{table}" WHERE "{table}" MATCH ?',
                                (f'"{word}"',)).fetchall()
    return sorted(r[0] for r in rows)


def index_consistent():
    """FTS5's own check of the index against the item table (it fails on a row indexed twice,
    missing, or indexed with other text)."""
    table = dbobjects.FTS_TABLE
    database.execute_sql(f'INSERT INTO "{table}"("{table}", rank) VALUES (\'integrity-check\', 1)')
    return True


def not_indexed(tracker):
    """How many of the tracker's items wait for search_index.fill (None: no index here)."""
    items = Item.select().where(Item.tracker == tracker)
    if tdb.is_sqlite() and dbobjects.search_ready(database):
        mark = search_index.pending_from(tracker)
        return 0 if mark is None else items.where(Item.id >= mark).count()
    if tdb.is_sqlite() or tdb.is_mysql():
        return None
    return items.where(Item.search_text.is_null()).count()


def reload(app, tracker, master):
    with client(app, master.url) as c:
        return reload_mod.reload(tracker, c, username="test")


@pytest.fixture
def synced(app, db, fake_master):
    connect(app, fake_master)
    tracker = make_clone(app, fake_master)
    reload(app, tracker, fake_master)
    return tracker


def ids_of(tracker, titles):
    return sorted(i.id for i in Item.select().where(Item.tracker == tracker)
                  if i.values.get("title") in titles)


def test_a_reloads_items_are_found_before_during_and_after_their_indexing(
        app, synced, fake_master, monkeypatch):
    titles = [f"Quokka no{n:03d}" for n in range(30)]
    for title in titles:
        fake_master.add_item(1, {"title": title, "priority": "low"})
    monkeypatch.setattr(search_index, "fill", lambda *a, **kw: 0)  # stopped before the fill
    reload(app, synced, fake_master)
    monkeypatch.undo()
    new = ids_of(synced, titles)
    assert len(new) == 30
    assert not_indexed(synced) in (30, None)
    sqlite = tdb.is_sqlite() and dbobjects.search_ready(database)
    if sqlite:  # the index really lacks them: the search finds them by the pending scan
        assert search_index.pending_from(synced) == new[0]
        assert in_index("quokka") == []
    assert found(synced, "quokka") == new
    assert found(synced, "quokka no007") == [new[7]]
    assert found(synced, "NO029 QUOKKA") == [new[29]]

    # Writes to pending items meanwhile: an edit, a deletion, a new local item.
    item_svc.update_item(Item.get_by_id(new[0]), {"title": "Wombat now"}, username="t")
    item_svc.delete_item(Item.get_by_id(new[1]), "t")
    made = item_svc.create_item(synced, {"title": "Quokka made here"}, username="t")
    expected = sorted(new[2:] + [made.id])
    assert found(synced, "wombat") == [new[0]]
    assert found(synced, "quokka") == expected
    assert found(synced, "made here") == [made.id]

    waiting = not_indexed(synced)
    if waiting:  # the fill in chunks, interrupted after the first one's commit
        monkeypatch.setattr(search_index, "CHUNK", 10)

        class Killed(Exception):
            pass

        class StopsAfterOne:
            def step(self, *a, **kw):
                raise Killed()

        with pytest.raises(Killed):
            search_index.fill(synced, StopsAfterOne())
        assert not_indexed(synced) == waiting - 10  # one chunk done and kept
        assert found(synced, "quokka") == expected
        if sqlite:
            assert 0 < len(in_index("quokka")) < len(expected)
    search_index.fill(synced)
    assert not_indexed(synced) in (0, None)
    assert found(synced, "quokka") == expected
    assert found(synced, "wombat") == [new[0]]
    if sqlite:
        assert in_index("quokka") == expected and in_index("wombat") == [new[0]]
        assert index_consistent()

    # Indexed items are kept current by the triggers again.
    item_svc.update_item(Item.get_by_id(new[2]), {"title": "Capybara"}, username="t")
    assert found(synced, "capybara") == [new[2]]
    assert new[2] not in found(synced, "quokka")
    if sqlite:
        assert index_consistent()


CHILD = textwrap.dedent("""
    import os, signal, sys
    from tikisync_web.sync import search_index

    def killed(*args, **kwargs):  # kill -9 right after the reload's commit
        os.kill(os.getpid(), signal.SIGKILL)

    search_index.fill = killed
    from tikisync_web.cli import main
    main(sys.argv[1:])
""")


def run_cli(app, *args, child=None):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TIKISYNC_")}
    environment.update({"TIKISYNC_DATABASE": app.config["TIKISYNC_DATABASE"],
                        "TIKISYNC_SECRET_KEY": app.config["SECRET_KEY"]})
    command = [sys.executable, "-c", child or "from tikisync_web.cli import main; main()"]
    return subprocess.run(command + [str(a) for a in args], env=environment, timeout=120,
                          capture_output=True, text=True)


def test_a_process_killed_between_the_commit_and_the_fill_loses_nothing(
        app, synced, fake_master):
    titles = [f"Axolotl {n}" for n in range(25)]
    for title in titles:
        fake_master.add_item(1, {"title": title})
    killed = run_cli(app, "reload", synced.id, "--json", child=CHILD)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    new = ids_of(synced, titles)
    assert len(new) == 25  # committed before the kill
    assert not_indexed(synced) in (25, None)
    assert found(synced, "axolotl") == new
    sqlite = tdb.is_sqlite() and dbobjects.search_ready(database)
    if sqlite:
        assert search_index.pending_from(synced) == new[0] and in_index("axolotl") == []
    assert Job.get(Job.kind == "reload").state == "running"  # what the killed process left

    again = run_cli(app, "reload", synced.id, "--json")  # the next reload finishes the fill
    assert again.returncode == 0, again.stderr
    assert not_indexed(synced) in (0, None)
    assert found(synced, "axolotl") == new
    if sqlite:
        assert in_index("axolotl") == new and index_consistent()


TRICKY = ["tab\there", "two\nlines", "back\\slash \\N", 'quotes "and" \'these\'', "zéro ‰ 😀",
          "comma, semicolon; pipe|", "\\.", "trailing space "]


def test_the_rows_a_reload_writes_are_the_item_services(app, db, fake_master):
    """On PostgreSQL the new rows go through COPY (text format, its own escaping): every
    stored value, search text and hash is what the item service computes from the master's
    values, whatever characters they hold."""
    wanted = {}
    assert f", {item_svc.SEARCH_TEXT_MAX})" in dbobjects.PG_SEARCH_TEXT[1]
    for n, text in enumerate(TRICKY):
        item_id = fake_master.add_item(1, {"title": text, "priority": "high", "amount": str(n)},
                                       status="cp"[n % 2])
        wanted[item_id] = fake_master.items[item_id]
    connect(app, fake_master)
    tracker = make_clone(app, fake_master)
    reload(app, tracker, fake_master)
    perms = {f.perm_name for f in tracker.ordered_fields()}
    rows = {i.remote_id: i for i in Item.select().where(Item.tracker == tracker)}
    assert set(wanted) <= set(rows)
    for remote_id, remote in wanted.items():
        item = Item.get_by_id(rows[remote_id].id)  # read back through the ORM
        values = {p: v for p, v in remote["fields"].items() if p in perms}
        assert item.values == values
        assert item.status == remote["status"]
        # The same words (on PostgreSQL made from jsonb, whose key order is its own).
        assert sorted(item.search_text.split()) == sorted(item_svc.search_text(values).split())
        assert item.hash == item.base_hash == content_hash(values, item.status)
    for n, text in enumerate(TRICKY):
        words = [w for w in text.lower().split() if len(w) >= 3][:1] or [text.lower()]
        hits = found(tracker, words[0])
        assert rows[list(wanted)[n]].id in hits, (text, words)


def test_a_tracker_deleted_while_its_indexing_is_pending_leaves_the_index_sound(
        app, synced, fake_master, monkeypatch):
    for n in range(12):
        fake_master.add_item(1, {"title": f"Tapir {n}"})
    monkeypatch.setattr(search_index, "fill", lambda *a, **kw: 0)
    reload(app, synced, fake_master)
    monkeypatch.undo()
    other = make_clone(app, fake_master)
    reload(app, other, fake_master)  # indexed, and still searchable after the deletion
    kept = sorted(i.id for i in Item.select().where(Item.tracker == other)
                  if "Tapir" in i.values["title"])
    if tdb.is_sqlite() and dbobjects.search_ready(database):
        assert search_index.pending_from(synced) is not None
    # The tracker row itself, as a cascade deletes it (no per-item delete from peewee first).
    Tracker.delete().where(Tracker.id == synced.id).execute()
    assert Item.select().where(Item.tracker == synced.id).count() == 0
    assert found(other, "tapir") == kept and len(kept) == 12
    if tdb.is_sqlite() and dbobjects.search_ready(database):
        assert index_consistent() and in_index("tapir") == kept

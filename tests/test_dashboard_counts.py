"""The dashboard's local work at scale (issue 17): the counts of every clone read in a few
statements for them all, however many clones and however large, and the same numbers as
status.classify() gives each clone."""
from playhouse.test_utils import count_queries

from tests.support.bulk_clone import (
    FIRST_GENERATED,
    analyzed,
    changed_by_sql,
    every,
    json_value,
    synced_items,
)
from tests.support.pages import soup, url
from tests.support.sync import client as master_client
from tests.support.sync import edit_here, edit_on_master, make_clone, reloaded_clone
from tikisync_web import items as item_svc
from tikisync_web.models import Baseline, Item
from tikisync_web.sync import item_states, status
from tikisync_web.sync import reload as reload_mod

WORDS = {"new": "new", "modified": "modified", "conflicts": "in conflict",
         "deleted_on_master": "deleted on the master"}


def busy(tracker, size):
    """`size` more items of the clone, a tenth changed here; of those, one in three also
    changed on the master (a conflict) and one in seven deleted there; one item new here."""
    synced_items(tracker, size)
    changed_by_sql(tracker, 10)
    ours = Item.select(Item.id).where(Item.tracker == tracker, Item.remote_id > FIRST_GENERATED)
    Baseline.update(theirs=json_value('{"title": "Theirs"}'), theirs_status="o").where(
        Baseline.item.in_(ours.where(every(30)))).execute()
    Baseline.update(deleted_on_master=True).where(
        Baseline.item.in_(ours.where(every(70)))).execute()
    item_svc.create_item(tracker, {"title": "Made here"}, username="editor")


def local_work(page, tracker):
    row = page.find(id=f"tracker-{tracker.id}")
    return {a["data-state"]: a.get_text(strip=True)
            for a in row.find(class_="ts-local-work")("a")}


def shown(counts):
    named = {"conflicts": "conflict"}
    return {named.get(k, k): f"{n} {WORDS[k]}" for k, n in counts.items() if n}


def test_the_dashboard_reads_every_clone_s_counts_in_the_same_statements(
        app, client, auth, db, fake_master, users):
    """One clone of 300 items, then three of 3,000: the dashboard runs as many statements,
    and shows each clone the numbers classify() gives it."""
    clones = [reloaded_clone(app, fake_master)]
    auth.login("admin")
    statements = {}
    for size, more in ((300, 0), (3000, 2)):
        for _ in range(more):
            tracker = make_clone(app, fake_master)
            with master_client(app, fake_master.url) as c:
                reload_mod.reload(tracker, c)
            clones.append(tracker)
        for tracker in clones:
            Baseline.delete().where(Baseline.item.in_(
                Item.select(Item.id).where(Item.tracker == tracker))).execute()
            Item.delete().where(Item.tracker == tracker, (Item.remote_id > FIRST_GENERATED) |
                                Item.remote_id.is_null()).execute()
            busy(tracker, size)
        analyzed()
        with count_queries() as counter:
            page = soup(client.get(url(app, "tikisync.dashboard")))
        statements[size] = len(counter.get_queries())
        for tracker in clones:
            expected = {k: len(v) for k, v in status.classify(tracker).items()}
            assert all(expected.values()), expected  # every state there is to show
            assert item_states.counts([tracker])[tracker.id] == expected
            assert local_work(page, tracker) == shown(expected)
    assert statements[3000] == statements[300], statements


def test_a_clone_in_sync_shows_so_and_the_master_s_changes_alone_are_not_local_work(
        app, client, auth, db, fake_master, users):
    tracker = reloaded_clone(app, fake_master)
    remote = sorted(fake_master.items)
    edit_on_master(fake_master, remote[0], {"title": "Only there"})
    title = Item.get(Item.remote_id == remote[1]).values["title"]
    edit_here(remote[1], {"title": "Back"})  # changed and changed back here
    edit_here(remote[1], {"title": title})
    with master_client(app, fake_master.url) as c:
        status.check_remote(tracker, c)
    assert Baseline.select().count() == 2  # what the master holds, the base left here
    assert {k: len(v) for k, v in status.classify(tracker).items()} == dict.fromkeys(WORDS, 0)
    assert item_states.counts([tracker])[tracker.id] == dict.fromkeys(WORDS, 0)
    auth.login("viewer")
    row = soup(client.get(url(app, "tikisync.dashboard"))).find(id=f"tracker-{tracker.id}")
    assert row.find(class_="ts-local-work").get_text(strip=True) == "in sync"

"""The fault matrix, continued: a master whose clock steps between two operations, a master
edited and emptied while a reload reads it, and people editing here while a reload runs.
The same promises: nothing lost, nothing duplicated, no 500, clear messages, and one more
step converges. Each runs over the token/Basic path (Tiki 24+ and 9-23 in turn) and over the
session path of a Tiki 19-23 (one-use tickets, then a session's; rows "(session)")."""
import threading

import pytest

from tests.support.faultkit import HeldReload, Pair, item_form, session_master_kw
from tests.support.pages import url
from tests.support.report import cases, record
from tikisync_web import items as item_svc
from tikisync_web.models import Baseline, Item
from tikisync_web.sync import status as status_mod

pytestmark = pytest.mark.reliability

HOUR = 3600


PATHS = ("token/Basic", "session")


def _make(app, make_master, path, n, **kw):
    """The n-th pair of a test: over tokens and Basic, Gen B then A; over a session, one-use
    tickets then a session's."""
    if path == "session":
        return Pair.make(app, make_master, gen="A", method="session",
                         **session_master_kw(("one-use", "session")[n % 2]), **kw)
    return Pair.make(app, make_master, gen="BA"[n % 2], **kw)


def _row(notes, ran, kind, what, errors_500=0, duplicated=0, unclear=0, path=""):
    what += " (session)" if path == "session" else ""
    record(kind, what, ran, lost=len(notes), duplicated=duplicated, errors_500=errors_500,
           unclear=unclear)
    assert (notes, duplicated, errors_500, unclear) == ([], 0, 0, 0)


def _edit(pair, remote_id, values):
    item = Item.get(Item.tracker == pair.tracker_id, Item.remote_id == remote_id)
    item_svc.update_item(item, values, username="t")
    return item.id


def _master_edit(pair, remote_id, perm, value):
    master = pair.master
    master.items[remote_id]["fields"][perm] = value
    master.items[remote_id]["lastModif"] = master.now()


def _step(pair, how):
    """The master's clock goes back an hour, or was an hour ahead at the reload and is
    right again now (its clock read later is lower than at the reload, either way)."""
    if how == "back":
        pair.master.settings.clock_offset = -HOUR
    else:
        pair.master.settings.clock_offset = 0


def _pair(app, make_master, how, path, n):
    kw = {"clock_offset": HOUR} if how == "forward, then corrected" else {}
    return _make(app, make_master, path, n, **kw)


STEPS = ("back", "forward, then corrected")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("how", STEPS)
def test_clock_step_between_a_reload_and_a_push_of_edits(app, db, make_master, how, path):
    """The master edits an item after its clock stepped: the push finds the conflict instead
    of overwriting it; the user keeps theirs or mine; one more push converges."""
    notes, errors_500, ran = [], 0, cases(1, 4)
    for n in range(ran):
        pair = _pair(app, make_master, how, path, n)
        _step(pair, how)
        _master_edit(pair, 3, "title", "theirs, after the step")
        mine = _edit(pair, 3, {"title": "mine"})
        _edit(pair, 6, {"amount": "66"})
        first = pair.push()
        errors_500 += first.errors_500
        if pair.master.items[3]["fields"]["title"] != "theirs, after the step":
            notes.append(f"{how}: the master's newer edit was overwritten")
        if mine not in status_mod.classify(pair.tracker())["conflicts"]:
            notes.append(f"{how}: the master's newer edit was not seen as a conflict")
        resolved = pair.resolve(mine, {"title": "theirs" if n % 2 else "mine"})
        second = pair.push()
        errors_500 += resolved.errors_500 + second.errors_500
        notes += [f"{how}: {m}" for m in first.messages + resolved.messages + second.messages]
        notes += pair.differences()
        expected = "theirs, after the step" if n % 2 else "mine"
        if pair.master.items[3]["fields"]["title"] != expected or \
                pair.master.items[6]["fields"]["amount"] != "66":
            notes.append(f"{how}: the master does not hold what was chosen")
    _row(notes, ran, "fault", f"master clock stepped {how} between reload and push edit",
         errors_500=errors_500, path=path)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("how", STEPS)
def test_clock_step_between_a_lost_insert_and_its_retry(app, db, make_master, how, path):
    """An insert applied but unanswered, the master's clock steps, the next push still finds
    the item (its window starts before the step) and adopts it: one copy."""
    notes, dups, errors_500, ran = [], 0, 0, cases(1, 4)
    for n in range(ran):
        pair = _pair(app, make_master, how, path, n)
        item_svc.create_item(pair.tracker(), {"title": f"once {n}"}, username="t")
        pair.strike(("500_applied", "cut_before", "stall", "truncated")[n % 4],
                    on="insert_item")
        first = pair.push()
        pair.calm()
        _step(pair, how)
        second = pair.push()
        errors_500 += first.errors_500 + second.errors_500
        dups += len(pair.duplicates())
        notes += [f"the retry failed: {m}" for m in second.messages]
        notes += pair.differences()
    _row(notes, ran, "fault", f"master clock stepped {how} between a lost insert and its retry",
         errors_500=errors_500, duplicated=dups, path=path)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("how", STEPS)
def test_clock_step_before_a_check(app, db, make_master, how, path):
    """The sync tab's check sees a master edit made after the step; the reload then takes it."""
    notes, errors_500, ran = [], 0, cases(1, 4)
    for n in range(ran):
        pair = _pair(app, make_master, how, path, n)
        _step(pair, how)
        _master_edit(pair, 2, "amount", "222")
        checked = pair.check()
        item = Item.get(Item.tracker == pair.tracker_id, Item.remote_id == 2)
        base = Baseline.get_or_none(Baseline.item == item.id)
        if base is None or (base.theirs or {}).get("amount") != "222":
            notes.append(f"{how}: the check missed the master's edit after the step")
        reloaded = pair.reload()
        errors_500 += checked.errors_500 + reloaded.errors_500
        notes += checked.messages + reloaded.messages + pair.differences()
    _row(notes, ran, "fault", f"master clock stepped {how} before a check", errors_500=errors_500,
         path=path)


CHANGES = ("deletes early in the list", "deletes late in the list", "edits", "deletes and edits")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("change", CHANGES)
def test_master_changes_during_a_reload(app, db, make_master, change, path):
    """While the pages are read, the master deletes and edits items: no live item is deleted
    here, and the next reload converges."""
    notes, errors_500 = [], 0
    variants = [(n, order) for n in range(2) for order in (False, True)]
    ran = cases(1, len(variants))
    for n, unordered in variants[:ran]:
        pair = _make(app, make_master, path, n, items=40, max_records_cap=6,
                     unordered=unordered)
        master = pair.master
        ids = sorted(master.items)
        doomed = ids[:6] if "early" in change or change == "deletes and edits" else ids[-8:-2]
        edited = ids[10:14]

        def meanwhile(stage, action, number, master=master, doomed=doomed, edited=edited):
            if stage == "before" and action == "list_items" and \
                    master.faults.seen["list_items"] == 3:
                if "deletes" in change:
                    for item_id in doomed:
                        master.delete_item(item_id)
                if "edits" in change:
                    for item_id in edited:
                        master.items[item_id]["fields"]["title"] = f"edited during {item_id}"
                        master.items[item_id]["lastModif"] = master.now()

        master.faults.clear()
        master.faults.hook = meanwhile
        first = pair.reload()
        master.faults.clear()
        live = set(master.items)
        here = {rid for rid in pair.clone_rows() if not isinstance(rid, tuple)}
        notes += [f"{change}: live remote item {rid} was deleted here" for rid in live - here]
        second = pair.reload()
        errors_500 += first.errors_500 + second.errors_500
        notes += first.messages + second.messages + pair.differences()
    _row(notes, ran, "fault", f"master {change} during a reload", errors_500=errors_500,
         path=path)


@pytest.mark.parametrize("path", PATHS)
def test_local_edits_during_a_reload(app, db, make_master, path):
    """People edit and add items here while a reload holds the database: their work waits
    for it, is saved, never lost, and the next push sends it."""
    notes, errors_500, ran = [], 0, cases(1, 3)
    for n in range(ran):
        pair = _make(app, make_master, path, n, items=40, max_records_cap=6)
        pair.master.items[1]["fields"]["title"] = "changed on the master"
        target = Item.get(Item.tracker == pair.tracker_id, Item.remote_id == 5)
        data = dict(item_form(pair.web, app, target.id),
                    v_title=f"edited here during the reload {n}")
        held = HeldReload(app, pair.master, pair.tracker(), page_size=6)
        threading.Timer(0.3, held.gate.set).start()
        saved = pair.web.post(url(app, "tikisync.item_edit", item_id=target.id), data=data)
        held.release()
        if saved.status_code >= 500 and saved.status_code != 503:
            errors_500 += 1
        if saved.status_code != 303:
            notes.append(f"the edit during the reload answered {saved.status_code}")
        if Item.get_by_id(target.id).values["title"] != data["v_title"]:
            notes.append("the edit made during the reload was lost")
        pushed = pair.push()
        errors_500 += pushed.errors_500
        notes += pushed.messages + pair.differences()
        if pair.master.items[5]["fields"]["title"] != data["v_title"]:
            notes.append("the edit made during the reload did not reach the master")
    _row(notes, ran, "fault", "local edits during a reload", errors_500=errors_500, path=path)

"""The operations of the reliability suites as scenarios (tests/test_reliability_faults.py,
tests/test_reliability_crash.py): the work there is to do before each, what a failed attempt
must have left alone, and what must hold once it succeeded.

    scenario = Scenario("push new", pair)   # clone, reload, push new, push edit, resolve
    scenario.prepare()                      # three items made here, say
    outcome = scenario.run()                # through the UI
    scenario.intact(), scenario.converged() # [] or what is wrong
    actions("push new", "B", make_pair)     # the API actions it asks for when nothing fails
"""
from tests.support.faultkit import clear
from tests.support.sync import tracker_state
from tikisync_web import items as item_svc
from tikisync_web.models import Item, Tracker
from tikisync_web.sync import status as status_mod

OPERATIONS = ("clone", "reload", "push new", "push edit", "resolve")
# A push of edits to a master that takes them in one request (ours: update_items), on a pair
# whose master has BATCHED (Pair.make's keywords).
BATCHED = "push edit batched"
BATCHED_MASTER = {"batch_updates": True, "item_id_filter": True, "with_times": True}
WRITES = ("insert_item", "update_item", "update_items")


class Scenario:
    """One operation on a fresh pair: `prepare` makes the work there is to do, `run` does it
    as a user does, `intact` says what a failed attempt must have left alone, `converged`
    what must hold once it succeeded."""

    def __init__(self, op, pair):
        self.op, self.pair, self.made = op, pair, {}

    def prepare(self):
        getattr(self, "_prepare_" + self.op.replace(" ", "_"))()

    def run(self):
        return getattr(self, "_run_" + self.op.replace(" ", "_"))()

    # clone: nothing exists here yet
    def _prepare_clone(self):
        self.made["trackers"] = Tracker.select().count()

    def _run_clone(self):
        return self.pair.clone()

    # reload: the master changed, and so did the clone
    def _prepare_reload(self):
        master, pair = self.pair.master, self.pair
        master.items[2]["fields"]["title"] = "renamed on the master"
        master.items[3]["fields"]["priority"] = "high"
        master.add_item(1, {"title": "added on the master", "amount": "1"})
        master.delete_item(5)
        mine = Item.get(Item.tracker == pair.tracker_id, Item.remote_id == 3)
        item_svc.update_item(mine, {"amount": "333"}, username="t")
        new = item_svc.create_item(pair.tracker(), {"title": "made here"}, username="t")
        self.made.update(edited=mine.id, new=new.id, before=tracker_state(pair.tracker()))

    def _run_reload(self):
        return self.pair.reload()

    # push new: three items made here
    def _prepare_push_new(self):
        tracker = self.pair.tracker()
        self.made["new"] = [item_svc.create_item(tracker, {"title": f"new {n}", "amount": str(n)},
                                                 username="t").id for n in range(3)]

    def _run_push_new(self):
        return self.pair.push()

    # push edit: three synchronized items edited here
    def _prepare_push_edit(self):
        for remote_id in (1, 4, 7):
            item = Item.get(Item.tracker == self.pair.tracker_id, Item.remote_id == remote_id)
            item_svc.update_item(item, {"amount": f"{remote_id}00", "title": f"edited {remote_id}"},
                                 username="t")

    def _run_push_edit(self):
        return self.pair.push()

    _prepare_push_edit_batched = _prepare_push_edit
    _run_push_edit_batched = _run_push_edit

    # resolve: two conflicts; check, keep mine for one and take theirs for the other, push
    def _prepare_resolve(self):
        master, tracker_id = self.pair.master, self.pair.tracker_id
        for remote_id, perm, mine, theirs in ((2, "title", "mine 2", "theirs 2"),
                                              (4, "amount", "40", "400")):
            item = Item.get(Item.tracker == tracker_id, Item.remote_id == remote_id)
            item_svc.update_item(item, {perm: mine}, username="t")
            master.items[remote_id]["fields"][perm] = theirs
            master.items[remote_id]["lastModif"] = master.now()
            self.made[remote_id] = item.id

    def _run_resolve(self):
        pair = self.pair
        checked = pair.check()
        if not checked.ok:
            return checked
        conflicts = set(status_mod.classify(pair.tracker())["conflicts"])
        for remote_id, perm, side in ((2, "title", "mine"), (4, "amount", "theirs")):
            if self.made[remote_id] in conflicts:
                resolved = pair.resolve(self.made[remote_id], {perm: side})
                if not resolved.ok:
                    return resolved
        pushed = pair.push()
        pushed.errors_500 += checked.errors_500
        return pushed

    # --- after a failed attempt: what it must have left alone --------------------------------
    def intact(self):
        """Problems a failed attempt left behind (nothing half-written, nothing lost)."""
        pair, made = self.pair, self.made
        if self.op == "clone":
            return ["a failed clone created a tracker"] \
                if Tracker.select().count() != made["trackers"] else []
        if self.op == "reload":
            return ["a failed reload changed the clone"] \
                if tracker_state(pair.tracker()) != made["before"] else []
        return []

    # --- after the retry: master and clone agree, and hold what they should -----------------
    def converged(self):
        pair, made, master = self.pair, self.made, self.pair.master
        if self.op == "clone":
            return self._clone_converged()
        problems = pair.differences()
        rows = pair.clone_rows()
        if self.op == "reload":
            # The local edit and the local item stay; everything else is the master's.
            edited = Item.get_by_id(made["edited"])
            problems = [p for p in problems if not p.startswith((
                f"item {edited.remote_id}:", f"local item {made['new']} "))]
            if edited.values.get("amount") != "333" or ("new", made["new"]) not in rows:
                problems.append("a local change was lost by the reload")
            if edited.values.get("priority") != "high":
                problems.append("the master's change to a locally edited item was not taken")
        elif self.op == "push new":
            titles = sorted(i["fields"]["title"] for i in master.tracker_items(1)
                            if i["fields"]["title"].startswith("new "))
            if titles != ["new 0", "new 1", "new 2"]:
                problems.append(f"the master holds {titles}")
        elif self.op in ("push edit", BATCHED):
            for remote_id in (1, 4, 7):
                if master.items[remote_id]["fields"]["amount"] != f"{remote_id}00":
                    problems.append(f"the edit of item {remote_id} did not reach the master")
        elif self.op == "resolve":
            if (master.items[2]["fields"]["title"], master.items[4]["fields"]["amount"]) != \
                    ("mine 2", "400"):
                problems.append("the master does not hold the values chosen")
        return problems

    def _clone_converged(self):
        trackers = Tracker.select().count() - self.made["trackers"]
        if trackers != 1:
            return [f"{trackers} trackers were made by the clone"]
        perms = {f.perm_name for f in self.pair.tracker().fields}
        return [] if perms == {"title", "amount", "priority", "assignee", "due"} else \
            [f"the clone has the fields {sorted(perms)}"]


def run_case(pair, op, strike, never=()):
    """Run one case of the fault matrix: prepare, the attempt under the fault (`strike()` arms
    it and returns the words a message about it must carry; one holding any of `never` is
    unclear too), the retry; returns the row {lost, duplicated, errors_500, unclear, notes}."""
    scenario = Scenario(op, pair)
    scenario.prepare()
    words = strike()
    first = scenario.run()
    pair.calm()
    if pair.master.server is None:
        pair.up()
    row = {"lost": 0, "duplicated": 0, "errors_500": first.errors_500, "unclear": 0,
           "notes": []}
    if not first.ok:
        unclear = [m for m in first.messages
                   if not clear(m, words) or any(phrase in m for phrase in never)]
        row["unclear"] += len(unclear)
        row["notes"] += [f"unclear: {m}" for m in unclear]
        half = scenario.intact()
        row["lost"] += len(half)
        row["notes"] += half
    row["duplicated"] += len(pair.duplicates()) if op != "clone" else 0
    # The retry: the same operation again (a clone that succeeded is not made twice).
    retry = scenario.run() if op != "clone" or not first.ok else first
    row["errors_500"] += retry.errors_500 if retry is not first else 0
    if not retry.ok:
        row["lost"] += 1
        row["notes"].append(f"the retry did not converge: {retry.messages}")
    problems = scenario.converged()
    row["lost"] += len(problems)
    row["notes"] += problems
    if op != "clone":
        dups = pair.duplicates()
        row["duplicated"] += len(dups)
        row["notes"] += [f"duplicated on the master: {d}" for d in dups]
    return row


def add_row(total, row):
    for key in ("lost", "duplicated", "errors_500", "unclear"):
        total[key] += row[key]
    total["notes"] += row["notes"]


_ACTIONS = {}


def actions(op, gen, make_pair, variant=""):
    """The API actions the operation asks the master for, in order, when nothing fails
    (found once per session and `variant` of the pairs, on a pair of its own made by
    `make_pair(gen)`)."""
    key = (op, gen, variant)
    if key not in _ACTIONS:
        _ACTIONS[key] = _measure(op, make_pair(gen))
    return _ACTIONS[key]


def _measure(op, pair):
    scenario = Scenario(op, pair)
    scenario.prepare()
    seen = []
    pair.master.faults.clear()
    pair.master.faults.hook = lambda stage, action, number: \
        seen.append(action) if stage == "before" else None
    outcome = scenario.run()
    pair.master.faults.clear()
    assert outcome.ok and not scenario.converged(), (op, outcome.messages)
    return tuple(seen)

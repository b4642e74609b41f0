"""Crash points: `tikisync reload` and `tikisync push` run as real processes and are killed
with SIGKILL while the fake master holds their k-th request (a write: after the master applied
it, before its answer), then run again. Nothing lost, nothing duplicated, nothing
half-written, and the rerun starts at once (no "already running" until a lock goes stale).

Quick profile (make test): a read in the middle of a reload, and the first write of each
push. Thorough (make reliability): every request each of them makes.
"""
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.support.faultkit import Pair
from tests.support.report import record, thorough
from tests.support.scenarios import WRITES, Scenario, actions
from tests.support.sync import tracker_state
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.reliability, pytest.mark.slow]
BIN = Path(sys.executable).parent
CRASHED = ("reload", "push new", "push edit")


def cli(app, tmp_path, *args):
    """`tikisync ARGS` in a process (group) of its own, on the app's database."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TIKISYNC_")}
    environment.update({"TIKISYNC_DATABASE": app.config["TIKISYNC_DATABASE"],
                        "TIKISYNC_SECRET_KEY": app.config["SECRET_KEY"],
                        "TIKISYNC_INSTANCE": str(tmp_path / "instance"),
                        "TIKISYNC_HTTP_TIMEOUT": "10", "TIKISYNC_HTTP_BACKOFF": "0"})
    return subprocess.Popen([str(BIN / "tikisync"), *map(str, args)], env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


class Trap:
    """Holds the master at its `at`-th API request (after applying a write, before a read)."""

    def __init__(self, master, at):
        self.held, self.gate = threading.Event(), threading.Event()
        master.faults.clear()

        def hold(stage, action, number):
            wanted = "applied" if action in WRITES else "before"
            if stage == wanted and master.faults.seen[None] == at and not self.held.is_set():
                self.held.set()
                self.gate.wait(60)

        master.faults.hook = hold


def command(op, pair):
    return ("reload", pair.tracker_id, "--json") if op == "reload" else \
        ("push", pair.tracker_id, "--json")


def crash_at(app, tmp_path, op, pair, at):
    """Kill the operation at request `at` and run it again; the problems found, or None when
    the operation ended before that request."""
    scenario = Scenario(op, pair)
    scenario.prepare()
    before = tracker_state(pair.tracker())
    trap = Trap(pair.master, at)
    process = cli(app, tmp_path, *command(op, pair))
    try:
        wait_until(lambda: trap.held.is_set() or process.poll() is not None, tries=3000,
                   pause=0.02, what=f"{op} to reach request {at}")
        if not trap.held.is_set():
            process.communicate(timeout=30)
            return None
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=30)
    finally:
        trap.gate.set()
    pair.master.faults.clear()
    problems = []
    if op == "reload" and tracker_state(pair.tracker()) != before:
        problems.append(f"the killed reload left the clone half-written (request {at})")
    problems += [f"duplicated on the master after the kill: {d}" for d in pair.duplicates()]
    again = cli(app, tmp_path, *command(op, pair))
    out, err = again.communicate(timeout=120)
    if again.returncode != 0:
        problems.append(f"the rerun failed ({again.returncode}): {err.strip()[:300]}")
    problems += [f"after the rerun: {p}" for p in scenario.converged()]
    return problems


def points(op, sequence):
    if thorough():
        return list(range(1, len(sequence) + 1))
    writes = [n for n, a in enumerate(sequence, start=1) if a in WRITES]
    if writes:
        return [writes[0]]
    return [len(sequence) // 2 + 1]  # a page in the middle of the reload


@pytest.mark.parametrize("op", CRASHED)
def test_kill_9_then_rerun(app, db, make_master, tmp_path, op):
    def make_pair(gen):
        return Pair.make(app, make_master, gen=gen, items=30, max_records_cap=6)

    problems, ran, duplicated = [], 0, 0
    for gen in ("B", "A") if thorough() else ("B",):
        for at in points(op, actions(op, gen, make_pair, "crash")):
            pair = make_pair(gen)
            found = crash_at(app, tmp_path, op, pair, at)
            if found is None:
                continue
            ran += 1
            duplicated += len(pair.duplicates())
            problems += [f"{gen}, request {at}: {p}" for p in found]
    record("crash", f"kill -9 during {op}, then a rerun", ran,
           lost=len([p for p in problems if "duplicated" not in p]), duplicated=duplicated)
    assert ran and problems == [] and duplicated == 0, problems

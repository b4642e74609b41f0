"""Reload as a separate process: killed in the middle, the clone is left exactly as before."""
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.sync import client, connect, make_clone, tracker_state
from tests.support.waiting import wait_until
from tikisync_web import items as item_svc
from tikisync_web.models import Item, Job
from tikisync_web.sync import reload as reload_mod

BIN = Path(sys.executable).parent


def cli(app, *args, env=None):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TIKISYNC_")}
    environment.update({"TIKISYNC_DATABASE": app.config["TIKISYNC_DATABASE"],
                        "TIKISYNC_SECRET_KEY": app.config["SECRET_KEY"]}, **(env or {}))
    return subprocess.Popen([str(BIN / "tikisync"), *map(str, args)], env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def test_killed_reload_changes_nothing_and_the_next_one_runs(app, db, fake_master):
    for n in range(60):
        fake_master.add_item(1, {"title": f"remote {n}"})
    connect(app, fake_master)
    tracker = make_clone(app, fake_master)
    with client(app, fake_master.url) as c:
        reload_mod.reload(tracker, c)
    item_svc.update_item(Item.get(Item.remote_id == 1), {"title": "edited here"}, username="t")
    item_svc.create_item(tracker, {"title": "new here"}, username="t")
    for n in range(40):
        fake_master.add_item(1, {"title": f"later {n}"})
    fake_master.items[2]["fields"]["title"] = "edited on the master"
    before = tracker_state(tracker)

    fake_master.settings.max_records_cap = 10  # 11 pages...
    fake_master.settings.delay = 0.15  # ...each slow enough to be caught in the middle
    fake_master.page_count = 0
    process = cli(app, "reload", tracker.id, "--json")
    wait_until(lambda: fake_master.page_count >= 4 or process.poll() is not None,
               tries=1500, pause=0.02, what="the reload to ask for its fourth page")
    assert process.poll() is None, process.communicate()
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=10)
    assert 4 <= fake_master.page_count < 11  # it really was stopped half-way

    assert tracker_state(tracker) == before
    stuck = Job.get(Job.kind == "reload")
    assert stuck.state == "running" and stuck.lock_key  # what the killed process left

    # Its worker (this host, that pid) is gone: the rerun takes the job over at once, without
    # waiting for the heartbeat to go stale (a minute by default).
    fake_master.settings.delay = 0
    again = cli(app, "reload", tracker.id, "--json")
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    assert Job.get_by_id(stuck.id).state == "interrupted"
    titles = {i.values.get("title") for i in Item.select().where(Item.tracker == tracker)}
    assert {"edited here", "new here", "edited on the master", "later 39"} <= titles

"""`tikisync schedule …`, `tikisync run-due` (cron) and `tikisync worker` running due schedules."""
import json

import pytest

from tests.support.schedules import synced_clone
from tikisync_web.jobs import schedules
from tikisync_web.models import Job, Schedule, Tracker, User


@pytest.fixture
def clone(app, db, fake_master):
    return synced_clone(app, fake_master)


def cli(runner, *args):
    return runner.invoke(args=["tikisync", *args])


def test_set_list_pause_resume_remove(runner, clone, clock):
    result = cli(runner, "schedule", "set", str(clone.id), "--reload-every", "2h",
                 "--check-every", "15m", "--auto-push", "safe")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"tracker {clone.id}: reload every 2h, check every 15m, "
                                    "auto-push safe; next: check at ")
    listed = cli(runner, "schedule", "list", "--json")
    [row] = json.loads(listed.output)
    assert {k: row[k] for k in ("tracker", "reload_every", "check_every", "auto_push",
                                "next_run", "last_outcome", "paused")} == {
        "tracker": clone.id, "reload_every": 7200, "check_every": 900, "auto_push": "safe",
        "next_run": schedules.iso(clock() + 900), "last_outcome": None, "paused": False}
    # Options not given are kept.
    assert cli(runner, "schedule", "set", str(clone.id), "--check-every", "off").exit_code == 0
    row = schedules.for_tracker(clone)
    assert (row.reload_every, row.check_every, row.auto_push) == (7200, None, "safe")

    assert cli(runner, "schedule", "pause", str(clone.id)).exit_code == 0
    assert json.loads(cli(runner, "schedule", "list", "--json").output)[0]["paused"] is True
    clock.advance(7200)
    assert cli(runner, "run-due").output == ("nothing was due; 1 paused schedule(s): see "
                                             "`tikisync schedule list`\n")
    resumed = cli(runner, "schedule", "resume", str(clone.id))
    assert resumed.exit_code == 0 and f"next: reload at {schedules.iso(clock())}" in resumed.output
    assert cli(runner, "schedule", "remove", str(clone.id)).exit_code == 0
    assert json.loads(cli(runner, "schedule", "list", "--json").output) == []


@pytest.mark.parametrize("option, value", [("--reload-every", "15x"), ("--check-every", "5"),
                                           ("--reload-every", "10s"), ("--check-every", "99d")])
def test_a_bad_duration_is_one_line_and_exit_2(runner, clone, option, value):
    result = cli(runner, "schedule", "set", str(clone.id), option, value)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {option}: '{value}' ")
    assert Schedule.select().count() == 0


def test_refusals(runner, clone, db):
    local = Tracker.create(name="Local")
    cases = [
        (["schedule", "set", str(local.id), "--reload-every", "1h"], 1, "is local"),
        (["schedule", "set", "999", "--reload-every", "1h"], 1, "no tracker 999"),
        (["schedule", "set", str(clone.id)], 2, "needs --reload-every or --check-every"),
        (["schedule", "pause", str(clone.id)], 1, "has no schedule"),
        (["schedule", "set", str(clone.id), "--reload-every", "1h", "--webhook",
          "https://hooks.example.net/x"], 1, "hooks.example.net"),
    ]
    for args, code, words in cases:
        result = cli(runner, *args)
        assert result.exit_code == code, (args, result.output)
        assert words in result.output
        assert len(result.output.strip().splitlines()) == 1, result.output
    assert Schedule.select().count() == 0


def test_run_due_runs_what_is_due_and_exits(runner, clone, clock, fake_master):
    cli(runner, "schedule", "set", str(clone.id), "--reload-every", "15m")
    nothing = cli(runner, "run-due", "--json")
    assert nothing.exit_code == 0 and json.loads(nothing.output) == {"ran": []}
    clock.advance(900)
    result = cli(runner, "run-due", "--json")
    assert result.exit_code == 0, result.output
    [ran] = json.loads(result.output)["ran"]
    assert {k: ran[k] for k in ("tracker", "kind", "outcome")} == {
        "tracker": clone.id, "kind": "reload", "outcome": "ok"}
    assert json.loads(cli(runner, "run-due", "--json").output) == {"ran": []}  # once
    fake_master.settings.answer_status = 503
    runner.app.config["TIKISYNC_HTTP_BACKOFF"] = 0
    clock.advance(900)
    failed = cli(runner, "run-due")
    assert failed.exit_code == 1
    assert failed.output.startswith(f"tracker {clone.id}: reload failed: the master failed (503")


def test_user_add_takes_an_email(runner, db):
    result = cli(runner, "user", "add", "ann", "--role", "admin", "--password", "long enough",
                 "--email", "ann@example.org")
    assert result.exit_code == 0, result.output
    assert User.get(User.username == "ann").email == "ann@example.org"
    bad = cli(runner, "user", "add", "bob", "--role", "admin", "--password", "long enough",
              "--email", "bob at example")
    assert bad.exit_code == 1 and "not an email address" in bad.output
    assert not User.select().where(User.username == "bob").exists()


def test_worker_runs_due_schedules_and_exits_when_idle(runner, clone, clock):
    cli(runner, "schedule", "set", str(clone.id), "--check-every", "5m")
    clock.advance(300)
    result = runner.invoke(args=["tikisync", "worker", "--exit-when-idle", "--poll", "0.05"])
    assert result.exit_code == 0, result.output
    assert "worker stopped after 1 job(s)" in result.output
    [job] = Job.select().where(Job.kind == "auto-check")
    assert (job.state, job.runner) == ("done", "worker")
    clock.advance(300)
    skipped = runner.invoke(args=["tikisync", "worker", "--exit-when-idle", "--no-schedules"])
    assert "after 0 job(s)" in skipped.output
    assert schedules.for_tracker(clone).next_check == clock()  # still due, left to others

"""Child-process side of the benchmarks: one command per process, against the site whose
database the environment names (TIKISYNC_DATABASE). Prints one JSON line at the end.

    _worker.py seed TRACKER_NAME N STAMP    a tracker of 10 fields and N items (bulk insert)
    _worker.py token                        an API token for admin
    _worker.py reload TRACKER_ID [--tracemalloc]   our reload, as `tikisync reload` runs it
    _worker.py status TRACKER_ID            check_remote + classify (CPU and wall time)
    _worker.py push TRACKER_ID [--no-force] plan + push of the local edits, as the CLI runs it
    _worker.py edit-local TRACKER_ID FIRST_REMOTE_ID EDITS
    _worker.py edit-master TRACKER_ID FIRST_ID EDITS
"""
import json
import os
import sys
import time
from pathlib import Path

import _data


def rss_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def reset_peak():
    """Reset the kernel's peak-RSS mark (VmHWM) so it covers only what follows."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def out(payload):
    print(json.dumps(payload))


class profiled:
    """cProfile of the timed part (main thread) when BENCH_PROFILE names an output file."""

    def __enter__(self):
        self.path = os.environ.get("BENCH_PROFILE")
        if self.path:
            import cProfile
            self.profile = cProfile.Profile()
            self.profile.enable()
        return self

    def __exit__(self, *exc):
        if self.path:
            self.profile.disable()
            self.profile.dump_stats(self.path)


def seed(app, name, count, stamp):
    """A tracker of the benchmark's 10 fields and `count` items, written with one executemany
    in one transaction (the item service would validate each item: minutes at 100,000)."""
    from tikisync_web.db import database
    from tikisync_web.models import Field, Item, Tracker
    from tikisync_web.sync import bulk
    from tikisync_web.values import content_hash

    count, stamp = int(count), int(stamp)
    started = time.perf_counter()
    with database.atomic():
        tracker = Tracker.create(name=name, description=f"{count} benchmark items")
        for position, (perm, label, code, options) in enumerate(_data.FIELDS, start=1):
            Field.create(tracker=tracker, perm_name=perm, name=label, type=code, options=options,
                         position=position * 10, mandatory=perm == "title",
                         flags={"isTblVisible": "y", "isMain": "y" if position == 1 else "n"})
        names = ["tracker", "status", "values", "search_text", "hash", "created", "modified",
                 "created_by", "modified_by"]
        rows = []
        for n in range(count):
            values, status = _data.values(n), _data.status(n)
            rows.append((tracker.id, status, json.dumps(values, ensure_ascii=False),
                         " ".join(v for v in values.values() if v).lower(),
                         content_hash(values, status), stamp + n // 100, stamp + n // 100,
                         "seed", "seed"))
            if len(rows) == 10000:
                bulk.insert_rows(Item, names, rows)
                rows = []
        bulk.insert_rows(Item, names, rows)
    first = Item.select(Item.id).where(Item.tracker == tracker).order_by(Item.id).first().id
    out({"tracker": tracker.id, "first_id": first, "seconds": time.perf_counter() - started})


def token(app):
    from tikisync_web import accounts
    from tikisync_web.models import User

    out({"token": accounts.create_token(User.get(User.username == "admin"), "bench")})


def _context(app):
    from tikisync_web import jobs

    return jobs.context_from(app.config)


def reload(app, tracker_id, *flags):
    """Our reload exactly as `tikisync reload` runs it (a job, run inline), timed around it."""
    import resource

    from tikisync_web import jobs
    from tikisync_web.models import Tracker

    trace = "--tracemalloc" in flags
    tracker = Tracker.get_by_id(int(tracker_id))
    context = _context(app)
    job = jobs.enqueue("reload", tracker=tracker, username="bench", runner="inline")
    if trace:
        import tracemalloc
        tracemalloc.start()
    rss_before = rss_kib()
    exact_peak = reset_peak()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    with profiled():
        job = jobs.run(job.id, context)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    result = {"seconds": wall, "cpu": cpu, "state": job.state, "error": job.error,
              "counts": job.result, "rss_before_kib": rss_before, "rss_after_kib": rss_kib(),
              "peak_kib": peak_kib() if exact_peak else
              resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "exact_peak": exact_peak}
    if trace:
        result["tracemalloc_peak_kib"] = tracemalloc.get_traced_memory()[1] / 1024
        tracemalloc.stop()
    out(result)


def status(app, tracker_id):
    """`tikisync status` minus printing: ask the master what changed, then classify."""
    from tikisync_web.jobs import handlers
    from tikisync_web.models import Tracker
    from tikisync_web.sync import status as status_mod

    tracker = Tracker.get_by_id(int(tracker_id))
    context = _context(app)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    with handlers.client_for_tracker(tracker, context) as client:
        checked = status_mod.check_remote(tracker, client)
    cpu1, wall1 = time.process_time(), time.perf_counter()
    result = status_mod.classify(tracker)
    cpu2, wall2 = time.process_time(), time.perf_counter()
    out({"cpu": cpu2 - cpu0, "seconds": wall2 - wall0, "check_cpu": cpu1 - cpu0,
         "check_seconds": wall1 - wall0, "classify_cpu": cpu2 - cpu1,
         "classify_seconds": wall2 - wall1, "checked": checked,
         "counts": {k: len(v) for k, v in result.items()}})


def push(app, tracker_id, *flags):
    """`tikisync push --modified [--force]`: plan, then the push job run inline."""
    from tikisync_web import jobs
    from tikisync_web.models import Tracker
    from tikisync_web.sync import push as push_mod

    force = "--no-force" not in flags
    if os.environ.get("BENCH_PUSH_THREADS"):  # to compare thread counts
        push_mod.PUSH_THREADS = int(os.environ["BENCH_PUSH_THREADS"])
    tracker = Tracker.get_by_id(int(tracker_id))
    context = _context(app)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    with profiled():
        plan = push_mod.plan_push(tracker, new=False, modified=True, force=force)
        job = jobs.enqueue("push", tracker=tracker, username="bench", runner="inline",
                           params={"items": plan.entries, "skipped": plan.skipped,
                                   "force": force})
        job = jobs.run(job.id, context)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    result = job.result or {}
    out({"seconds": wall, "cpu": cpu, "state": job.state, "error": job.error,
         "planned": len(plan.entries), "pushed": len(result.get("pushed", [])),
         "failed": len(result.get("failed", [])), "skipped": len(result.get("skipped", [])),
         "first_failures": result.get("failed", [])[:3]})


def edit_local(app, tracker_id, first_remote, edits):
    """The user's edits on the clone, through the item service (as the UI and CLI do)."""
    from tikisync_web import items
    from tikisync_web.models import Item, Tracker

    tracker = Tracker.get_by_id(int(tracker_id))
    fields = tracker.ordered_fields()
    first_remote, edits = int(first_remote), int(edits)
    wanted = {first_remote + _data.ours(k): k for k in range(edits)}
    count = 0
    for item in Item.select().where(Item.tracker == tracker, Item.remote_id.in_(list(wanted))):
        k = wanted[item.remote_id]
        items.update_item(item, _data.local_edit(item.remote_id - first_remote, k),
                          username="bench", fields=fields)
        count += 1
    out({"edited": count})


def edit_master(app, tracker_id, first_id, edits):
    """Other people's edits on the master, through the item service."""
    from tikisync_web import items
    from tikisync_web.models import Item, Tracker

    tracker = Tracker.get_by_id(int(tracker_id))
    fields = tracker.ordered_fields()
    first_id = int(first_id)
    count = 0
    for n, change in _data.master_edits(int(edits)):
        item = Item.get_by_id(first_id + n)
        items.update_item(item, change, username="someone", fields=fields)
        count += 1
    out({"edited": count})


COMMANDS = {"seed": seed, "token": token, "reload": reload, "status": status, "push": push,
            "edit-local": edit_local, "edit-master": edit_master}


def main(argv):
    from tikisync_web.app import create_app
    from tikisync_web.db import database

    command, args = argv[0], argv[1:]
    app = create_app()
    with app.app_context(), database.connection_context():
        COMMANDS[command](app, *args)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main(sys.argv[1:])

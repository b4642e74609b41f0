"""Child-process side of the benchmarks: one command per process, against the site whose
database the environment names (TIKISYNC_DATABASE). Prints one JSON line at the end.

    _worker.py seed TRACKER_NAME N STAMP    a tracker of 10 fields and N items (bulk insert)
    _worker.py token                        an API token for admin
    _worker.py reload TRACKER_ID [--tracemalloc] [--foreground-copy] [--no-fill]
                                            our reload, as `tikisync reload` runs it
    _worker.py status TRACKER_ID            check_remote + classify (CPU and wall time)
    _worker.py push TRACKER_ID [--no-force] plan + push of the local edits, as the CLI runs it
    _worker.py edit-local TRACKER_ID FIRST_REMOTE_ID EDITS [SHIFT]   SHIFT: items ours(k) + SHIFT
    _worker.py edit-master TRACKER_ID FIRST_ID EDITS
    _worker.py master-pages TRACKER_ID      our master's list_items at offset 0 and at the end
    _worker.py browse TRACKER_ID            the item list: pages, sorts and a search
    _worker.py enqueue-reload TRACKER_ID... reload jobs left queued for `tikisync worker`
    _worker.py jobs TRACKER_ID...           those trackers' jobs and reload audit events
    _worker.py download TRACKER_ID...       every page a reload of these clones asks for, dropped
    _worker.py settle                       PostgreSQL: VACUUM ANALYZE the items (autovacuum's job)
    _worker.py drop-search-index            no full-text index (what it costs a reload)
"""
import json
import os
import sys
import time

import _data
from _child import out, peak_kib, pg_server_change, pg_server_state, profiled, reset_peak, rss_kib


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
    seconds = time.perf_counter() - started
    first = Item.select(Item.id).where(Item.tracker == tracker).order_by(Item.id).first().id
    _settle()
    out({"tracker": tracker.id, "first_id": first, "seconds": seconds})


def settle(app):
    _settle()
    out({"settled": True})


def _settle():
    """PostgreSQL: VACUUM ANALYZE the item table, as autovacuum does soon after a bulk load
    (planner statistics; the visibility map that index-only scans and counts need)."""
    import peewee as pw

    from tikisync_web.db import database
    from tikisync_web.models import Item

    if isinstance(database.obj, pw.PostgresqlDatabase):
        database.execute_sql(f'VACUUM ANALYZE "{Item._meta.table_name}"')


def drop_search_index(app):
    """Without the full-text index (to measure what keeping it costs a reload)."""
    import peewee as pw

    from tikisync_web import dbobjects
    from tikisync_web.db import database

    if isinstance(database.obj, pw.PostgresqlDatabase):
        database.execute_sql(f'DROP INDEX IF EXISTS "{dbobjects.PG_SEARCH_INDEX}"')
    elif isinstance(database.obj, pw.SqliteDatabase):
        for name in ("ai", "au", "ad"):
            database.execute_sql(f'DROP TRIGGER IF EXISTS "{dbobjects.FTS_TABLE}_{name}"')
        database.execute_sql(f'DROP TABLE IF EXISTS "{dbobjects.FTS_TABLE}"')  # nothing to fill
    out({"dropped": True})


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
    from tikisync_web.sync import bulk, search_index

    trace = "--tracemalloc" in flags
    # What a change brought, measured in the same run: the COPYs sent by the reload's own
    # thread as before (PostgreSQL), and no index fill after the commit (to save the time).
    bulk.BACKGROUND_COPY = "--foreground-copy" not in flags
    tracker = Tracker.get_by_id(int(tracker_id))
    original, filling = search_index.fill, []
    fill = (lambda *args, **kwargs: 0) if "--no-fill" in flags else original

    def timed_fill(*args, **kwargs):  # the index fill after the commit, timed apart
        if server and not at_commit:  # what the server did up to the reload's commit
            at_commit.update(pg_server_change(server))
        started = time.perf_counter()
        try:
            return fill(*args, **kwargs)
        finally:
            filling.append(time.perf_counter() - started)

    search_index.fill = timed_fill
    context = _context(app)
    job = jobs.enqueue("reload", tracker=tracker, username="bench", runner="inline")
    if trace:
        import tracemalloc
        tracemalloc.start()
    rss_before = rss_kib()
    exact_peak = reset_peak()
    server, at_commit = pg_server_state(), {}
    cpu0, wall0 = time.process_time(), time.perf_counter()
    with profiled():
        job = jobs.run(job.id, context)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    search_index.fill = original
    server = pg_server_change(server)
    result = {"seconds": wall, "fill_seconds": sum(filling), "cpu": cpu,
              "state": job.state, "error": job.error,
              "counts": job.result, "rss_before_kib": rss_before, "rss_after_kib": rss_kib(),
              "peak_kib": peak_kib() if exact_peak else
              resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "exact_peak": exact_peak}
    if trace:
        result["tracemalloc_peak_kib"] = tracemalloc.get_traced_memory()[1] / 1024
        tracemalloc.stop()
    if server:
        result["server"], result["server_c"] = server, at_commit or server
    out(result)


def status(app, tracker_id):
    """`tikisync status` minus printing: ask the master what changed, then classify."""
    from tikisync_web.jobs import handlers
    from tikisync_web.models import Tracker
    from tikisync_web.sync import status as status_mod

    tracker = Tracker.get_by_id(int(tracker_id))
    context = _context(app)
    with profiled():
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
    if os.environ.get("BENCH_PUSH_BATCH") == "0":  # the one-item path, as a Tiki 24+ gets it
        push_mod.UPDATES_IN_BATCHES = False
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


def edit_local(app, tracker_id, first_remote, edits, shift=0):
    """The user's edits on the clone, through the item service (as the UI and CLI do), on
    the items _data.ours names (moved by `shift`: another set of items, for a second push)."""
    from tikisync_web import items
    from tikisync_web.models import Item, Tracker

    tracker = Tracker.get_by_id(int(tracker_id))
    fields = tracker.ordered_fields()
    first_remote, edits, shift = int(first_remote), int(edits), int(shift)
    wanted = {first_remote + _data.ours(k) + shift: k for k in range(edits)}
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


def _median_ms(fn, repeat):
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)[(len(times) - 1) // 2]


def _get(client, path, headers=None):
    response = client.get(path, headers=headers or {})
    if response.status_code != 200:
        text = response.get_data(as_text=True)[:300]
        raise RuntimeError(f"{path}: {response.status_code} {text}")
    return response


def master_pages(app, tracker_id, repeat="5"):
    """Server time (in process: Flask, database, JSON) of Tiki's 20-item list_items pages:
    offset 0; the last page with nothing remembered (a new process walks the grid once);
    the last page as a client reading page after page asks for it; plain SQL OFFSET
    (what the master did before issue 17) at both ends; modifiedSince with 100 changed rows.
    Milliseconds, medians of `repeat`."""
    from tikisync_web import accounts
    from tikisync_web.models import Item, User

    repeat, tracker_id = int(repeat), int(tracker_id)
    token = accounts.create_token(User.get(User.username == "admin"), "bench pages")
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    client = app.test_client()
    count = Item.select().where(Item.tracker == tracker_id).count()
    last = max(0, count - 20)

    def page(offset, **extra):
        query = "&".join(f"{k}={v}" for k, v in extra.items())
        body = _get(client, f"/tiki-api.php?route=trackers/{tracker_id}&format=raw"
                            f"&offset={offset}&maxRecords=20" + ("&" + query if query else ""),
                    headers).get_json()
        return body["result"]

    def cold_last():
        app.extensions.pop("tikisync_master_positions", None)
        page(last)

    def warm_last():
        page(last - 20)  # the page before: its end is remembered
        started = time.perf_counter()
        page(last)
        return (time.perf_counter() - started) * 1000

    def plain(offset):
        return lambda: list(Item.select(Item.id, Item.status, Item.values, Item.created,
                                        Item.modified).where(Item.tracker == tracker_id)
                            .order_by(Item.id).limit(20).offset(offset).tuples())

    first = _median_ms(lambda: page(0), repeat)
    warm = sorted(warm_last() for _ in range(repeat))[(repeat - 1) // 2]
    cold = _median_ms(cold_last, max(1, repeat // 2))
    sql_first, sql_last = _median_ms(plain(0), repeat), _median_ms(plain(last), repeat)
    ids = [row[0] for row in Item.select(Item.id).where(Item.tracker == tracker_id)
           .order_by(Item.id).limit(100).offset(count // 3).tuples()]
    stamp = int(time.time()) + 10 * 365 * 86400
    Item.update(modified=stamp).where(Item.id.in_(ids)).execute()
    since = _median_ms(lambda: page(0, modifiedSince=stamp - 1, maxRecords=100), repeat)
    assert len(page(0, modifiedSince=stamp - 1)) == 20
    out({"items": count, "first_ms": first, "last_warm_ms": warm, "last_cold_ms": cold,
         "sql_first_ms": sql_first, "sql_last_ms": sql_last, "since_100_ms": since})


def browse(app, tracker_id, repeat="3"):
    """Server time of the item list (HTML, as a browser asks for it): the first page, the
    last page, sorts by listed fields and a search. Milliseconds, medians of `repeat`; and
    the first sort by each field (on a large tracker, it makes the field's sort index)."""
    from tikisync_web.models import Item, User
    from tikisync_web.views.common import GENERATION_KEY, SESSION_KEY

    repeat, tracker_id = int(repeat), int(tracker_id)
    admin = User.get(User.username == "admin")
    client = app.test_client()
    with client.session_transaction() as session:
        session.update({SESSION_KEY: admin.id, GENERATION_KEY: admin.session_generation})
    count = Item.select().where(Item.tracker == tracker_id).count()
    pages = max(1, -(-count // int(app.config["TIKISYNC_PAGE_SIZE"])))
    word = _data.values(count // 2)["title"].split(":")[0].lower()  # "item 000123": one item
    base = f"/trackers/{tracker_id}/items"
    cases = {"first page": "", "last page": f"?page={pages}",
             "middle page": f"?page={pages // 2}", "sort by title": "?sort=title",
             "sort by amount (number), desc": "?sort=amount&dir=desc",
             "sort by due, page 2": "?sort=due&page=2", "sort by modified": "?sort=modified",
             "search one item": "?q=" + word.replace(" ", "+"),
             "search a common word": "?q=network"}
    fragment = {"HX-Request": "true", "HX-Target": "item-table"}
    result, first_sort = {}, {}
    for label, query in cases.items():
        started = time.perf_counter()
        _get(client, base + query, fragment)  # warm-up (a sort by a field makes its index)
        if label.startswith("sort by") and "modified" not in label:
            first_sort[label] = (time.perf_counter() - started) * 1000
        result[label] = _median_ms(lambda q=query: _get(client, base + q, fragment), repeat)
    out({"items": count, "ms": result, "first_sort_ms": first_sort})


def enqueue_reload(app, *tracker_ids):
    """Reload jobs for `tikisync worker` processes (runner "worker"), queued in this order."""
    from tikisync_web import jobs
    from tikisync_web.models import Tracker

    queued = [jobs.enqueue("reload", tracker=Tracker.get_by_id(int(t)), username="bench",
                           runner="worker").id for t in tracker_ids]
    out({"jobs": queued})


def download(app, *tracker_ids):
    """Every page a reload of these clone trackers asks its master for, asked for the same
    way (the reload's page size, pages ahead, client) and dropped: what bench/_replay.py
    keeps."""
    from tikisync_web.jobs import context_from
    from tikisync_web.jobs.handlers import client_for_tracker
    from tikisync_web.models import Tracker
    from tikisync_web.sync import reload as reloading

    pages = 0
    for tracker_id in tracker_ids:
        tracker = Tracker.get_by_id(int(tracker_id))
        with client_for_tracker(tracker, context_from(app.config)) as client:
            client.export_fields(tracker.remote_tracker_id)
            for _ in client.iter_item_pages(tracker.remote_tracker_id,
                                            page_size=reloading.PAGE_SIZE,
                                            ahead=reloading.AHEAD):
                pages += 1
    out({"pages": pages})


def jobs_of(app, *tracker_ids):
    """Every job of these trackers (who ran it, when) and how many reloads the audit log
    holds for each: a job run twice shows as two audit events of one tracker."""
    from tikisync_web.models import AuditEvent, Job

    ids = [int(t) for t in tracker_ids]
    rows = [{"id": j.id, "tracker": j.tracker_id, "state": j.state, "worker": j.worker,
             "started": j.started, "finished": j.finished, "error": j.error}
            for j in Job.select().where(Job.tracker.in_(ids)).order_by(Job.id)]
    audits, committed = {}, {}
    for event in AuditEvent.select().where(AuditEvent.action == "tracker.reload",
                                           AuditEvent.tracker.in_(ids)):
        audits[event.tracker_id] = audits.get(event.tracker_id, 0) + 1
        committed[event.tracker_id] = event.at  # written just before the reload's commit
    out({"jobs": rows, "reload_audits": audits, "committed": committed})


COMMANDS = {"seed": seed, "token": token, "reload": reload, "status": status, "push": push,
            "edit-local": edit_local, "edit-master": edit_master,
            "master-pages": master_pages, "browse": browse, "settle": settle,
            "drop-search-index": drop_search_index, "enqueue-reload": enqueue_reload,
            "download": download, "jobs": jobs_of}


def main(argv):
    from tikisync_web.app import create_app
    from tikisync_web.db import database

    command, args = argv[0], argv[1:]
    app = create_app()
    # Not a connection_context: the in-process requests of master-pages and browse close the
    # connection at their teardown, and the next query opens it again.
    with app.app_context():
        database.connect(reuse_if_open=True)
        try:
            COMMANDS[command](app, *args)
        finally:
            if not database.is_closed():
                database.close()


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main(sys.argv[1:])

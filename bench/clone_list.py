"""The item list of a large clone (issue 17): server time and SQL statements of what a user of
a clone asks for, against the same on a clone of 1,000 items measured in the same run.

For each backend, a master site holds N items (default 200,000) and 1,000 items (bench/
_data.py's 10 fields); a clone site on the same backend clones and reloads both; E items of
each clone are edited there and E on the master (default 2,000; a tenth of them the same
fields both sides: conflicts), and each clone checks its master. Then, signed in as an
admin (so every page also counts the header's conflicts badge), the clone's item list:

  first page, page 2    with the Sync column (each shown item's state)
  state=modified        the sync-state filters: items changed here, in conflict, in sync
  state=conflict
  state=in_sync
  credentials page      a page with little else than the header's badge

    .venv/bin/python bench/clone_list.py --items 200000 --backends sqlite,postgresql
    .venv/bin/python bench/clone_list.py --quick          # smoke run: N = 5,000

Medians of `--repeat` runs after a warm-up, in process (Flask, database, templates).
Nothing here asserts a timing; figures move by tens of per cent on a shared host.
"""
import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import ROOT, PostgresDatabases, Site, Workspace, load, table  # noqa: E402

SMALL = 1000
CASES = {"first page": "", "page 2": "?page=2", "state=modified": "?state=modified",
         "state=conflict": "?state=conflict", "state=in_sync": "?state=in_sync"}


def measure(tracker_id, repeat):
    """In the clone site's process: {case: (median ms, SQL statements)}."""
    from _worker import _get, _median_ms
    from playhouse.test_utils import count_queries

    from tikisync_web.app import create_app
    from tikisync_web.db import database
    from tikisync_web.models import User
    from tikisync_web.views.common import GENERATION_KEY, SESSION_KEY

    app = create_app()
    with app.app_context():
        database.connect(reuse_if_open=True)
        admin = User.get(User.username == "admin")
        client = app.test_client()
        with client.session_transaction() as session:
            session.update({SESSION_KEY: admin.id, GENERATION_KEY: admin.session_generation})
        paths = {label: f"/trackers/{tracker_id}/items{query}"
                 for label, query in CASES.items()}
        paths["credentials page"] = "/credentials"
        fragment = {"HX-Request": "true", "HX-Target": "item-table"}
        result = {}
        for label, path in paths.items():
            headers = fragment if "items" in path else {}
            _get(client, path, headers)  # warm-up
            with count_queries() as counter:
                _get(client, path, headers)
            ms = _median_ms(lambda p=path, h=headers: _get(client, p, h), repeat)
            result[label] = [ms, len(counter.get_queries())]
    print(json.dumps(result))


def _run(site, *args, timeout=3600):
    done = subprocess.run([sys.executable, __file__, "--measure", *map(str, args)], cwd=ROOT,
                          env=site.env, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"measure failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _site(name, ws, backend, pg):
    url = pg.create(name) if backend == "postgresql" else None
    return Site(name, ws.path, db_url=url).setup()


def run_backend(backend, n, edits, ws, pg, repeat):
    print(f"\n--- {backend}: N = {n:,}, {edits:,} edits each side; load average "
          f"{load():.2f}", flush=True)
    master = _site("master", ws, backend, pg)
    stamp = int(time.time()) - 7 * 86400
    trackers = {"big": master.worker("seed", f"Bench {n}", n, stamp, timeout=7200),
                "small": master.worker("seed", f"Bench {SMALL}", SMALL, stamp)}
    token = master.worker("token")["token"]
    master.start()
    clone = _site("clone", ws, backend, pg)
    clone.cli("dsn", "add", "master", master.url, "--method", "bearer", "--token", token,
              "--allow-http")
    figures = {"backend": backend, "n": n, "edits": edits}
    try:
        for size, seeded in trackers.items():
            local = clone.cli("clone", master.url, seeded["tracker"], as_json=True)["tracker"]
            clone.worker("reload", local, timeout=7200)
            count = edits if size == "big" else max(10, edits * SMALL // n)
            clone.worker("edit-local", local, seeded["first_id"], count)
            master.worker("edit-master", seeded["tracker"], seeded["first_id"], count)
            checked = clone.worker("status", local)
            print(f"  {size}: reloaded, edited, checked: {json.dumps(checked['counts'])}; "
                  f"load average {load():.2f}", flush=True)
            figures[size] = _run(clone, local, repeat)
            print(f"  {size}: {json.dumps(figures[size])}; load average {load():.2f}",
                  flush=True)
    finally:
        master.stop()
    return figures


def report(figures):
    print(f"\n{figures['backend']}: clone of {figures['n']:,} items, {figures['edits']:,} "
          f"edits each side (server ms, median; SQL statements)")
    rows = []
    for label, (ms, queries) in figures["big"].items():
        small_ms, small_queries = figures["small"][label]
        rows.append([label, f"{ms:.1f}", str(queries), f"{small_ms:.1f}", str(small_queries),
                     f"{ms / small_ms:.2f}" if small_ms else "-"])
    print(table(rows, ["request", f"{figures['n']:,} ms", "SQL", f"{SMALL:,} ms", "SQL",
                       "ratio"]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=200_000, help="items of the big clone")
    parser.add_argument("--edits", type=int, default=2000, help="edits on each side")
    parser.add_argument("--quick", action="store_true", help="smoke run: N = 5,000")
    parser.add_argument("--backends", default="sqlite,postgresql",
                        help="comma-separated: sqlite, postgresql")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each server timing")
    parser.add_argument("--pg-admin", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--pg-prefix", default="tikisync_clonelist")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--measure", nargs=2, metavar=("TRACKER", "REPEAT"),
                        help=argparse.SUPPRESS)  # the clone site's process (internal)
    args = parser.parse_args(argv)
    if args.measure:
        return measure(int(args.measure[0]), int(args.measure[1]))
    n = 5000 if args.quick else args.items
    edits = min(args.edits, n // 20) if args.quick else args.edits
    print(f"clone list benchmark: N = {n:,}, backends {args.backends}; load average "
          f"{load():.2f}", flush=True)
    results = []
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        pg = PostgresDatabases(args.pg_admin, args.pg_prefix)
        try:
            with Workspace() as ws:
                results.append(run_backend(backend, n, edits, ws, pg, args.repeat))
        finally:
            if pg.names:
                pg.drop_all()
    for figures in results:
        report(figures)
    print(f"\nload average after the run: {load():.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()

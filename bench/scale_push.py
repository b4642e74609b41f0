"""Push at scale (issue 17): 1,000 edits pushed to a master of N items (default 1,000,000),
on SQLite and on PostgreSQL, beside Tiki's algorithm measured in the same run.

A tikisync-web master (gunicorn, 2 workers x 4 threads) holds N items of 10 fields; a clone
site on the same backend reloads them. Three pushes of `--edits` items each (two fields
changed per item, on three disjoint sets of items), one after the other on the same master:

  Tiki    Tiki's sync_edit (bench/sync.py's tiki_push): list what the master changed since
          the last reload (20 per page), then one update_item per item with all its fields,
          sequentially, nothing re-read or verified;
  ours    `tikisync push` as the CLI runs it (bench/_worker.py push): each batch's items
          re-read before (conflicts are not sent) and after (what the master took is
          verified), written in update_items requests of 50, which our master announces;
  ours, one-item path
          the same with the batch route turned off (BENCH_PUSH_BATCH=0): one update_item per
          item, what a real Tiki 24+ gets (it has no update_items), re-read and verified
          the same way.

Printed: seconds, master CPU seconds (gunicorn's processes, from /proc), Tiki/ours (target
>= 4) and master CPU ours/Tiki (target <= 0.6), for ours and for the one-item path, with
the load average beside each push (the host is shared).

    .venv/bin/python bench/scale_push.py                        # N = 1,000,000 (long)
    .venv/bin/python bench/scale_push.py --items 200000 --backends sqlite,postgresql
    .venv/bin/python bench/scale_push.py --quick                # smoke run: N = 5,000
"""
import argparse
import json
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _data  # noqa: E402
from _common import PostgresDatabases, Site, Workspace, load, server_cpu, table, verdict  # noqa: E402
from sync import tiki_clone, tiki_push  # noqa: E402

ONE_ITEM_SHIFT = 7  # the one-item path's items: _data.ours(k) + 7 (Tiki's are + 3)


def _site(name, ws, backend, pg):
    url = pg.create(name) if backend == "postgresql" else None
    return Site(name, ws.path, db_url=url).setup()


def held_values(master, token, tracker_id, ids):
    """{item id: values} as the master answers them (read by id, 200 a request)."""
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/json"})
    found = {}
    for start in range(0, len(ids), 200):
        chunk = ids[start:start + 200]
        answer = session.get(f"{master.url}/tiki-api.php", params={
            "route": f"trackers/{tracker_id}", "format": "raw", "itemId[]": chunk,
            "maxRecords": len(chunk)}, timeout=120)
        answer.raise_for_status()
        found.update((int(r["itemId"]), r["fields"]) for r in answer.json()["result"])
    session.close()
    return found


def missing(held, first, ids):
    return [i for k, i in enumerate(ids)
            if any(held.get(i, {}).get(p) != v for p, v in _data.local_edit(i - first, k).items())]


def _ours(clone, master, local, label, env=None):
    if env:
        clone.env.update(env)
    before, at_load = server_cpu(master), load()
    result = clone.worker("push", local, "--no-force")
    result.update(server_cpu=server_cpu(master) - before, load=at_load)
    for key in env or {}:
        clone.env.pop(key, None)
    print(f"  {label}: {result['pushed']} pushed, {result['failed']} failed in "
          f"{result['seconds']:.2f} s ({result['cpu']:.2f} s CPU here, "
          f"{result['server_cpu']:.2f} s on the master); load {at_load:.2f}", flush=True)
    if result["state"] != "done" or result["failed"]:
        raise RuntimeError(f"{label} failed: {result}")
    return result


def run_backend(backend, n, edits, ws, pg):
    print(f"\n--- {backend}: N = {n:,}, {edits:,} edits a push; load average {load():.2f}",
          flush=True)
    started = time.perf_counter()
    master = _site("master", ws, backend, pg)
    stamp = int(time.time()) - 7 * 86400
    seeded = master.worker("seed", f"Bench {n}", n, stamp, timeout=7200)
    tid, first = seeded["tracker"], seeded["first_id"]
    token = master.worker("token")["token"]
    master.start()
    clone = _site("clone", ws, backend, pg)
    clone.cli("dsn", "add", "master", master.url, "--method", "bearer", "--token", token,
              "--allow-http")
    local = clone.cli("clone", master.url, tid, as_json=True)["tracker"]
    loaded = clone.worker("reload", local, timeout=7200)
    assert loaded["state"] == "done", loaded
    tiki_db = str(ws.path / f"tiki-{backend}.db")
    last = int(time.time())
    tiki_clone(tiki_db, first, n, edits, last)
    print(f"  seeded, cloned and reloaded in {time.perf_counter() - started:.0f} s",
          flush=True)
    time.sleep(1.1)  # Tiki's modifiedSince is strict (lastModif > last), in seconds

    before, at_load = server_cpu(master), load()
    tiki = tiki_push(master.url, token, tid, tiki_db, last)
    tiki.update(server_cpu=server_cpu(master) - before, load=at_load)
    print(f"  Tiki: {tiki['pushed']} pushed in {tiki['seconds']:.2f} s "
          f"({tiki['server_cpu']:.2f} s on the master); load {at_load:.2f}", flush=True)

    clone.worker("edit-local", local, first, edits)
    ours = _ours(clone, master, local, "ours")
    clone.worker("edit-local", local, first, edits, ONE_ITEM_SHIFT)
    single = _ours(clone, master, local, "ours, one-item path", {"BENCH_PUSH_BATCH": "0"})

    sets = {"ours": [first + _data.ours(k) for k in range(edits)],
            "one-item": [first + _data.ours(k) + ONE_ITEM_SHIFT for k in range(edits)],
            "Tiki": [first + _data.tikis(k) for k in range(edits)]}
    held = held_values(master, token, tid, [i for ids in sets.values() for i in ids])
    lost = {name: missing(held, first, ids)[:5] for name, ids in sets.items()}
    master.stop()
    return {"backend": backend, "n": n, "edits": edits, "tiki": tiki, "ours": ours,
            "single": single, "lost": lost, "load_after": load()}


def report(figures):
    rows, lines = [], []
    for f in figures:
        tiki = f["tiki"]
        for label, key in (("ours (update_items, 50 a request)", "ours"),
                           ("ours, one-item path (batch route off)", "single")):
            mine = f[key]
            speed = tiki["seconds"] / mine["seconds"]
            cpu = mine["server_cpu"] / tiki["server_cpu"] if tiki["server_cpu"] else float("nan")
            rows.append([f"{f['backend']} {f['n']:,}", label, f"{mine['seconds']:.2f}",
                         f"{mine['server_cpu']:.2f}", f"{speed:.2f}", f"{cpu:.2f}",
                         f"{mine['load']:.2f}"])
            if key == "ours":
                lines.append(f"{f['backend']} N = {f['n']:,}: push Tiki/ours = {speed:.2f}   "
                             f"target >= 4: {verdict(speed >= 4)};   master CPU ours/Tiki = "
                             f"{cpu:.2f}   target <= 0.6: {verdict(cpu <= 0.6)}")
        rows.append([f"{f['backend']} {f['n']:,}", "Tiki's algorithm", f"{tiki['seconds']:.2f}",
                     f"{tiki['server_cpu']:.2f}", "1.00", "1.00", f"{tiki['load']:.2f}"])
        held = "; ".join(f"{name} {'yes' if not ids else ids}" for name, ids in f["lost"].items())
        lines.append(f"  the master holds every pushed edit: {held}; load average after: "
                     f"{f['load_after']:.2f}")
    print()
    print(table(rows, ["backend, N", "push of the edits", "seconds", "master CPU s",
                       "Tiki/ours", "CPU ours/Tiki", "load"]))
    print()
    print("\n".join(lines))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000, help="items on the master")
    parser.add_argument("--edits", type=int, default=1000, help="edits in each push")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--quick", action="store_true", help="smoke run: N = 5,000, 200 edits")
    parser.add_argument("--pg-admin", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--pg-prefix", default="tikisync_bench_push")
    parser.add_argument("--keep", action="store_true", help="keep the temporary sites")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    n, edits = (5000, 200) if args.quick else (args.items, args.edits)
    assert edits * 10 <= n, "the edit pattern needs N >= 10 x edits"
    figures = []
    print(f"push at scale: N = {n:,}, {edits:,} edits a push; load average {load():.2f}",
          flush=True)
    for backend in args.backends.split(","):
        pg = PostgresDatabases(args.pg_admin, args.pg_prefix) if backend == "postgresql" \
            else None
        try:
            with Workspace(keep=args.keep) as ws:
                figures.append(run_backend(backend, n, edits, ws, pg))
        finally:
            if pg is not None:
                pg.drop_all()
    report(figures)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()

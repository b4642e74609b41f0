"""Sync benchmark (issue 7): status and push on a 100,000-item clone, beside Tiki's algorithm.

A tikisync-web master (gunicorn, 2 workers x 4 threads, SQLite) on loopback serves N items;
a clone reloads them; then 1,000 items are edited on the clone (two fields each) and 1,000
on the master (a tenth of them the same field as a local edit differently: conflicts; a
tenth another field of a locally edited item: merged; the rest elsewhere). Measured:

  status: `check_remote` (what changed on the master, narrowed by modifiedSince on the
      master's clock, confirmed by value) + `classify` (new / modified / conflicts / deleted),
      as CPU time of the process (target: under one second), three runs;
  ours:   `tikisync push --modified --force` as the CLI runs it (plan, then the push job): only
      the changed fields are sent, each item's current master values are re-read before
      writing and re-read after writing to verify, baselines and history are written;
  Tiki:   Tiki's sync_edit (tiki-protocol.md §7.5) against the same master in the same run,
      on 1,000 other items edited the same way in a Tiki-style local copy: local modified
      items (created < last < lastModif), list_items modifiedSince=last 20 per page to split
      them into "safe" and "dangerous", then for every item one update_item with ALL its
      fields and status, sequentially, no verification, and the local copy deleted
      (autocommit). `--force` makes ours write the conflicting items too, as Tiki does.

    .venv/bin/python bench/sync.py            # N = 100,000, 1,000 edits each side
    .venv/bin/python bench/sync.py --quick    # N = 5,000, 200 edits
"""
import argparse
import json
import sqlite3
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _data  # noqa: E402
from _common import Site, Workspace, load, server_cpu, table, verdict  # noqa: E402
from reload import TIKI_PAGE, tiki_database  # noqa: E402


def tiki_clone(db_path, first_id, n, edits, last):
    """Tiki's local copy after its reload at `last`: every item, syncSource = remote id;
    then the user's edits on Tiki's share of the items (lastModif after `last`)."""
    db = tiki_database(db_path)
    db.execute("BEGIN")  # set-up only, not timed
    db.executemany(
        "INSERT INTO tiki_tracker_items (trackerId, status, created, lastModif, createdBy, "
        "fields, syncSource) VALUES (1, ?, ?, ?, 'admin', ?, ?)",
        ((_data.status(k), last - 10, last - 10, json.dumps(_data.values(k)), str(first_id + k))
         for k in range(n)))
    for k in range(edits):
        n_k = _data.tikis(k)
        values = dict(_data.values(n_k), **_data.local_edit(n_k, k))
        db.execute("UPDATE tiki_tracker_items SET fields = ?, lastModif = ? WHERE syncSource = ?",
                   (json.dumps(values), last + 5, str(first_id + n_k)))
    db.execute("COMMIT")
    db.close()


def tiki_push(url, token, remote_tracker_id, db_path, last):
    """Tiki's sync_edit: list, then push both lists whole-item, then delete the local copies."""
    db = sqlite3.connect(db_path, isolation_level=None)  # autocommit, as Tiki's MyISAM
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/json"})
    api = f"{url}/tiki-api.php"
    started = time.perf_counter()
    # 1. local modified, by the local clock
    local = db.execute("SELECT itemId, status, fields, syncSource FROM tiki_tracker_items "
                       "WHERE trackerId = 1 AND created < ? AND lastModif > ?",
                       (last, last)).fetchall()
    # 2. remote modified: list_items modifiedSince=last, 20 per page (the ResultLoader)
    remote_ids, offset, listed = set(), 0, 0
    while True:
        answer = session.get(api, params={"route": f"trackers/{remote_tracker_id}",
                                          "format": "raw", "modifiedSince": last,
                                          "offset": offset, "maxRecords": TIKI_PAGE}, timeout=60)
        answer.raise_for_status()
        rows = json.loads(answer.content)["result"]
        remote_ids.update(int(r["itemId"]) for r in rows)
        listed += 1
        if len(rows) < TIKI_PAGE:
            break
        offset += TIKI_PAGE
    # 3-4. "safe" (automatic) and "dangerous" (manual) lists
    automatic = [row for row in local if int(row[3]) not in remote_ids]
    manual = [row for row in local if int(row[3]) in remote_ids]
    # 5. the remote definition, then every selected item: whole-item update, local copy deleted
    answer = session.get(api, params={"route": f"trackers/{remote_tracker_id}/fields/export"},
                         timeout=60)
    answer.raise_for_status()
    for item_id, status, fields, source in automatic + manual:
        body = [("status", status)] + [(f"fields[{perm}]", value)
                                       for perm, value in json.loads(fields).items()]
        answer = session.post(api, params={"route": f"trackers/{remote_tracker_id}/items/"
                                                    f"{int(source)}"}, data=body, timeout=60)
        answer.raise_for_status()  # Tiki throws and stops the loop on a failed call
        db.execute("DELETE FROM tiki_tracker_items WHERE itemId = ?", (item_id,))
    seconds = time.perf_counter() - started
    db.close()
    session.close()
    return {"seconds": seconds, "pushed": len(local), "safe": len(automatic),
            "dangerous": len(manual), "list_requests": listed}


def master_values(site, ids):
    """{item id: values} straight from the master's database (to check the pushes landed)."""
    db = sqlite3.connect(f"file:{site.db_path}?mode=ro", uri=True)
    found = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for item_id, values in db.execute(
                "SELECT id, \"values\" FROM tikisync_item WHERE id IN ({})".format(
                    ",".join("?" * len(chunk))), chunk):
            found[item_id] = json.loads(values)
    db.close()
    return found


def run(n, edits, force=True, status_runs=3, keep=False):
    print(f"sync benchmark: N = {n:,} items, {edits:,} local edits, {edits:,} master edits; "
          f"load average {load():.2f} on this host", flush=True)
    assert edits * 10 <= n, "the edit pattern needs N >= 10 x edits"
    with Workspace(keep=keep) as ws:
        master = Site("master", ws.path).setup()
        stamp = int(time.time()) - 7 * 86400
        seeded = master.worker("seed", f"Bench {n}", n, stamp)
        tid, first = seeded["tracker"], seeded["first_id"]
        token = master.worker("token")["token"]
        master.start()
        clone = Site("clone", ws.path).setup()
        clone.cli("dsn", "add", "master", master.url, "--method", "bearer", "--token", token,
                  "--allow-http")
        local = clone.cli("clone", master.url, tid, as_json=True)["tracker"]
        loaded = clone.worker("reload", local)
        assert loaded["state"] == "done", loaded
        print(f"  clone reloaded: {n:,} items in {loaded['seconds']:.1f} s", flush=True)
        tiki_db = str(ws.path / "tiki-local.db")
        last = int(time.time())
        tiki_clone(tiki_db, first, n, edits, last)
        time.sleep(1.1)  # Tiki's modifiedSince is strict (lastModif > last), in seconds
        edited = clone.worker("edit-local", local, first, edits)["edited"]
        changed = master.worker("edit-master", tid, first, edits)["edited"]
        print(f"  {edited:,} local edits, {changed:,} master edits made", flush=True)

        statuses = [clone.worker("status", local) for _ in range(status_runs)]
        for s in statuses:
            print(f"  status: {s['cpu']:.2f} s CPU, {s['seconds']:.2f} s wall "
                  f"(check {s['check_cpu']:.2f} + classify {s['classify_cpu']:.2f} CPU) "
                  f"-> {s['counts']}", flush=True)

        before = server_cpu(master)
        ours = clone.worker("push", local, *([] if force else ["--no-force"]))
        ours["server_cpu"] = server_cpu(master) - before
        print(f"  ours: {ours['pushed']} pushed, {ours['failed']} failed, {ours['skipped']} "
              f"skipped in {ours['seconds']:.2f} s ({ours['cpu']:.2f} s CPU here, "
              f"{ours['server_cpu']:.2f} s on the master)", flush=True)
        if ours["state"] != "done" or ours["failed"]:
            raise RuntimeError(f"our push failed: {ours}")

        before = server_cpu(master)
        tiki = tiki_push(master.url, token, tid, tiki_db, last)
        tiki["server_cpu"] = server_cpu(master) - before
        print(f"  Tiki: {tiki['pushed']} pushed ({tiki['safe']} safe, {tiki['dangerous']} "
              f"dangerous) in {tiki['seconds']:.2f} s", flush=True)

        # Both landed: the master holds the local edits.
        ours_ids = [first + _data.ours(k) for k in range(edits)]
        tiki_ids = [first + _data.tikis(k) for k in range(edits)]
        held = master_values(master, ours_ids + tiki_ids)
        missing = [i for k, i in enumerate(ours_ids) if any(
            held[i].get(p) != v for p, v in _data.local_edit(i - first, k).items())]
        missing_tiki = [i for k, i in enumerate(tiki_ids) if any(
            held[i].get(p) != v for p, v in _data.local_edit(i - first, k).items())]
        load_after = load()

    cpu = sorted(s["cpu"] for s in statuses)
    median = cpu[len(cpu) // 2]
    rows = [
        ["status (check_remote + classify), CPU", f"{median:.2f}",
         " / ".join(f"{c:.2f}" for c in cpu), ""],
        ["status, wall", f"{sorted(s['seconds'] for s in statuses)[len(cpu) // 2]:.2f}", "", ""],
        [f"push, ours ({ours['pushed']} items, verified)", f"{ours['seconds']:.2f}",
         f"{ours['seconds'] / max(1, ours['pushed']) * 1000:.1f} ms/item",
         f"{ours['server_cpu']:.2f}"],
        [f"push, Tiki's algorithm ({tiki['pushed']} items)", f"{tiki['seconds']:.2f}",
         f"{tiki['seconds'] / max(1, tiki['pushed']) * 1000:.1f} ms/item",
         f"{tiki['server_cpu']:.2f}"],
    ]
    print()
    print(table(rows, ["measure", "seconds", "detail", "master CPU s"]))
    speedup = tiki["seconds"] / ours["seconds"]
    print()
    print(f"status CPU (median of {len(cpu)}) = {median:.2f} s   target < 1 s: "
          f"{verdict(median < 1.0)}")
    print(f"push: Tiki / ours = {speedup:.2f}   target >= 2: {verdict(speedup >= 2)}")
    print(f"the master holds every pushed edit: ours {'yes' if not missing else missing[:5]}, "
          f"Tiki's {'yes' if not missing_tiki else missing_tiki[:5]}")
    print(f"load average after the run: {load_after:.2f}")
    return {"n": n, "edits": edits, "status_cpu": cpu, "status_cpu_median": median,
            "status_counts": statuses[0]["counts"], "ours": ours["seconds"],
            "ours_pushed": ours["pushed"], "tiki": tiki["seconds"], "tiki_pushed": tiki["pushed"],
            "tiki_over_ours": speedup, "server_cpu_ours": ours["server_cpu"],
            "server_cpu_tiki": tiki["server_cpu"], "verified": not missing and not missing_tiki,
            "load_after": load_after}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="items on the master")
    parser.add_argument("--edits", type=int, default=1000, help="edits on each side")
    parser.add_argument("--quick", action="store_true", help="smoke run: N = 5,000, 200 edits")
    parser.add_argument("--no-force", action="store_true",
                        help="our push skips the conflicting items (the default push)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary sites")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    n, edits = (5000, 200) if args.quick else (args.n, args.edits)
    result = run(n, edits, force=not args.no_force, keep=args.keep)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()

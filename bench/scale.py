"""Scale benchmark (issue 17): a tracker of N items of 10 fields (default 1,000,000), on SQLite
and on PostgreSQL, each figure beside a baseline measured in the same run.

For each backend, a master site (gunicorn, 2 workers x 4 threads) holds N items and 1,000
items (two trackers of the same fields), and a clone site on the same backend reloads them:

  master   Tiki's 20-item list_items page at the end of the tracker, with nothing remembered
           (a new process) and as a client reading page after page asks for it, against the
           page at offset 0 (target: no dearer); plain SQL OFFSET at both ends, for
           reference (what the master did before); `modifiedSince` with 100 changed rows;
           server time, in process (Flask, database, JSON), medians;
  browse   the item list (the htmx fragment a browser asks for): first, middle and last
           page, sorts by listed fields, a search; server time against the same at 1,000
           items (target: each under 100 ms);
  reload   (a) the raw download of every page (our page size), (c) our reload into a fresh
           clone, c/a (target <= 1.25), and (c') the same into a clone without the full-text
           index (what keeping it current costs); Tiki's algorithm (bench/reload.py's (b))
           on the first `--tiki-sample` items, scaled to N, against (c) (target >= 10); the
           reload's memory growth from 1,000 to N items (peak RSS, target <= 50 MB).

    .venv/bin/python bench/scale.py                       # N = 1,000,000 (long)
    .venv/bin/python bench/scale.py --items 200000 --backends sqlite,postgresql
    .venv/bin/python bench/scale.py --quick               # smoke run: N = 5,000
    .venv/bin/python bench/scale.py --items 200000 --only browse   # one part (or several)

PostgreSQL: databases `<--pg-prefix>_<pid>_<site>` are made on the server of `--pg-admin`
(default postgresql://postgres@127.0.0.1:5432/postgres) and dropped at the end.
Nothing here asserts a timing; figures move by tens of per cent on a shared host.
"""
import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _data  # noqa: E402
import reload as reload_bench  # noqa: E402
from _common import PostgresDatabases, Site, Workspace, load, mb, table, verdict  # noqa: E402

from tikisync_web.sync.reload import PAGE_SIZE  # noqa: E402

SMALL = 1000


def _site(name, ws, backend, pg):
    url = pg.create(name) if backend == "postgresql" else None
    return Site(name, ws.path, db_url=url).setup()


PARTS = ("master", "browse", "reload")


def run_backend(backend, n, ws, pg, tiki_sample, repeat, parts=PARTS, reload_runs=1):
    print(f"\n--- {backend}: N = {n:,}; load average {load():.2f}", flush=True)
    started = time.perf_counter()
    master = _site("master", ws, backend, pg)
    stamp = int(time.time()) - 7 * 86400
    big = master.worker("seed", f"Bench {n}", n, stamp, timeout=7200)
    small = master.worker("seed", f"Bench {SMALL}", SMALL, stamp)
    token = master.worker("token")["token"]
    print(f"  master seeded in {time.perf_counter() - started:.0f} s", flush=True)
    figures = {"backend": backend, "n": n}

    if "master" in parts:
        pages = master.worker("master-pages", big["tracker"], repeat, timeout=7200)
        figures["master"] = pages
        print(f"  master pages: {json.dumps(pages)}", flush=True)
    if "browse" in parts:
        browse_big = master.worker("browse", big["tracker"], repeat, timeout=7200)
        browse_small = master.worker("browse", small["tracker"], repeat)
        figures["browse"] = {"big": browse_big["ms"], "small": browse_small["ms"],
                             "first_sort": browse_big["first_sort_ms"]}
        print(f"  browse: {json.dumps(browse_big)}", flush=True)
    if "reload" in parts:
        figures["reload"] = _reload(master, big, small, token, ws, backend, pg, n, tiki_sample,
                                    reload_runs)
    return figures


def _reload(master, big, small, token, ws, backend, pg, n, tiki_sample, runs):
    master.start()
    clone = _site("clone", ws, backend, pg)
    clone.cli("dsn", "add", "master", master.url, "--method", "bearer", "--token", token,
              "--allow-http")
    a_runs, c_runs = [], []
    for _ in range(runs):  # interleaved, medians compared (the host is shared and noisy)
        a_runs.append(reload_bench.raw_download(master.url, token, big["tracker"], PAGE_SIZE))
        print(f"  (a) raw download: {a_runs[-1]['seconds']:.2f} s", flush=True)
        local = clone.cli("clone", master.url, big["tracker"], as_json=True)["tracker"]
        c_runs.append(reload_bench.our_reload(clone, local))
        assert c_runs[-1]["counts"]["added"] == n, c_runs[-1]["counts"]
        print(f"  (c) our reload: {c_runs[-1]['seconds']:.2f} s, then (f) the search index "
              f"fill: {c_runs[-1]['fill_seconds']:.2f} s; load average {load():.2f}", flush=True)
        if "server" in c_runs[-1]:
            print(f"      PostgreSQL during (c): {_server_line(c_runs[-1]['server_c'])}\n"
                  f"      and (c)+(f): {_server_line(c_runs[-1]['server'])}", flush=True)
    a, c = reload_bench.median(a_runs), reload_bench.median(c_runs)
    bare = _site("clone-bare", ws, backend, pg)
    bare.worker("drop-search-index")
    bare.cli("dsn", "add", "master", master.url, "--method", "bearer", "--token", token,
             "--allow-http")
    local_bare = bare.cli("clone", master.url, big["tracker"], as_json=True)["tracker"]
    c_bare = reload_bench.our_reload(bare, local_bare)
    print(f"  (c') our reload without the search index: {c_bare['seconds']:.2f} s", flush=True)
    local_small = clone.cli("clone", master.url, small["tracker"], as_json=True)["tracker"]
    c_small = reload_bench.our_reload(clone, local_small)
    figures = {"a": a["seconds"], "c": c["seconds"], "c_cpu": c["cpu"],
               "f": c["fill_seconds"], "c_plus_f": c["total_seconds"],
               "a_runs": [r["seconds"] for r in a_runs], "c_runs": [r["seconds"] for r in c_runs],
               "f_runs": [r["fill_seconds"] for r in c_runs],
               "c_bare": c_bare["seconds"], "c_bare_cpu": c_bare["cpu"],
               "growth_small_mb": mb(c_small["growth_kib"]), "growth_big_mb": mb(c["growth_kib"])}
    if tiki_sample:
        sample = min(n, tiki_sample)
        b = reload_bench.tiki_reload(master.url, token, big["tracker"],
                                     str(ws.path / f"tiki-{backend}.db"), limit=sample)
        figures.update(tiki_seconds=b["seconds"], tiki_items=b["items"],
                       tiki_scaled=b["seconds"] * n / b["items"])
        print(f"  (b) Tiki's algorithm: {b['seconds']:.2f} s for {b['items']:,} items",
              flush=True)
    master.stop()
    return figures


def _server_line(server):
    """What bench/_worker.py's reload saw of the PostgreSQL server (WAL, writes, CPU)."""
    line = (f"WAL {server['wal_mb']:.0f} MB, checkpoints {server['checkpoints_req']} asked "
            f"+ {server['checkpoints_timed']} timed, buffers written by checkpoints "
            f"{server['buffers_checkpoint']}, by the bgwriter {server['buffers_clean']}, by "
            f"backends {server['buffers_backend']}")
    if "backend_cpu" in server:
        line += f", our backend's CPU {server['backend_cpu']:.2f} s"
    return line


def report(figures):
    n, rows = figures["n"], []
    if "master" in figures:
        rows += _master_rows(figures["master"])
    if "browse" in figures:
        big, small = figures["browse"]["big"], figures["browse"]["small"]
        for label, ms in big.items():
            rows.append([f"item list: {label} (ms)", f"{ms:.1f}", f"{small[label]:.1f}",
                         f"{ms / small[label]:.1f}", "< 100 ms", verdict(ms < 100)])
        for label, ms in figures["browse"]["first_sort"].items():
            rows.append([f"  first {label}, index made if > 10,000 (ms)", f"{ms:.0f}", "", "",
                         "(once per tracker and field)", ""])
    if "reload" in figures:
        rows += _reload_rows(figures["reload"], n)
    print(f"\n{figures['backend']}, N = {n:,}:")
    print(table(rows, ["figure", "measured", "baseline", "ratio", "target", ""]))


def _master_rows(m):
    first, rows = m["first_ms"], []
    rows.append(["list_items page at the end, cold (ms)", f"{m['last_cold_ms']:.1f}",
                 f"{first:.1f}", f"{m['last_cold_ms'] / first:.2f}", "(once per process)", ""])
    rows.append(["list_items page at the end, paging on (ms)", f"{m['last_warm_ms']:.1f}",
                 f"{first:.1f}", f"{m['last_warm_ms'] / first:.2f}", "<= 1 x page 0",
                 verdict(m["last_warm_ms"] <= first * 1.1)])
    rows.append(["  plain SQL OFFSET at the end, before (ms)", f"{m['sql_last_ms']:.1f}",
                 f"{m['sql_first_ms']:.1f}", f"{m['sql_last_ms'] / m['sql_first_ms']:.1f}",
                 "(reference)", ""])
    rows.append(["list_items modifiedSince, 100 changed (ms)", f"{m['since_100_ms']:.1f}",
                 f"{first:.1f}", f"{m['since_100_ms'] / first:.2f}", "changed rows only", ""])
    return rows


def _reload_rows(r, n):
    rows = []
    rows.append(["reload (c) vs raw download (a) (s)", f"{r['c']:.2f}", f"{r['a']:.2f}",
                 f"{r['c'] / r['a']:.2f}", "<= 1.25", verdict(r["c"] / r["a"] <= 1.25)])
    if len(r.get("c_runs", ())) > 1:
        runs = zip(r["a_runs"], r["c_runs"], r["f_runs"], strict=True)
        rows.append(["  each run, (a) / (c) / (f) (s)",
                     " ; ".join(f"{a:.1f}/{c:.1f}/{f:.1f}" for a, c, f in runs), "", "", "", ""])
    rows.append(["  (f) then the search index fill (s)", f"{r['f']:.2f}", f"{r['a']:.2f}",
                 f"{r['f'] / r['a']:.2f}", "(until search is fast)", ""])
    rows.append(["  (c) + (f) (s)", f"{r['c_plus_f']:.2f}", f"{r['a']:.2f}",
                 f"{r['c_plus_f'] / r['a']:.2f}", "(reference)", ""])
    rows.append(["  (c') the same without the search index (s)", f"{r['c_bare']:.2f}",
                 f"{r['a']:.2f}", f"{r['c_bare'] / r['a']:.2f}", "(reference)", ""])
    if "tiki_scaled" in r:
        rows.append([f"Tiki's reload, {r['tiki_items']:,} items scaled to N (s)",
                     f"{r['tiki_scaled']:.1f}", f"{r['c']:.2f}",
                     f"{r['tiki_scaled'] / r['c']:.1f}", ">= 10 x (c)",
                     verdict(r["tiki_scaled"] / r["c"] >= 10)])
    growth = r["growth_big_mb"] - r["growth_small_mb"]
    rows.append([f"reload memory growth 1,000 -> {n:,} (MB)", f"{growth:+.1f}",
                 f"{r['growth_small_mb']:.1f}", "", "<= 50 MB", verdict(growth <= 50)])
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000, help="items of the big tracker")
    parser.add_argument("--quick", action="store_true", help="smoke run: N = 5,000")
    parser.add_argument("--backends", default="sqlite,postgresql",
                        help="comma-separated: sqlite, postgresql")
    parser.add_argument("--tiki-sample", type=int, default=100_000,
                        help="items Tiki's algorithm is measured on (0: skip it)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each server timing")
    parser.add_argument("--pg-admin", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--pg-prefix", default="tikisync_bench")
    parser.add_argument("--only", default=",".join(PARTS),
                        help="comma-separated parts to measure: master, browse, reload")
    parser.add_argument("--reload-runs", type=int, default=1,
                        help="(a) and (c) measured this many times, interleaved; medians")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    n = 5000 if args.quick else args.items
    sample = min(args.tiki_sample, 2000) if args.quick else args.tiki_sample
    repeat = 3 if args.quick else args.repeat
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    if set(parts) - set(PARTS):
        parser.error(f"--only: parts are {', '.join(PARTS)}")
    print(f"scale benchmark: N = {n:,} items of {len(_data.FIELDS)} fields, backends "
          f"{args.backends}; load average {load():.2f}", flush=True)
    results = []
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        pg = PostgresDatabases(args.pg_admin, args.pg_prefix)
        try:
            with Workspace() as ws:
                results.append(run_backend(backend, n, ws, pg, sample, repeat, parts,
                                           args.reload_runs))
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

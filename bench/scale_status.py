"""Status and two workers at scale (issue 17): a clone of N items (default 1,000,000), on SQLite
and on PostgreSQL, each figure beside a baseline measured in the same run.

  status   a clone of N items reloaded from our master (gunicorn); `--edits` items edited on
           the clone (two fields each) and as many on the master (a tenth of them the same
           field as a local edit: conflicts, a tenth another field of one: merged, the rest
           elsewhere; bench/_data.py); then `check_remote` + `classify` (what `tikisync
           status` runs) as CPU seconds of the process, `--runs` times (target: under 2 s).
           Baseline: the same on a 1,000-item clone with the same share of edits (1 %).
  workers  (PostgreSQL only) two trackers of `--worker-items` items on the master; each
           reloaded into a fresh clone tracker by one `tikisync worker` process alone, then
           both at once by two worker processes (each its own fresh clone tracker): each
           job's time (the job row's started -> finished, the search index fill included) and
           its ratio to the same tracker's reload alone (target <= 1.3); what the host gives
           two CPU-bound processes at that moment (its baseline: 1.00 on two free cores); the
           WAL written and the checkpoints; and that every job ran once (one worker on each
           job row, one reload audit event per tracker). Against our master serving on this
           host ("live"), and against its answers replayed by bench/_replay.py ("replayed":
           recorded first; a master on another machine, as a team's Tiki is, whose serving
           costs this host next to nothing). `--worker-runs` passes of each (3), interleaved,
           each on a clone database of its own; medians compared. `--pg-max-wal-size 8GB`
           sets the PostgreSQL server's max_wal_size while they run and puts it back after
           (with the default 1GB, two reloads at once start 4-5 checkpoints; bench/README.md,
           Two workers).

    .venv/bin/python bench/scale_status.py                            # N = 1,000,000 (long)
    .venv/bin/python bench/scale_status.py --items 200000 --edits 2000
    .venv/bin/python bench/scale_status.py --quick                    # N = 5,000, 200 edits
    .venv/bin/python bench/scale_status.py --parts workers --worker-items 200000

PostgreSQL: databases `<--pg-prefix>_<pid>_<site>` on the server of `--pg-admin`, dropped
at the end. Nothing here asserts a timing; the host is shared: the load average is printed
beside each figure. `BENCH_PROFILE=FILE` writes a cProfile of each status run to
FILE.BACKEND.big|small.RUN.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _child import host_cpu, proc_cpu  # noqa: E402
from _common import (  # noqa: E402
    BIN,
    ROOT,
    PostgresDatabases,
    ServerSetting,
    Site,
    Workspace,
    load,
    table,
    verdict,
)

SMALL = 1000
STATUS_TARGET = 2.0
WORKERS_TARGET = 1.3
PARTS = ("status", "workers")


def _site(name, ws, backend, pg):
    url = pg.create(name) if backend == "postgresql" else None
    return Site(name, ws.path, db_url=url).setup()


def _clone(clone, master, token, remote_ids):
    clone.cli("dsn", "add", "master", master.url, "--method", "bearer", "--token", token,
              "--allow-http")
    return [clone.cli("clone", master.url, r, as_json=True)["tracker"] for r in remote_ids]


# --- status -----------------------------------------------------------------------------------

def run_status(backend, n, edits, runs, ws, pg):
    print(f"\n--- status, {backend}: N = {n:,}, {edits:,} + {edits:,} edits; load average "
          f"{load():.2f}", flush=True)
    small_edits = max(1, edits * SMALL // n)
    master = _site("master", ws, backend, pg)
    stamp = int(time.time()) - 7 * 86400
    big = master.worker("seed", f"Bench {n}", n, stamp, timeout=7200)
    small = master.worker("seed", f"Bench {SMALL}", SMALL, stamp)
    token = master.worker("token")["token"]
    master.start()
    clone = _site("clone", ws, backend, pg)
    local_big, local_small = _clone(clone, master, token, [big["tracker"], small["tracker"]])
    for local, count in ((local_big, n), (local_small, SMALL)):
        loaded = clone.worker("reload", local, timeout=7200)
        assert loaded["state"] == "done" and loaded["counts"]["added"] == count, loaded
        print(f"  clone of {count:,} items reloaded in {loaded['seconds']:.1f} s", flush=True)
    clone.worker("settle")
    for local, seeded, count in ((local_big, big, edits), (local_small, small, small_edits)):
        clone.worker("edit-local", local, seeded["first_id"], count, timeout=7200)
        master.worker("edit-master", seeded["tracker"], seeded["first_id"], count,
                      timeout=7200)
    print(f"  {edits:,} + {edits:,} edits made ({small_edits} + {small_edits} on the "
          f"{SMALL:,}-item clone)", flush=True)
    result = {"backend": backend, "n": n, "edits": edits, "small_edits": small_edits,
              "big": [], "small": []}
    profile = os.environ.get("BENCH_PROFILE")
    for run in range(runs):  # interleaved: the host's load moves
        for key, local in (("big", local_big), ("small", local_small)):
            if profile:
                clone.env["BENCH_PROFILE"] = f"{profile}.{backend}.{key}.{run + 1}"
            measured = clone.worker("status", local, timeout=7200)
            measured["load"] = load()
            result[key].append(measured)
            print(f"  status {key} run {run + 1}: {measured['cpu']:.2f} s CPU (check "
                  f"{measured['check_cpu']:.2f} + classify {measured['classify_cpu']:.2f}), "
                  f"{measured['seconds']:.2f} s wall, load {measured['load']:.2f} -> "
                  f"{measured['counts']}", flush=True)
    master.stop()
    return result


def _median(values):
    values = sorted(values)
    return values[(len(values) - 1) // 2]


def status_rows(r):
    big = [m["cpu"] for m in r["big"]]
    small = [m["cpu"] for m in r["small"]]
    mid, base, worst = _median(big), _median(small), max(big)
    first = r["big"][0]
    counts = first["counts"]
    return [
        [f"status CPU, {r['n']:,} items, {r['edits']:,} + {r['edits']:,} edits (median), s",
         f"{mid:.2f}", f"{base:.3f}", f"{mid / base:.0f}", "", ""],
        ["  the dearest run (the first after the edits writes the bases), s", f"{worst:.2f}",
         f"{max(small):.3f}", f"{worst / max(small):.0f}", f"< {STATUS_TARGET:.0f} s",
         verdict(worst < STATUS_TARGET)],
        ["  each run (CPU s, load average)",
         " ; ".join(f"{m['cpu']:.2f} ({m['load']:.1f})" for m in r["big"]), "", "", "", ""],
        ["  first run: check_remote / classify CPU, s",
         f"{first['check_cpu']:.2f} / {first['classify_cpu']:.2f}",
         f"{r['small'][0]['check_cpu']:.3f} / {r['small'][0]['classify_cpu']:.3f}", "", "", ""],
        ["  first run: wall, s", f"{first['seconds']:.2f}",
         f"{r['small'][0]['seconds']:.3f}", "", "", ""],
        ["  found: new / modified / conflicts / deleted on master",
         f"{counts['new']} / {counts['modified']} / {counts['conflicts']} / "
         f"{counts['deleted_on_master']}", "", "", "", ""],
        ["  changed on the master (first run)",
         f"{first['checked']['changed_on_master']:,} of {first['checked']['checked']:,}",
         "", "", "", ""],
    ]


# --- two workers ------------------------------------------------------------------------------

def _workers(clone, count):
    """`count` `tikisync worker` processes until the queue is empty: their CPU seconds."""
    started = [subprocess.Popen([str(BIN / "tikisync"), "worker", "--exit-when-idle",
                                 "--no-schedules", "--poll", "0.1", "--name", f"bench-{k}"],
                                cwd=ROOT, env=clone.env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, start_new_session=True)
               for k in range(1, count + 1)]
    cpu = []
    for process in started:
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        error = process.stderr.read().decode(errors="replace")
        process.stderr.close()
        if process.returncode != 0:
            raise RuntimeError(f"worker exited {process.returncode}: {error[-3000:]}")
        cpu.append(usage.ru_utime + usage.ru_stime)
    return cpu


_SPIN = ("import time\nstarted = time.perf_counter()\ntotal = 0\n"
         "for i in range(8_000_000):\n    total += i * i % 7\n"
         "print(time.perf_counter() - started)")


def _spin(count):
    """Seconds each of `count` processes took for the same pure-Python loop, run at once."""
    started = [subprocess.Popen([sys.executable, "-c", _SPIN], stdout=subprocess.PIPE)
               for _ in range(count)]
    return [float(process.communicate()[0]) for process in started]


def cores_ratio():
    """What the host gives two CPU-bound processes right now: the slower of two loops run at
    once over the same loop alone (1.0 on two free cores; other users' work, or two vCPUs
    that share a physical core, raise it). Measured twice; the smaller ratio is kept."""
    return min(max(_spin(2)) / _spin(1)[0] for _ in range(2))


def _busy_share(before, after):
    """The share of the host's CPU time between two host_cpu() readings that was busy."""
    spent = {key: after[key] - before[key] for key in before}
    return spent["host_busy"] / max(1e-9, sum(spent.values()))


class _Sampler:
    """Calls `_sample` every `every` seconds on a thread of its own while in a `with` block."""

    every = 0.1

    def __init__(self):
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.stop.wait(self.every):
            self._sample()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=5)


class _WaitSampler(_Sampler):
    """What the clone database's active backends wait on, sampled every 0.1 s from
    pg_stat_activity while the workers run: {"CPU" or "type:event": samples}."""

    def __init__(self, url):
        super().__init__()
        self.url, self.counts, self.conn = url, {}, None

    def _sample(self):
        for kind, event in self.conn.execute(
                "SELECT wait_event_type, wait_event FROM pg_stat_activity WHERE "
                "datname = current_database() AND state = 'active' "
                "AND pid <> pg_backend_pid()"):
            key = f"{kind}:{event}" if kind else "CPU"
            self.counts[key] = self.counts.get(key, 0) + 1

    def __enter__(self):
        import psycopg

        self.conn = psycopg.connect(self.url, autocommit=True)
        return super().__enter__()

    def __exit__(self, *exc):
        super().__exit__(*exc)
        self.conn.close()


class _ProcessCPU(_Sampler):
    """CPU seconds of every process on the host, by who it is, sampled from /proc every
    0.25 s while the workers run: the master's server (gunicorn), the PostgreSQL backends
    serving the master's database and the clone's, PostgreSQL's own processes (WAL writer,
    checkpointer, autovacuum), the `tikisync worker` processes, anything else. Each sample's
    increase is kept with its time, so that a job's CPU can be split at its commit. A
    process born and gone between two samples is missed."""

    every = 0.25

    def __init__(self, databases):
        super().__init__()
        self.databases = databases  # {database name: label}
        self.seen, self.steps = {}, []  # pid -> (label, cpu); [(time, label, seconds)]

    def _label(self, pid):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            return None
        command = command.decode(errors="replace")
        if command.startswith("postgres: "):
            for word in command.split()[1:4]:
                if word in self.databases:
                    return self.databases[word]
            return "postgres (own)"
        if "gunicorn" in command:
            return "master server"
        if "_replay.py" in command:
            return "replayed master"
        if "tikisync worker" in command:
            return "workers"
        return "other"

    def _processes(self):
        """(pid, label, CPU seconds so far) of every process that can be read."""
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                pid = int(entry.name)
                cpu = proc_cpu(pid)
                label = self.seen[pid][0] if pid in self.seen else self._label(pid)
                if cpu is not None and label is not None:
                    yield pid, label, cpu

    def _sample(self):
        now = time.time()
        for pid, label, cpu in self._processes():
            before = self.seen[pid][1] if pid in self.seen else 0.0  # born since the start
            if cpu > before:
                self.steps.append((now, label, cpu - before))
            self.seen[pid] = (label, cpu)

    def __enter__(self):
        self.seen = {pid: (label, cpu) for pid, label, cpu in self._processes()}
        return super().__enter__()

    def __exit__(self, *exc):
        super().__exit__(*exc)
        self._sample()

    def split(self, at):
        """{label: [CPU seconds up to `at`, after it]} (`at` None: all in the first)."""
        out = {}
        for when, label, seconds in self.steps:
            pair = out.setdefault(label, [0.0, 0.0])
            pair[0 if at is None or when <= at else 1] += seconds
        return out


def _wal_state(url):
    """(bytes of WAL written so far, checkpoints so far) of the PostgreSQL server."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(
            "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn, checkpoints_timed + checkpoints_req "
            "FROM pg_stat_bgwriter").fetchone()


def _reload_by_workers(clone, locals_, count, databases):
    queued = clone.worker("enqueue-reload", *locals_)["jobs"]
    load_before = load()
    wal0 = _wal_state(clone.db_url)
    host0, wall0 = host_cpu(), time.perf_counter()
    with _WaitSampler(clone.db_url) as waits, _ProcessCPU(databases) as processes:
        cpu = _workers(clone, count)
    wall = time.perf_counter() - wall0
    host1 = host_cpu()
    wal1 = _wal_state(clone.db_url)
    busy = _busy_share(host0, host1)
    report = clone.worker("jobs", *locals_)
    jobs = {j["id"]: j for j in report["jobs"]}
    for job_id in queued:
        job = jobs[job_id]
        if job["state"] != "done":
            raise RuntimeError(f"reload job {job_id} ended {job['state']}: {job['error']}")
    for job in jobs.values():  # the audit event's second: the reload's commit, then the fill
        job["committed"] = report["committed"].get(str(job["tracker"]))
    commits = [jobs[j]["committed"] for j in queued if jobs[j]["committed"]]
    split_at = max(commits) + 1 if commits else None  # committed is to the second
    return {"jobs": [jobs[j] for j in queued], "audits": report["reload_audits"], "cpu": cpu,
            "processes": processes.split(split_at),
            "wall": wall, "load": load_before, "load_after": load(), "host_busy": busy,
            "wal_gb": float(wal1[0] - wal0[0]) / 1e9, "checkpoints": wal1[1] - wal0[1],
            "waits": dict(sorted(waits.counts.items(), key=lambda kv: -kv[1]))}


def _start_replay(ws, upstream):
    """bench/_replay.py in front of `upstream`, in its own process group: (process, url)."""
    port_file = ws.path / "replay.port"
    process = subprocess.Popen([sys.executable, str(Path(__file__).parent / "_replay.py"),
                                upstream, str(port_file)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"_replay.py exited: {process.stderr.read().decode()[-2000:]}")
        if port_file.exists() and port_file.read_text():
            return process, f"http://127.0.0.1:{port_file.read_text()}"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    raise RuntimeError("_replay.py did not start in 30 s")


def _replay_stats(url):
    return requests.get(f"{url}/__replay__/stats", timeout=10).json()


def _one_pass(clone, source, remote, databases, name, before_alone=None):
    """Each tracker reloaded by one worker alone, then both by two workers at once, each
    into a fresh clone tracker of `source`. `before_alone(clone trackers)` runs first."""
    alone_locals = [clone.cli("clone", source, r, as_json=True)["tracker"] for r in remote]
    if before_alone:
        before_alone(alone_locals)
    cores = cores_ratio()
    print(f"  {name}: the host: two CPU-bound processes together / alone {cores:.2f}",
          flush=True)
    alone = []
    for local in alone_locals:
        alone.append(_reload_by_workers(clone, [local], 1, databases))
        job = alone[-1]["jobs"][0]
        print(f"  {name}, alone: tracker {local} in {job['finished'] - job['started']:.1f} s "
              f"(worker CPU {alone[-1]['cpu'][0]:.1f} s, host CPU busy "
              f"{alone[-1]['host_busy']:.0%}, load {alone[-1]['load']:.2f})", flush=True)
    together_locals = [clone.cli("clone", source, r, as_json=True)["tracker"] for r in remote]
    together = _reload_by_workers(clone, together_locals, 2, databases)
    for job in together["jobs"]:
        print(f"  {name}, together: tracker {job['tracker']} by {job['worker']} in "
              f"{job['finished'] - job['started']:.1f} s", flush=True)
    for label, run in [*((f"alone {a['jobs'][0]['tracker']}", a) for a in alone),
                       ("together", together)]:
        print(f"  {name}: CPU s by process, up to the last commit + after it, {label}: "
              + ", ".join(f"{who} {cpu[0]:.1f} + {cpu[1]:.1f}" for who, cpu in
                          sorted(run["processes"].items(), key=lambda kv: -sum(kv[1]))),
              flush=True)
    print(f"  {name}: the clone database's active backends (samples every 0.1 s): alone "
          f"{[a['waits'] for a in alone]}, together {together['waits']}", flush=True)
    print(f"  {name}: workers' CPU {' + '.join(f'{c:.1f}' for c in together['cpu'])} s, host "
          f"CPU busy {together['host_busy']:.0%}, load {together['load']:.2f} -> "
          f"{together['load_after']:.2f}", flush=True)
    return {"alone": alone, "together": together, "cores": cores,
            "all": clone.worker("jobs", *alone_locals, *together_locals)}


def run_workers(m, ws, pg, max_wal_size, runs):
    """`runs` passes of each kind, interleaved (live, replayed, live, ...), each on a clone
    database of its own, dropped after it."""
    print(f"\n--- two workers, postgresql (max_wal_size {max_wal_size}): two trackers of "
          f"{m:,} items, {runs} passes each against the master and its replayed answers; "
          f"load average {load():.2f}", flush=True)
    master = _site("master", ws, "postgresql", pg)
    stamp = int(time.time()) - 7 * 86400
    seeded = [master.worker("seed", f"Bench {name}", m, stamp, timeout=7200)
              for name in ("A", "B")]
    token = master.worker("token")["token"]
    master.start()
    remote = [s["tracker"] for s in seeded]
    databases = {master.db_url.rsplit("/", 1)[1]: "master's database"}
    result = {"m": m, "max_wal_size": max_wal_size, "live": [], "replayed": []}
    # "live": the master (gunicorn and its PostgreSQL) serves every page on this host's two
    # cores. "replayed": the same answers replayed by bench/_replay.py, recorded in the first
    # pass: a master on another machine, as a team's is, whose serving costs this host next
    # to nothing.
    replay, replay_url = _start_replay(ws, master.url)
    marks = {}  # the replay server's counts at the start of a pass's timed part

    def record(clone_trackers, clone):
        clone.worker("download", *clone_trackers)  # the reload's own requests, kept
        requests.get(f"{replay_url}/__replay__/replay", timeout=10).raise_for_status()
        marks["before"] = _replay_stats(replay_url)

    try:
        for k in range(1, runs + 1):
            for name, url in (("live", master.url), ("replayed", replay_url)):
                print(f"  pass {k} of {runs}, {name}:", flush=True)
                clone = _site(f"clone-{name}-{k}", ws, "postgresql", pg)
                databases[clone.db_url.rsplit("/", 1)[1]] = "clone's database"
                clone.cli("dsn", "add", name, url, "--method", "bearer", "--token", token,
                          "--allow-http")
                first = name == "replayed" and not result["replayed"]
                marks["before"] = _replay_stats(replay_url)
                out = _one_pass(clone, url, remote, databases, name,
                                (lambda t, c=clone: record(t, c)) if first else None)
                if name == "replayed":  # from the end of the recording in the first pass
                    after = _replay_stats(replay_url)
                    out["replay"] = {key: after[key] - marks["before"][key]
                                     for key in ("replayed", "passed")}
                    print(f"  replayed: {out['replay']['replayed']} answers replayed, "
                          f"{out['replay']['passed']} passed on to the master", flush=True)
                result[name].append(out)
                pg.drop(clone.db_url)  # a pass writes GBs: free the disk for the next
    finally:
        os.killpg(replay.pid, signal.SIGTERM)
        replay.wait(timeout=15)
    master.stop()
    return result


def workers_rows(result):
    rows = [["PostgreSQL server's max_wal_size", result["max_wal_size"], "", "", "", ""]]
    for name, what in (("live", "the master (gunicorn + PostgreSQL) on this host"),
                       ("replayed", "the master's answers replayed (a master elsewhere)")):
        if result.get(name):
            rows.append([f"{what}, {len(result[name])} passes:", "", "", "", "", ""])
            rows += _variant_rows(result[name], result["m"])
    return rows


def _seconds(job, until="finished"):
    return job[until] - job["started"]


def _variant_rows(passes, m):
    rows = []
    each = " / ".join
    for k, name in enumerate("AB"):
        alone = [_seconds(p["alone"][k]["jobs"][0]) for p in passes]
        pair = [_seconds(p["together"]["jobs"][k]) for p in passes]
        ratio = _median(pair) / _median(alone)
        rows.append([f"reload of tracker {name} ({m:,} items), together / alone, median, s",
                     f"{_median(pair):.1f}", f"{_median(alone):.1f}", f"{ratio:.2f}",
                     f"<= {WORKERS_TARGET}", verdict(ratio <= WORKERS_TARGET)])
        rows.append([f"  each pass, {name}: together / alone", "", "",
                     each(f"{t / a:.2f}" for t, a in zip(pair, alone, strict=True)), "", ""])
    for k, name in enumerate("AB"):
        alone = [_seconds(p["alone"][k]["jobs"][0], "committed") for p in passes]
        pair = [_seconds(p["together"]["jobs"][k], "committed") for p in passes]
        rows.append([f"  up to its commit (to the second; then the search index fill), {name}",
                     each(f"{s:.0f}" for s in pair), each(f"{s:.0f}" for s in alone),
                     each(f"{t / a:.2f}" if a > 0 else "-"
                          for t, a in zip(pair, alone, strict=True)), "", ""])
    # What perfect sharing of the cores could reach: the CPU both runs took alone (every
    # process the reload runs on, not the bench's own samplers or other users: "other"),
    # spread over the cores, against a run's wall time alone (the same window: from the
    # worker's start to its exit, so its start-up is on both sides).
    cores = os.cpu_count() or 1
    floors = []
    for p in passes:
        need = sum(cpu for a in p["alone"] for label, pair in a["processes"].items()
                   if label != "other" for cpu in pair)
        floors.append(need / cores / (sum(a["wall"] for a in p["alone"]) / len(p["alone"])))
    rows.append([f"  floor: both runs' CPU alone / {cores} cores, over a run's wall alone",
                 "", "", each(f"{f:.2f}" for f in floors), "", ""])
    rows.append(["  the host: two CPU-bound loops at once / one alone (2 free cores: 1.00)",
                 each(f"{p['cores']:.2f}" for p in passes), "", "", "", ""])
    rows.append(["  both, first start to last end / one after the other (wall), s",
                 each(f"{p['together']['wall']:.0f}" for p in passes),
                 each(f"{sum(a['wall'] for a in p['alone']):.0f}" for p in passes),
                 each(f"{p['together']['wall'] / sum(a['wall'] for a in p['alone']):.2f}"
                      for p in passes), "", ""])
    rows.append(["  workers' CPU together / alone, s",
                 each(" + ".join(f"{c:.1f}" for c in p["together"]["cpu"]) for p in passes),
                 each(" + ".join(f"{a['cpu'][0]:.1f}" for a in p["alone"]) for p in passes),
                 "", "", ""])
    rows.append(["  WAL written, GB (checkpoints), together / alone",
                 each(f"{p['together']['wal_gb']:.1f} ({p['together']['checkpoints']})"
                      for p in passes),
                 each(" + ".join(f"{a['wal_gb']:.1f} ({a['checkpoints']})" for a in p["alone"])
                      for p in passes), "", "", ""])
    rows.append(["  host CPU busy (all cores; other users' work included), together / alone",
                 each(f"{p['together']['host_busy']:.0%}" for p in passes),
                 each(" + ".join(f"{a['host_busy']:.0%}" for a in p["alone"]) for p in passes),
                 "", "", ""])
    if "replay" in passes[0]:
        rows.append(["  answers replayed / passed on to the master (clone commands included)",
                     f"{sum(p['replay']['replayed'] for p in passes)} / "
                     f"{sum(p['replay']['passed'] for p in passes)}", "", "", "", ""])
    ran_once = all(_ran_once(p) for p in passes)
    rows.append(["every job ran once (4 jobs a pass, 1 reload audit each; 2 workers)",
                 "yes" if ran_once else "NO", "", "", "once", verdict(ran_once)])
    return rows


def _ran_once(p):
    jobs = p["all"]["jobs"]
    return (all(j["state"] == "done" for j in jobs) and len(jobs) == 4
            and all(v == 1 for v in p["all"]["reload_audits"].values())
            and len(p["all"]["reload_audits"]) == 4
            and len({j["worker"] for j in p["together"]["jobs"]}) == 2)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000, help="items of the clone")
    parser.add_argument("--edits", type=int, default=10_000, help="edits on each side")
    parser.add_argument("--quick", action="store_true", help="smoke run: N = 5,000, 200 edits")
    parser.add_argument("--backends", default="sqlite,postgresql",
                        help="comma-separated: sqlite, postgresql (workers: PostgreSQL only)")
    parser.add_argument("--parts", default=",".join(PARTS), help="status, workers")
    parser.add_argument("--runs", type=int, default=3, help="status runs of each tracker")
    parser.add_argument("--worker-items", type=int, default=None,
                        help="items of each tracker the workers reload (default: N, at most "
                             "200,000)")
    parser.add_argument("--worker-runs", type=int, default=3,
                        help="workers: passes of each kind (alone, alone, together), "
                             "interleaved; medians compared")
    parser.add_argument("--pg-admin", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--pg-prefix", default="tikisync_bench")
    parser.add_argument("--pg-max-wal-size", default="keep", metavar="SIZE",
                        help="workers: the PostgreSQL server's max_wal_size while they run, as "
                             "SHOW writes it, e.g. 8GB (ALTER SYSTEM, put back after; a "
                             "superuser --pg-admin only); default `keep`: as the server has it")
    parser.add_argument("--keep", action="store_true", help="keep the temporary sites")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    n, edits = (5000, 200) if args.quick else (args.items, args.edits)
    m = args.worker_items or min(n, 200_000)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if set(parts) - set(PARTS):
        parser.error(f"--parts: parts are {', '.join(PARTS)}")
    if edits * 10 > n:
        parser.error("the edit pattern needs --items >= 10 x --edits")
    print(f"status/workers benchmark: N = {n:,}, {edits:,} edits each side, backends "
          f"{','.join(backends)}, parts {','.join(parts)}; load average {load():.2f}",
          flush=True)
    results = {"status": [], "workers": None}
    jobs = [("status", b) for b in backends if "status" in parts]
    if "workers" in parts and "postgresql" in backends:
        jobs.append(("workers", "postgresql"))
    for part, backend in jobs:
        pg = PostgresDatabases(args.pg_admin, args.pg_prefix)
        try:
            with Workspace(keep=args.keep) as ws:
                if part == "status":
                    results["status"].append(run_status(backend, n, edits, args.runs, ws, pg))
                else:
                    wal = None if args.pg_max_wal_size == "keep" else args.pg_max_wal_size
                    with ServerSetting(args.pg_admin, "max_wal_size", wal) as setting:
                        results["workers"] = run_workers(m, ws, pg, setting.value,
                                                         args.worker_runs)
        finally:
            if pg.names and not args.keep:
                pg.drop_all()
    headers = ["figure", "measured", "baseline", "ratio", "target", ""]
    for r in results["status"]:
        print(f"\nstatus, {r['backend']} (baseline: {SMALL:,} items, {r['small_edits']} + "
              f"{r['small_edits']} edits):")
        print(table(status_rows(r), headers))
    if results["workers"]:
        print("\ntwo `tikisync worker` processes, PostgreSQL (baseline: the same reload alone):")
        print(table(workers_rows(results["workers"]), headers))
    print(f"\nload average after the run: {load():.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()

"""What every benchmark child process measures about itself and the host: its memory (RSS and
its peak), a profile of the timed part, the PostgreSQL server's writes and CPU, and the one
JSON line it prints (bench/_worker.py's commands)."""
import json
import os
from pathlib import Path


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


_BGWRITER = ("checkpoints_timed", "checkpoints_req", "buffers_checkpoint", "buffers_clean",
             "buffers_backend", "buffers_backend_fsync", "buffers_alloc")


def pg_server_state():
    """PostgreSQL: the server's WAL position, its writer counters and this connection's
    backend CPU, before a reload (None elsewhere). Server-wide figures include whatever else
    the server did meanwhile (the master's reads, other clients)."""
    import peewee as pw

    from tikisync_web.db import database

    if not isinstance(database.obj, pw.PostgresqlDatabase):
        return None
    row = database.execute_sql(
        f"SELECT pg_current_wal_lsn(), pg_backend_pid(), {', '.join(_BGWRITER)} "
        "FROM pg_stat_bgwriter").fetchone()
    return {"lsn": row[0], "pid": row[1], "cpu": proc_cpu(row[1]), "host": host_cpu(),
            **dict(zip(_BGWRITER, row[2:], strict=True))}


def pg_server_change(before):
    """What changed since `_pg_server_state` (WAL bytes, writer counters, backend CPU)."""
    if before is None:
        return None
    from tikisync_web.db import database

    database.execute_sql("SELECT pg_stat_clear_snapshot()")
    row = database.execute_sql(
        f"SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s), pg_backend_pid(), "
        f"{', '.join(_BGWRITER)} FROM pg_stat_bgwriter", (before["lsn"],)).fetchone()
    change = {"wal_mb": float(row[0]) / 2**20,
              **{k: v - before[k] for k, v in zip(_BGWRITER, row[2:], strict=True)}}
    if row[1] == before["pid"] and before["cpu"] is not None:
        change["backend_cpu"] = proc_cpu(row[1]) - before["cpu"]
    host = host_cpu()
    if host and before["host"]:
        change.update({k: v - before["host"][k] for k, v in host.items()})
    return change


def host_cpu():
    """Seconds the host's CPUs spent busy, idle and waiting for I/O so far (/proc/stat)."""
    try:
        with open("/proc/stat") as stat:
            ticks = [int(t) for t in stat.readline().split()[1:]]
    except OSError:
        return None
    hz = os.sysconf("SC_CLK_TCK")
    idle, iowait = ticks[3], ticks[4]
    return {"host_busy": (sum(ticks[:8]) - idle - iowait) / hz, "host_idle": idle / hz,
            "host_iowait": iowait / hz}


def proc_cpu(pid):
    """CPU seconds of a local process (a PostgreSQL backend on this host), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

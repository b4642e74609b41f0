"""Shared plumbing of the benchmarks: sites (a database + instance folder), the `tikisync`
command, child Python processes, and a production-like server (gunicorn) on loopback.

Nothing here imports tests/ or pytest; the server launcher is a small copy of the idea in
tests/support/instances.py. Every process started here runs in its own process group and is stopped
by `Site.stop()` / `cleanup()`, whatever happens.
"""
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
WORKER = BENCH / "_worker.py"
ADMIN_PASSWORD = "bench-admin-pw"

# gunicorn, 2 workers x 4 threads: what a small production deployment of the master looks
# like (DESIGN §11), and unlike `flask run` it does not serialise behind one GIL.
GUNICORN_WORKERS = 2
GUNICORN_THREADS = 4

_STARTED = []  # every Site with a server, for cleanup()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load():
    """The 1-minute load average, to print beside figures (the host is shared)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


class Site:
    """One tikisync-web installation: its own database (a SQLite file, or a database named
    after the site on the PostgreSQL server `db_url` points to) and instance folder."""

    def __init__(self, name, folder, db_url=None):
        self.name = name
        self.folder = Path(folder) / name
        self.folder.mkdir(parents=True, exist_ok=True)
        self.db_path = self.folder / "tikisync.db"
        self.db_url = db_url or f"sqlite:///{self.db_path}"
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("TIKISYNC_", "FLASK_TIKISYNC_"))}
        self.env.update({
            "TIKISYNC_DATABASE": self.db_url,
            "TIKISYNC_SECRET_KEY": f"bench-secret-of-{name}",
            "TIKISYNC_INSTANCE": str(self.folder / "instance"),
            "TIKISYNC_JOB_RUNNER": "inline",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(BENCH)]),
        })
        self.process = None
        self.port = None
        self.log = self.folder / "server.log"

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    # --- command line and child processes -------------------------------------------------
    def cli(self, *args, as_json=False, timeout=600):
        command = [str(BIN / "tikisync"), *map(str, args)]
        if as_json:
            command.append("--json")
        done = subprocess.run(command, cwd=ROOT, env=self.env, capture_output=True, text=True,
                              timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"tikisync {' '.join(map(str, args))} failed "
                               f"({done.returncode}):\n{done.stderr[-3000:]}\n"
                               f"{done.stdout[-2000:]}")
        return json.loads(done.stdout) if as_json else done.stdout

    def worker(self, command, *args, timeout=3600):
        """Run `bench/_worker.py COMMAND ARGS` against this site's database; its last stdout
        line is JSON and is returned."""
        started = time.monotonic()
        done = subprocess.run([sys.executable, str(WORKER), command, *map(str, args)],
                              cwd=ROOT, env=self.env, capture_output=True, text=True,
                              timeout=timeout, start_new_session=True)
        if done.returncode != 0:
            raise RuntimeError(f"worker {command} failed ({done.returncode}) after "
                               f"{time.monotonic() - started:.1f} s:\n{done.stderr[-4000:]}")
        lines = done.stdout.strip().splitlines()
        return json.loads(lines[-1]) if lines else None

    def setup(self):
        self.cli("init")
        self.cli("user", "add", "admin", "--role", "admin", "--password", ADMIN_PASSWORD)
        return self

    # --- server ----------------------------------------------------------------------------
    def start(self, workers=GUNICORN_WORKERS, threads=GUNICORN_THREADS):
        self.port = free_port()
        command = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{self.port}",
                   "--workers", str(workers), "--threads", str(threads),
                   "--worker-class", "gthread", "--keep-alive", "30", "--timeout", "600",
                   "--log-level", "warning", "--error-logfile", str(self.log), "wsgi:app"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        _STARTED.append(self)
        deadline = time.monotonic() + 60
        probe = f"{self.url}/tiki-api.php?route=version"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} server exited ({self.process.returncode}):\n"
                                   + self._log_tail())
            try:
                if requests.get(probe, timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} server did not start in 60 s:\n" + self._log_tail())

    def _log_tail(self):
        try:
            return self.log.read_text()[-3000:]
        except OSError:
            return ""

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)
        except ProcessLookupError:
            pass


def cleanup():
    for site in _STARTED:
        site.stop()
    _STARTED.clear()


class Workspace:
    """A temporary folder for the sites of one run; servers stopped and files removed at exit."""

    def __init__(self, keep=False):
        self.keep = keep
        self.path = None

    def __enter__(self):
        self.path = Path(tempfile.mkdtemp(prefix="tikisync-bench-"))
        self._old = signal.signal(signal.SIGTERM, _terminate)
        return self

    def __exit__(self, *exc):
        cleanup()
        signal.signal(signal.SIGTERM, self._old)
        if not self.keep:
            shutil.rmtree(self.path, ignore_errors=True)
        else:
            print(f"(kept {self.path})")


def _terminate(signum, frame):
    raise SystemExit(128 + signum)


class PostgresDatabases:
    """Databases made on a PostgreSQL server for one run (`prefix_<pid>_<name>`), dropped at
    the end whatever happens."""

    def __init__(self, admin_url, prefix):
        self.admin_url, self.prefix, self.names = admin_url, prefix, []

    def _admin(self):
        import psycopg

        return psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5)

    def create(self, name):
        full = f"{self.prefix}_{os.getpid()}_{name}"
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{full}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{full}"')
        self.names.append(full)
        return self.admin_url.rsplit("/", 1)[0] + "/" + full

    def drop(self, url):
        """Drop the database of `url` (one made by `create`) now."""
        full = url.rsplit("/", 1)[1]
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{full}" WITH (FORCE)')
        self.names.remove(full)

    def drop_all(self):
        with self._admin() as conn:
            for full in self.names:
                conn.execute(f'DROP DATABASE IF EXISTS "{full}" WITH (FORCE)')
        self.names.clear()


class ServerSetting:
    """`ALTER SYSTEM SET name = value` on the PostgreSQL server of `admin_url` for a `with`
    block, then back as it was (the value an earlier ALTER SYSTEM had set, or the
    configuration file's). `value` None, or an account that is not a superuser: the server
    is left alone. Inside the block `self.value` is the setting in force."""

    def __init__(self, admin_url, name, value):
        self.admin_url, self.name, self.value = admin_url, name, value
        self.before = self.altered = None
        self.changed = False

    def _admin(self):
        import psycopg

        return psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5)

    def _show(self, conn):
        from psycopg import sql

        return conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(self.name))).fetchone()[0]

    def _alter(self, value, expect):
        """ALTER SYSTEM SET (RESET when `value` is None), reload, and wait (at most 10 s)
        until a new session shows `expect`."""
        from psycopg import sql

        name = sql.Identifier(self.name)
        with self._admin() as conn:
            conn.execute(sql.SQL("ALTER SYSTEM RESET {}").format(name) if value is None else
                         sql.SQL("ALTER SYSTEM SET {} = {}").format(name, sql.Literal(value)))
            conn.execute("SELECT pg_reload_conf()")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with self._admin() as conn:
                if self._show(conn) == expect:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"PostgreSQL did not take {self.name} = {expect} in 10 s")

    def __enter__(self):
        with self._admin() as conn:
            superuser = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = "
                                     "current_user").fetchone()
            self.before = self._show(conn)
            altered = conn.execute("SELECT setting FROM pg_file_settings WHERE name = %s "
                                   "AND sourcefile LIKE %s ORDER BY seqno DESC LIMIT 1",
                                   (self.name, "%postgresql.auto.conf")).fetchone()
        self.altered = altered[0] if altered else None
        if self.value is None or not (superuser and superuser[0]) or self.value == self.before:
            self.value = self.before
            return self
        self._alter(self.value, self.value)
        self.changed = True
        return self

    def __exit__(self, *exc):
        if self.changed:
            self._alter(self.altered, self.before)


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def server_cpu(site):
    """CPU seconds used so far by a site's server (gunicorn master + workers), from /proc."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    try:
        pids = [site.process.pid] + [int(p) for p in Path(f"/proc/{site.process.pid}/task")
                                     .glob("*/children") for p in p.read_text().split()]
    except OSError:
        return None
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


# --- printing ------------------------------------------------------------------------------

def table(rows, headers):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    out = [line.format(*headers), line.format(*("-" * w for w in widths))]
    out += [line.format(*r) for r in rows]
    return "\n".join(out)


def verdict(ok):
    return "MET" if ok else "NOT MET"


def mb(kib):
    return kib / 1024.0

"""`make test`: the whole suite on SQLite (browser layer included), then the database-dependent
layers on PostgreSQL and MariaDB. Exits non-zero when any run fails.

A developer may opt out of a layer locally with TIKISYNC_SKIP_BROWSER=1,
TIKISYNC_SKIP_POSTGRESQL=1 or TIKISYNC_SKIP_MARIADB=1; CI sets none of them, so nothing is
skipped silently there. Without the browser layer, tests/browser is not collected at all, so
Playwright need not be installed; with it, a missing Playwright or Chromium fails the run.

The SQLite layer (with the browser) runs first, alone: the browser tests wait on real time. The
PostgreSQL and MariaDB layers then run side by side, each in its own pytest process with its
own temporary folder (their databases have unique names), their output kept in a file and
printed whole when both have ended. TIKISYNC_SERIAL_LAYERS=1 runs them one after the other.
"""
import os
import subprocess
import sys
import tempfile
import time


def command_for(marker, extra):
    return [sys.executable, "-m", "pytest", "-q", "-m", marker, *extra]


def run(label, backend, marker, extra=()):
    env = dict(os.environ, TIKISYNC_TEST_DB=backend)
    command = command_for(marker, extra)
    print(f"\n=== {label}: {' '.join(command[2:])}", flush=True)
    started = time.monotonic()
    code = subprocess.call(command, env=env)
    outcome = "passed" if code == 0 else "FAILED"
    print(f"=== {label}: {outcome} in {time.monotonic() - started:.0f} s", flush=True)
    return code


def run_side_by_side(layers, extra=()):
    """Run the layers at once; print each one's output whole, in order, when all have ended."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tikisync-layers-") as folder:
        running = []
        for label, backend, marker in layers:
            env = dict(os.environ, TIKISYNC_TEST_DB=backend)
            command = command_for(marker, [*extra, "--basetemp", os.path.join(folder, backend)])
            print(f"\n=== {label} (side by side): {' '.join(command[2:])}", flush=True)
            log = open(os.path.join(folder, backend + ".log"), "w+")
            process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
            running.append((label, process, log))
        ended = {}
        while len(ended) < len(running):
            for label, process, _log in running:
                if label not in ended and process.poll() is not None:
                    ended[label] = time.monotonic() - started
            time.sleep(0.5)
        results = []
        for label, process, log in running:
            log.seek(0)
            print(f"\n=== {label}: output", flush=True)
            sys.stdout.write(log.read())
            log.close()
            outcome = "passed" if process.returncode == 0 else "FAILED"
            print(f"=== {label}: {outcome} in {ended[label]:.0f} s (side by side)", flush=True)
            results.append((label, process.returncode))
        return results


def main():
    extra = sys.argv[1:]
    runs = []
    sqlite_marker = "not browser" if os.environ.get("TIKISYNC_SKIP_BROWSER") else ""
    runs.append(("SQLite" + ("" if sqlite_marker else " + browser"), "sqlite", sqlite_marker))
    if not os.environ.get("TIKISYNC_SKIP_POSTGRESQL"):
        runs.append(("PostgreSQL", "postgresql", "not browser and not sqlite_only and not once"))
    if not os.environ.get("TIKISYNC_SKIP_MARIADB"):
        runs.append(("MariaDB", "mariadb", "not browser and not sqlite_only and not once"))
    first, servers = runs[:1], runs[1:]
    results = [(label, run(label, backend, marker, extra)) for label, backend, marker in first]
    if len(servers) > 1 and not os.environ.get("TIKISYNC_SERIAL_LAYERS"):
        results += run_side_by_side(servers, extra)
    else:
        results += [(label, run(label, backend, marker, extra))
                    for label, backend, marker in servers]
    print("\n=== summary")
    for label, code in results:
        print(f"  {label}: {'passed' if code == 0 else f'FAILED (exit {code})'}")
    skipped = [name for name, var in (("browser", "TIKISYNC_SKIP_BROWSER"),
                                      ("PostgreSQL", "TIKISYNC_SKIP_POSTGRESQL"),
                                      ("MariaDB", "TIKISYNC_SKIP_MARIADB")) if os.environ.get(var)]
    if skipped:
        print("  skipped on request: " + ", ".join(skipped))
    sys.exit(0 if all(code == 0 for _, code in results) else 1)


if __name__ == "__main__":
    main()

"""`make test`: the whole suite on SQLite (browser layer included), then the database-dependent
layers on PostgreSQL and MariaDB. Exits non-zero when any run fails.

A developer may opt out of a layer locally with TIKISYNC_SKIP_BROWSER=1,
TIKISYNC_SKIP_POSTGRESQL=1 or TIKISYNC_SKIP_MARIADB=1; CI sets none of them, so nothing is
skipped silently there. Without the browser layer, tests/browser is not collected at all, so
Playwright need not be installed; with it, a missing Playwright or Chromium fails the run.
"""
import os
import subprocess
import sys
import time


def run(label, backend, marker, extra=()):
    env = dict(os.environ, TIKISYNC_TEST_DB=backend)
    command = [sys.executable, "-m", "pytest", "-q", "-m", marker, *extra]
    print(f"\n=== {label}: {' '.join(command[2:])}", flush=True)
    started = time.monotonic()
    code = subprocess.call(command, env=env)
    outcome = "passed" if code == 0 else "FAILED"
    print(f"=== {label}: {outcome} in {time.monotonic() - started:.0f} s", flush=True)
    return code


def main():
    extra = sys.argv[1:]
    runs = []
    sqlite_marker = "not browser" if os.environ.get("TIKISYNC_SKIP_BROWSER") else ""
    runs.append(("SQLite" + ("" if sqlite_marker else " + browser"), "sqlite", sqlite_marker))
    if not os.environ.get("TIKISYNC_SKIP_POSTGRESQL"):
        runs.append(("PostgreSQL", "postgresql", "not browser and not sqlite_only and not once"))
    if not os.environ.get("TIKISYNC_SKIP_MARIADB"):
        runs.append(("MariaDB", "mariadb", "not browser and not sqlite_only and not once"))
    results = [(label, run(label, backend, marker, extra)) for label, backend, marker in runs]
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

"""`make reliability`: run the fault, crash, bad-input and security suites with the thorough
profile, then print one table of what they recorded (tests/support/report.py).

Exits non-zero when pytest failed or any row is not all zeros.
"""
import json
import os
import subprocess
import sys
import tempfile
from collections import OrderedDict

COLUMNS = ("lost", "duplicated", "errors_500", "unclear")


def table(rows):
    merged = OrderedDict()
    for row in rows:
        key = (row["kind"], row["what"])
        into = merged.setdefault(key, dict(row, cases=0, **{c: 0 for c in COLUMNS}))
        into["cases"] += row["cases"]
        for column in COLUMNS:
            into[column] += row[column]
    lines = ["| kind | fault or input class | cases | lost | duplicated | 500s | unclear |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for (kind, what), row in merged.items():
        lines.append(f"| {kind} | {what} | {row['cases']} | {row['lost']} | "
                     f"{row['duplicated']} | {row['errors_500']} | {row['unclear']} |")
    total = sum(r["cases"] for r in merged.values())
    bad = sum(r[c] for r in merged.values() for c in COLUMNS)
    lines.append(f"| | **all** | **{total}** | | | | **{bad} not zero** |")
    return "\n".join(lines), bad


def main():
    with tempfile.NamedTemporaryFile("w+", suffix=".jsonl", delete=False) as handle:
        path = handle.name
    env = dict(os.environ, TIKISYNC_REPORT=path,
               TIKISYNC_RELIABILITY=os.environ.get("TIKISYNC_RELIABILITY", "thorough"))
    command = [sys.executable, "-m", "pytest", "-q", "-m", "reliability", *sys.argv[1:]]
    code = subprocess.call(command, env=env)
    with open(path, encoding="utf-8") as source:
        rows = [json.loads(line) for line in source if line.strip()]
    os.unlink(path)
    text, bad = table(rows)
    print("\n" + text)
    if not rows:
        print("no suite recorded anything: is the `reliability` marker on them?")
    sys.exit(1 if code or bad or not rows else 0)


if __name__ == "__main__":
    main()

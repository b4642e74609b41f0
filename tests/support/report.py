"""The reliability report (`make reliability`): fault, crash and bad-input suites record what
they ran and what came of it; tests/reliability_report.py prints one table of it.

A test calls `record(...)` once per class of cases it ran (a fault, an input class, a probe
family). Rows go to the JSON-lines file named by TIKISYNC_REPORT; without it (a plain `make
test`) nothing is written. The counts are what the test itself checked, so a row reads "this
many cases ran, and this many lost data, duplicated, answered 500, or said something unclear"
— a test fails when any of them is not zero, so the table shows zeros or the run is red.

Profiles: TIKISYNC_RELIABILITY=thorough (make reliability) asks for many cases, "quick" (the
default, make test) for few; `cases(quick, thorough)` picks the number for the current one.
"""
import json
import os

PROFILE = os.environ.get("TIKISYNC_RELIABILITY", "quick")


def thorough():
    return PROFILE == "thorough"


def cases(quick, thorough_count):
    """How many cases to run in this profile."""
    return thorough_count if thorough() else quick


def record(kind, what, cases_run, *, lost=0, duplicated=0, errors_500=0, unclear=0, note=""):
    """Add a row: `kind` groups rows (fault, crash, input, security), `what` names the class."""
    path = os.environ.get("TIKISYNC_REPORT")
    if not path:
        return
    row = {"kind": kind, "what": what, "cases": int(cases_run), "lost": lost,
           "duplicated": duplicated, "errors_500": errors_500, "unclear": unclear, "note": note}
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(row) + "\n")

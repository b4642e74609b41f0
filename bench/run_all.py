"""`make bench`: the reload benchmark (issue 6), then the sync benchmark (issue 7).

    .venv/bin/python bench/run_all.py            # N = 100,000 (several minutes)
    .venv/bin/python bench/run_all.py --quick    # smoke run of both

Each benchmark starts its own master (gunicorn on loopback) and clone in a temporary folder,
prints a table with ratios against a baseline measured in the same run, and stops every
process it started. Timings on a shared machine vary: run it more than once.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import reload as reload_bench  # noqa: E402
import sync as sync_bench  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small smoke runs")
    parser.add_argument("--n", type=int, default=100_000, help="items on the master")
    args = parser.parse_args(argv)
    reload_args = ["--quick"] if args.quick else ["--n", str(args.n)]
    sync_args = ["--quick"] if args.quick else ["--n", str(args.n)]
    print("=" * 78)
    reload_bench.main(reload_args)
    print()
    print("=" * 78)
    sync_bench.main(sync_args)


if __name__ == "__main__":
    main()

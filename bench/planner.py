"""The pathway planner: the time to import the public visa-requirements file
(../shared/data/visa/, about 40,000 passport and destination pairs) through
`planning.services.import_visa_requirements`, beside reading it with the csv module alone
and beside checking it without storing (`planning.visa.read`), in the same run. Each import
replaces the previous one of the same date, as a re-import does. Then the time to rank the
destination options of one person (`planning.options.destination_options`) on that data
and the seeded country facts: one passport, and two with stops on three routes. Prints
figures; asserts nothing about time.

    python bench/planner.py [--runs 5] [--file PATH]
    BENCH_DATABASE_URL=postgres://... python bench/planner.py   # on PostgreSQL

Targets from the issue, reported and not asserted: a full import under 5 s; options for a
case under 50 ms.
"""

import argparse
import csv
import functools
import shutil
import statistics
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from _django import ROOT, setup

SHARED = ROOT.parent / "shared" / "data" / "visa" / "passport-index-tidy-iso2.csv"
TARGET_SECONDS = 5.0
TARGET_OPTIONS_MS = 50.0
OPTION_RUNS = 200


def timed(runs: int, work: Callable[[], None]) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return times


# Usual stops a caseworker might name on a route (destination: stops).
ROUTES = {"CA": ["KE", "AE", "DE"], "DE": ["QA"], "ZA": ["KE", "ET"]}


def _rank(passports: list[str], transit: dict[str, list[str]] | None) -> None:
    from waystation.planning.options import destination_options

    destination_options(passports, transit=transit)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--file", type=Path, default=SHARED)
    args = parser.parse_args()
    if not args.file.exists():
        print(f"{args.file} is not on this machine: nothing to measure")
        return
    engine = setup()
    from django.conf import settings
    from django.db import connection

    from waystation.planning import services, visa

    raw = args.file.read_bytes().splitlines(keepends=True)
    pairs = len(visa.read(raw).pairs)
    as_of = date(2025, 1, 12)

    def csv_only() -> None:
        # The baseline reads every row and keeps nothing, as the importer's first pass does.
        rows = sum(1 for _row in csv.reader(line.decode() for line in raw))
        assert rows == pairs + 1, rows  # the header and every pair

    def check_only() -> None:
        visa.read(raw)

    def full_import() -> None:
        services.import_visa_requirements(raw, as_of=as_of, source=args.file.name, replace=True)

    print(f"visa import on {engine}: {args.file.name}, {pairs:,} pairs, {args.runs} runs each")
    rows = [
        ("csv module alone (baseline)", timed(args.runs, csv_only)),
        ("checked, not stored (visa.read)", timed(args.runs, check_only)),
        ("full import, one transaction", timed(args.runs, full_import)),
    ]
    baseline = statistics.median(rows[0][1])
    for label, times in rows:
        median = statistics.median(times)
        print(
            f"  {label:<34} median {median:6.2f} s  max {max(times):6.2f} s"
            f"  ({pairs / median:,.0f} pairs/s, x{median / baseline:.1f} the csv module)"
        )
    full = statistics.median(rows[2][1])
    print(f"  target (issue, not asserted): full import < {TARGET_SECONDS:.0f} s -> {full:.2f} s")

    from waystation.planning.options import destination_options

    print(f"\ndestination options, {OPTION_RUNS} runs each (p50 / p95 ms)")
    cases = [
        ("one passport (UG)", ["UG"], None),
        ("two passports (UG, KE), stops on 3 routes", ["UG", "KE"], ROUTES),
    ]
    for label, passports, transit in cases:
        answer = destination_options(passports, transit=transit)
        times = sorted(timed(OPTION_RUNS, functools.partial(_rank, passports, transit)))
        p50, p95 = times[len(times) // 2] * 1000, times[int(len(times) * 0.95)] * 1000
        print(
            f"  {label:<44} {p50:6.2f} / {p95:6.2f}  ({len(answer.options)} options)"
            f"  target < {TARGET_OPTIONS_MS:.0f} ms"
        )
    connection.close()
    shutil.rmtree(settings.DATA_DIR, ignore_errors=True)


if __name__ == "__main__":
    main()

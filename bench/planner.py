"""The pathway planner: the time to import the public visa-requirements file
(../shared/data/visa/, about 40,000 passport and destination pairs) through
`planning.services.import_visa_requirements`, beside reading it with the csv module alone
and beside checking it without storing (`planning.visa.read`), in the same run. Each import
replaces the previous one of the same date, as a re-import does. Then the time to rank the
destination options of one person (`planning.options.destination_options`) on that data
and the seeded country facts: one passport, two with stops on three routes, a passport and
an ID card; and for a case, its sealed documents read and then ranked, as the options page
does. Prints figures; asserts nothing about time.

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
from typing import Any

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


def _rank(passports: list[str], cards: list[str], transit: dict[str, list[str]] | None) -> None:
    from waystation.planning.options import destination_options

    destination_options(passports, national_ids=cards, origin="UG", transit=transit)


def _report(label: str, times: list[float], options: int) -> None:
    p50, p95 = times[len(times) // 2] * 1000, times[int(len(times) * 0.95)] * 1000
    print(
        f"  {label:<46} {p50:6.2f} / {p95:6.2f}  ({options} options)"
        f"  target < {TARGET_OPTIONS_MS:.0f} ms"
    )


def _case_with_documents() -> tuple[Any, bytes]:
    """A case in Uganda with a Ugandan passport, an ID card and an expired Kenyan passport,
    their sealed parts under a case key (as `planning.services.add_document` seals them)."""
    import secrets

    from django.utils import timezone

    from waystation.cases.services import open_case
    from waystation.intake.models import HelpRequest
    from waystation.planning.models import TravelDocument
    from waystation.vault import crypto
    from waystation.vault.models import Keyring

    keyring = Keyring.objects.create()
    request = HelpRequest.objects.create(
        keyring=keyring,
        reference=secrets.token_hex(6),
        country="UG",
        risk="now",
        language="en",
        consented_at=timezone.now(),
        follow_up_lookup=secrets.token_hex(32),
        person_public_key=secrets.token_bytes(32),
        inbox_public_key=secrets.token_bytes(32),
    )
    case = open_case(request)
    key = crypto.new_key()
    for kind, country, expires in (
        ("passport", "UG", date(2030, 1, 1)),
        ("national_id", "UG", None),
        ("passport", "KE", date(2020, 1, 1)),
    ):
        document = TravelDocument(
            case=case, keyring=keyring, kind=kind, status="held", expires_on=expires
        )
        document.seal(key, country=country, number="A1234567", issued_on="", notes="")
        document.save()
    return case, key


def _case_options(case: Any, key: bytes) -> Any:
    """What the options page computes: the documents read, then the ranking."""
    from django.utils import timezone

    from waystation.planning.options import destination_options
    from waystation.planning.reading import document_rows, travel_basis

    today = timezone.localdate()
    basis = travel_basis(document_rows(case, key, today=today, language="en"), today=today)
    return destination_options(
        basis.passports, national_ids=basis.national_ids, origin=case.country, transit=ROUTES
    )


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
        ("one passport (UG)", ["UG"], [], None),
        ("two passports (UG, KE), stops on 3 routes", ["UG", "KE"], [], ROUTES),
        ("a passport and an ID card (UG), stops", ["UG"], ["UG"], ROUTES),
    ]
    for label, passports, cards, transit in cases:
        answer = destination_options(passports, national_ids=cards, origin="UG", transit=transit)
        work = functools.partial(_rank, passports, cards, transit)
        _report(label, sorted(timed(OPTION_RUNS, work)), len(answer.options))
    case, key = _case_with_documents()
    answer = _case_options(case, key)
    work = functools.partial(_case_options, case, key)
    _report(
        "a case: 3 sealed documents read, then ranked",
        sorted(timed(OPTION_RUNS, work)),
        len(answer.options),
    )
    connection.close()
    shutil.rmtree(settings.DATA_DIR, ignore_errors=True)


if __name__ == "__main__":
    main()

"""The triage queue at scale: seeds synthetic cases (waystation/cases/synthetic.py) up to
each size in turn, then times the queue's first page, filtered pages, a deep page, the facet
counts and the loading of one case with its timeline. Prints p50 and p95 for each, and how
p95 grew from the smallest size to the largest. Asserts nothing about time.

    python bench/cases_queue.py [--sizes 10000,100000,1000000] [--lookups 200] [--explain]
    BENCH_DATABASE_URL=postgres://... python bench/cases_queue.py   # on PostgreSQL

Named cases_queue.py, not queue.py: a queue.py here would shadow the standard library's
`queue` for every script in this folder (Django imports it while starting).

Timings go through the same functions the queue views call, ORM included. PostgreSQL is
vacuumed and analyzed after each seeding, as autovacuum soon does after so many inserts
(which lets counts read an index alone); SQLite is not, as the application never runs
ANALYZE there.
"""

import argparse
import os
import random
import shutil
import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _django import setup

DEEP_PAGES = 20
# A measurement slow enough to spend this many seconds stops early, after at least MIN_RUNS.
TIME_BUDGET = 20.0
MIN_RUNS = 20


def ms(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000


def size_text(size: int) -> str:
    return f"{size / 1_000_000:,.0f}M" if size >= 1_000_000 else f"{size / 1000:,.0f}k"


def explain(sql: str) -> list[str]:
    """The plan of one captured query: EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE (which
    runs it) on PostgreSQL."""
    from django.db import connection

    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN ANALYZE "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql)
        return [" ".join(str(column) for column in row[-1:]) for row in cursor.fetchall()]


def database_size() -> str:
    from django.conf import settings
    from django.db import connection

    if connection.vendor == "sqlite":
        name = Path(str(settings.DATABASES["default"]["NAME"]))
        wal = Path(f"{name}-wal")
        wal_mb = wal.stat().st_size / 1e6 if wal.exists() else 0.0
        return f"file {name.stat().st_size / 1e6:,.0f} MB + WAL {wal_mb:,.0f} MB"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        return f"database {cursor.fetchone()[0] / 1e6:,.0f} MB"


def measurements(rng: random.Random, lookups: int) -> list[tuple[str, Callable[[int], int]]]:
    """What is timed at one size: a label, and a function of the run's number that returns
    how many rows it read."""
    from waystation.cases import queue
    from waystation.cases.models import Case, CaseEvent
    from waystation.cases.synthetic import COUNTRIES

    cases = Case.objects.all()
    default = queue.Filters()
    everything = queue.Filters(state="")
    overdue = queue.Filters(overdue=True)
    countries = [c.code for c in COUNTRIES]
    weights = [c.weight for c in COUNTRIES]
    filtered = [
        queue.Filters(
            country=rng.choices(countries, weights)[0],
            risk=rng.choice(["now", "weeks", "ongoing"]),
            unassigned=True,
        )
        for _ in range(lookups)
    ]

    def deep_cursor(filters: queue.Filters) -> tuple[str, int]:
        """The cursor after DEEP_PAGES pages of the queue (or before its last page)."""
        cursor, pages = "", 0
        while pages < DEEP_PAGES:
            page = queue.page(cases, filters, after=cursor)
            if not page.next_cursor:
                break
            cursor, pages = page.next_cursor, pages + 1
        return cursor, pages + 1

    deep_new, deep_new_page = deep_cursor(default)
    deep_all, deep_all_page = deep_cursor(everything)
    case_ids = []
    for _ in range(lookups):
        after = uuid.UUID(int=rng.getrandbits(128))
        found = cases.filter(id__gte=after).order_by("id").values_list("id", flat=True)
        pk = found.first() or cases.values_list("id", flat=True).first()
        assert pk is not None
        case_ids.append(pk)

    def open_case(n: int) -> int:
        case = Case.objects.select_related("request", "assigned_to").get(pk=case_ids[n])
        return 1 + len(list(CaseEvent.objects.filter(case=case).order_by("-at")[:20]))

    client, case_url = reader()

    def view(url: Callable[[int], str], *, queue_rows: bool = False) -> Callable[[int], int]:
        """GET through the test client; returns the queue rows shown (the table's rows but
        its header), so sizes compare pages of like length, or 1 for any other page."""

        def get(n: int) -> int:
            response = client.get(url(n))
            assert response.status_code == 200, response.status_code
            return response.content.count(b"<tr") - 1 if queue_rows else 1

        return get

    return [
        ("first page, new cases (default)", lambda n: len(queue.page(cases, default).cases)),
        (
            "country + risk + unassigned",
            lambda n: len(queue.page(cases, filtered[n]).cases),
        ),
        ("overdue", lambda n: len(queue.page(cases, overdue).cases)),
        (
            f"deep page, new cases (page {deep_new_page})",
            lambda n: len(queue.page(cases, default, after=deep_new).cases),
        ),
        ("first page, all states", lambda n: len(queue.page(cases, everything).cases)),
        (
            f"deep page, all states (page {deep_all_page})",
            lambda n: len(queue.page(cases, everything, after=deep_all).cases),
        ),
        (
            "country counts, new cases",
            lambda n: sum(queue.counts(cases, default, "country").values()),
        ),
        ("one case + its last 20 events", open_case),
        ("queue page, new cases (full view)", view(lambda n: "/staff/cases/", queue_rows=True)),
        (
            "queue page, country + risk (full view)",
            view(
                lambda n: (
                    f"/staff/cases/?state=new&country={filtered[n].country}&risk={filtered[n].risk}"
                ),
                queue_rows=True,
            ),
        ),
        ("case page, decrypted (full view)", view(lambda n: case_url)),
    ]


_READER: list[Any] = []
READER = "bench-reader@example.org"


def reader() -> tuple[Any, str]:
    """A signed-in intake volunteer with unlocked keys, and the page of a real request sent
    through the public form's service (sealed, blind-indexed, with a note and a task): the
    whole case page as staff see it, decryption, duplicate candidates and signals included.
    Made once; measured at every size."""
    if _READER:
        return _READER[0], _READER[1]
    import secrets
    from datetime import timedelta

    from django.conf import settings
    from django.test import Client, override_settings
    from django.utils import timezone

    from conftest import PASSWORD, make_user, sign_in
    from waystation.accounts.models import Role, Team, User
    from waystation.cases import services
    from waystation.intake import services as intake
    from waystation.vault import services as vault

    # A PostgreSQL database kept from an earlier run (BENCH_DATABASE_URL) has the reader
    # already, and the intake team's key sealed to it alone.
    volunteer = User.objects.filter(email=READER).first() or make_user(
        Role.INTAKE_VOLUNTEER, keys=True, email=READER
    )
    vault.ensure_team_key(Team.objects.get(memberships__user=volunteer))
    answers = intake.Answers(
        country="NG",
        region="Lagos",
        nationalities="NG",
        narrative="The police came to my house twice this month and my family threatened me. " * 6,
        risk="now",
        organization="",
        documents=["none"],
        name="Ada Okafor",
        channel="phone",
        handle="+234 803 555 0101",
    )
    request, _code = intake.submit_request(
        answers, language="en", form_token=secrets.token_urlsafe(16)
    )
    case = request.case
    keys = vault.unlock_with_password(volunteer, PASSWORD)
    key = vault.open_keyring(case.keyring, keys)
    for text in ("Called the partner organization.", "Evidence looks consistent."):
        services.add_note(case, text, by=volunteer, keyring_key=key)
    services.add_task(
        case,
        "Ask for a letter",
        owner=volunteer,
        due_on=timezone.localdate() + timedelta(days=3),
        by=volunteer,
        keyring_key=key,
    )
    # Served from the sources, as in tests: no collectstatic manifest in a scratch folder.
    override_settings(
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ).enable()
    client = Client(HTTP_HOST="localhost")
    sign_in(client, volunteer)
    unlocked = client.post("/staff/unlock/", {"password": PASSWORD})
    assert unlocked.status_code in (200, 302), unlocked.status_code
    _READER.extend([client, f"/staff/cases/{case.pk}/"])
    return client, _READER[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000", help="cases, comma-separated")
    parser.add_argument("--lookups", type=int, default=200, help="timed runs per measurement")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--explain", action="store_true", help="print each query's plan")
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(","))
    # The scratch database of this benchmark may hold synthetic cases.
    os.environ["WAYSTATION_ALLOW_SYNTHETIC"] = "1"
    engine = setup()

    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from waystation.cases import queue
    from waystation.cases.models import Case
    from waystation.cases.synthetic import seed_cases

    rng = random.Random(args.seed)
    results: dict[str, dict[int, list[float]]] = {}
    print(f"triage queue on {engine}; p50 and p95 in ms over {args.lookups} runs each")
    for size in sizes:
        existing = Case.objects.count()
        seeding = "nothing seeded"
        if size > existing:
            seeded = seed_cases(size - existing)
            seeding = (
                f"seeded {seeded.cases:,} cases and {seeded.events:,} events in "
                f"{seeded.seconds:,.1f} s ({seeded.rate:,.0f} cases/s)"
            )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        new = queue.Filters().apply(Case.objects.all(), timezone_now()).count()
        print(f"\n{Case.objects.count():,} cases ({new:,} new), {database_size()}; {seeding}")
        for label, run in measurements(rng, args.lookups):
            # Untimed first run: every measurement starts from the same warm cache.
            with CaptureQueriesContext(connection) as captured:
                rows = run(0)
            times: list[float] = []
            for n in range(args.lookups):
                if len(times) >= MIN_RUNS and sum(times) > TIME_BUDGET:
                    break
                started = time.perf_counter()
                run(n)
                times.append(time.perf_counter() - started)
            runs = "" if len(times) == args.lookups else f", {len(times)} runs"
            results.setdefault(label.split(" (page")[0], {})[size] = times
            print(
                f"  {label:<40} p50 {ms(times, 50):7.2f}  p95 {ms(times, 95):7.2f}"
                f"  ({rows:,} rows{runs})"
            )
            if args.explain:
                for query in captured.captured_queries:
                    sql = query["sql"]
                    print(f"      ...{sql[sql.find(' FROM ') : sql.find(' FROM ') + 300]}")
                    for line in explain(query["sql"]):
                        print(f"        {line}")

    print("\nThe case page is one real request (sealed, with notes and a task) read through the")
    print("view by a signed-in volunteer, among the synthetic cases of each size.")
    # From the smallest size, and from the next: about 1% of the cases are new, so at 10k
    # a filtered queue of new cases shows a few rows where larger sizes show a full page.
    for smallest in sizes[:2]:
        largest = sizes[-1]
        if smallest == largest:
            continue
        print(f"\np95 from {size_text(smallest)} to {size_text(largest)} cases")
        for key, by_size in results.items():
            first, last = ms(by_size[smallest], 95), ms(by_size[largest], 95)
            print(f"  {key:<40} {first:7.2f} -> {last:7.2f} ms  x{last / first:.1f}")
    # The scratch folder (and on SQLite the database in it): a million cases take 3 GB.
    connection.close()
    shutil.rmtree(settings.DATA_DIR, ignore_errors=True)


def timezone_now() -> Any:
    from django.utils import timezone

    return timezone.now()


if __name__ == "__main__":
    main()

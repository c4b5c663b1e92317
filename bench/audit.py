"""Audit chain cost: appending hash-chained entries against plain inserts of the same rows,
and the time to verify the whole chain. Prints figures; asserts nothing about time.

    python bench/audit.py [--entries 5000]
"""

import argparse
import statistics
import time
import uuid

from _django import setup


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=5000)
    args = parser.parse_args()
    engine = setup()

    from django.db import connection, transaction
    from django.utils import timezone

    from waystation.audit.models import AuditEntry
    from waystation.audit.services import log_action, verify_chain

    n = args.entries
    # Baseline: the same row inserted without the chain (no head lock, no HMAC).
    baseline = []
    with connection.cursor() as cursor:
        for i in range(n):
            started = time.perf_counter()
            with transaction.atomic():
                cursor.execute(
                    "INSERT INTO audit_auditentry (position, at, actor_id, action, object_type,"
                    " object_id, details, prev_hash, hash) VALUES (%s, %s, NULL, %s, %s, %s,"
                    " %s, %s, %s)",
                    [
                        10_000_000 + i,
                        timezone.now(),
                        "bench.thing.done",
                        "thing",
                        uuid.uuid4().hex,
                        '{"n": 1}',
                        "0" * 64,
                        "0" * 64,
                    ],
                )
            baseline.append(time.perf_counter() - started)
        cursor.execute("DELETE FROM audit_auditentry")

    chained = []
    for _ in range(n):
        started = time.perf_counter()
        log_action(
            None, "bench.thing.done", object_type="thing", object_id=uuid.uuid4(), details={"n": 1}
        )
        chained.append(time.perf_counter() - started)

    started = time.perf_counter()
    report = verify_chain()
    verify_seconds = time.perf_counter() - started

    def ms(values: list[float], q: float) -> float:
        return statistics.quantiles(values, n=100)[int(q) - 1] * 1000

    print(f"audit chain on {engine}, {n} entries")
    print(
        f"  plain insert   p50 {ms(baseline, 50):.3f} ms  p99 {ms(baseline, 99):.3f} ms"
        f"  {n / sum(baseline):,.0f}/s"
    )
    print(
        f"  log_action     p50 {ms(chained, 50):.3f} ms  p99 {ms(chained, 99):.3f} ms"
        f"  {n / sum(chained):,.0f}/s"
    )
    print(f"  ratio log_action/plain (mean): {sum(chained) / sum(baseline):.2f}")
    print(
        f"  verify_chain: {report.checked} entries in {verify_seconds:.3f} s"
        f" ({report.checked / verify_seconds:,.0f} entries/s), intact={report.ok}"
    )
    print(f"  rows now: {AuditEntry.objects.count()}")


if __name__ == "__main__":
    main()

"""Blind-index duplicate finding at scale: inserts synthetic tokens (default 1,000,000 for
about 250,000 keyrings), then times `find_matches` for random lookups, half of them hits,
against the same query run as plain SQL with tokens computed beforehand. Prints figures;
asserts nothing about time.

    python bench/blind_index.py [--rows 1000000] [--lookups 200] [--seed 1]

Names are built from random syllables and drawn with Zipf weights (the most common given
name is carried by about one keyring in ten, as real names are), so name lookups can return
thousands of rows: the figures include that.
"""

import argparse
import itertools
import random
import statistics
import time
from typing import Any

from _django import setup

SYLLABLES = [
    "a", "ba", "chi", "da", "de", "e", "fa", "go", "ha", "i", "ja", "ka", "ke", "la", "li",
    "ma", "mi", "mo", "na", "ne", "nu", "o", "ola", "ra", "ri", "sa", "se", "ta", "ti", "tu",
    "u", "wa", "ya", "yo", "za", "ade", "ife", "emi", "ngo", "kwa", "sha", "dim", "har", "zel",
]  # fmt: skip
# Nigerian mobile prefixes; lookups that should miss use 0909, which no keyring gets.
PREFIXES = ["803", "806", "813", "816", "703", "706", "810", "814", "903", "805", "807", "815"]
MISS_PREFIX = "909"
BATCH = 10_000


def word(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(syllables)).capitalize()


def phone(rng: random.Random, prefix: str) -> str:
    return f"+234{prefix}{rng.randrange(10_000_000):07d}"


def national(e164: str) -> str:
    """'+2348031234567' as people write it at home: '0803 123 4567'."""
    digits = e164.removeprefix("+234")
    return f"0{digits[:3]} {digits[3:6]} {digits[6:]}"


def ms(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000, help="tokens to insert")
    parser.add_argument("--lookups", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    engine = setup()

    from django.db import connection, transaction
    from django.utils import timezone

    from waystation.vault.blind import current_key_version, find_matches, tokens_for
    from waystation.vault.models import BlindIndexToken, Keyring

    rng = random.Random(args.seed)
    given = sorted({word(rng, rng.randint(2, 3)) for _ in range(4000)})
    family = sorted({word(rng, rng.randint(2, 4)) for _ in range(12000)})
    rng.shuffle(given)
    rng.shuffle(family)
    # Cumulative Zipf weights, computed once: random.choices would redo them on every call.
    given_weights = list(itertools.accumulate(1 / rank for rank in range(1, len(given) + 1)))
    family_weights = list(itertools.accumulate(1 / rank for rank in range(1, len(family) + 1)))

    # A keyring has a phone (85%), an e-mail (25%), and one or two name words: about four
    # tokens each. Some keep their plaintext so that lookups can hit them.
    people: list[dict[str, Any]] = []
    tokens: list[BlindIndexToken] = []
    keyrings: list[Keyring] = []
    version = current_key_version()
    inserted = 0
    insert_seconds = 0.0
    started = time.perf_counter()

    def flush() -> None:
        nonlocal inserted, insert_seconds
        flush_started = time.perf_counter()
        with transaction.atomic():
            Keyring.objects.bulk_create(keyrings, batch_size=BATCH)
            BlindIndexToken.objects.bulk_create(tokens, batch_size=BATCH)
        insert_seconds += time.perf_counter() - flush_started
        inserted += len(tokens)
        keyrings.clear()
        tokens.clear()

    while inserted + len(tokens) < args.rows:
        name = rng.choices(given, cum_weights=given_weights)[0]
        if rng.random() < 0.5:
            name += " " + rng.choices(family, cum_weights=family_weights)[0]
        person = {
            "phones": [phone(rng, rng.choice(PREFIXES))] if rng.random() < 0.85 else [],
            "emails": [f"{name.replace(' ', '.').lower()}{rng.randrange(10**6)}@example.org"]
            if rng.random() < 0.25
            else [],
            "names": [name],
        }
        keyring = Keyring()
        keyrings.append(keyring)
        for kind, token in tokens_for(**person):  # type: ignore[arg-type]
            tokens.append(
                BlindIndexToken(keyring=keyring, kind=kind, token=token, key_version=version)
            )
        if len(people) < 10_000:
            people.append({**person, "keyring": keyring.id})
        if len(tokens) >= BATCH:
            flush()
    flush()
    total_seconds = time.perf_counter() - started
    keyring_count = Keyring.objects.count()
    # 1% of keyrings shredded but (wrongly) still indexed, so the join filter does real work.
    shredded = Keyring.objects.order_by("?").values_list("id", flat=True)[: keyring_count // 100]
    Keyring.objects.filter(id__in=list(shredded)).update(shredded_at=timezone.now())

    lookups: list[dict[str, Any]] = []
    for n in range(args.lookups):
        if n % 2 == 0:
            person = rng.choice(people)
            lookups.append(
                {
                    # Written the other way round from how they were indexed.
                    "phones": [national(p) for p in person["phones"]],
                    "emails": [e.upper() for e in person["emails"]],
                    "names": [person["names"][0].upper()],
                    "region": "NG",
                }
            )
        else:
            lookups.append(
                {
                    "phones": [national(phone(rng, MISS_PREFIX))],
                    "emails": [f"nobody{n}@example.net"],
                    "names": [word(rng, 5) + " " + word(rng, 5)],
                    "region": "NG",
                }
            )

    def baseline_sql(pairs: set[tuple[str, str]]) -> tuple[str, list[object]]:
        kinds = sorted({kind for kind, _ in pairs})
        clauses, params = [], []
        for kind in kinds:
            kind_tokens = sorted(token for k, token in pairs if k == kind)
            clauses.append(f"(t.kind = %s AND t.token IN ({', '.join(['%s'] * len(kind_tokens))}))")
            params += [kind, *kind_tokens]
        # Only placeholders and fixed column names are joined into the text; values are params.
        sql = (
            "SELECT t.keyring_id, t.kind FROM vault_blindindextoken t"  # noqa: S608
            " JOIN vault_keyring k ON k.id = t.keyring_id"
            f" WHERE ({' OR '.join(clauses)}) AND t.key_version = %s AND k.shredded_at IS NULL"
        )
        return sql, [*params, version]

    precomputed = [baseline_sql(tokens_for(**lookup)) for lookup in lookups]

    # One untimed pass so that both measurements read from a warm page cache.
    for lookup in lookups:
        find_matches(**lookup)

    module_times, baseline_times, matched = [], [], []
    with connection.cursor() as cursor:
        for lookup, (sql, params) in zip(lookups, precomputed, strict=True):
            started = time.perf_counter()
            result = find_matches(**lookup)
            module_times.append(time.perf_counter() - started)
            matched.append(len(result))

            started = time.perf_counter()
            cursor.execute(sql, params)  # type: ignore[arg-type]
            cursor.fetchall()
            baseline_times.append(time.perf_counter() - started)

    hits = sum(1 for found in matched[::2] if found)
    false_hits = sum(1 for found in matched[1::2] if found)
    rows = BlindIndexToken.objects.count()
    print(f"blind index on {engine}: {rows:,} tokens for {keyring_count:,} keyrings")
    print(
        f"  insert: {inserted / total_seconds:,.0f} tokens/s with normalization and hashing,"
        f" {inserted / insert_seconds:,.0f} tokens/s into the database alone"
        f" ({total_seconds:.1f} s in all)"
    )
    print(
        f"  {len(lookups)} lookups: {hits} of {len(matched[::2])} meant as hits matched,"
        f" {false_hits} of {len(matched[1::2])} meant as misses matched"
    )
    print(
        f"  find_matches"
        f"  p50 {ms(module_times, 50):.2f} ms  p95 {ms(module_times, 95):.2f} ms"
        f"  p99 {ms(module_times, 99):.2f} ms"
    )
    print(
        f"  plain indexed query, tokens precomputed  p50 {ms(baseline_times, 50):.2f} ms"
        f"  p95 {ms(baseline_times, 95):.2f} ms  p99 {ms(baseline_times, 99):.2f} ms"
    )
    print(
        f"  ratio find_matches/plain (p50): "
        f"{statistics.median(module_times) / statistics.median(baseline_times):.2f}"
    )
    print(
        f"  keyrings matched per lookup: median {statistics.median(matched):,.0f}"
        f"  max {max(matched):,}"
    )


if __name__ == "__main__":
    main()

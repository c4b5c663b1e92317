"""Vault costs: sealing a typical request (new case key sealed to the intake team, eight
fields encrypted), unlocking a staff member's keys at sign-in (Argon2id with the configured
parameters), and opening a case key from an unlocked session. Prints figures only.

    python bench/vault.py [--requests 300]
"""

import argparse
import statistics
import time

from _django import setup

TYPICAL = {
    "name": "Amani Wanjiru",
    "contact": "signal: +254 700 000 000, evenings only, never leave messages",
    "narrative": "My family found messages from my partner and reported me to the police. " * 12,
    "region": "Nairobi",
    "partner_org": "A community group I trust",
    "documents": "national id, expired passport",
    "sogiesc": "lesbian",
    "language": "sw",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--unlocks", type=int, default=10)
    args = parser.parse_args()
    engine = setup()

    import json

    from django.conf import settings
    from django.db import transaction

    from waystation.accounts.models import Membership, Role, Team, User
    from waystation.vault import crypto
    from waystation.vault import services as vault

    password = "violet tractor sings at dawn"
    team = Team.objects.create(name="Intake", role=Role.INTAKE_VOLUNTEER)
    members = []
    for n in range(3):
        user = User.objects.create_user(f"intake{n}@example.org", password, display_name="I")
        Membership.objects.create(team=team, user=user)
        members.append(user)
    started = time.perf_counter()
    for user in members:
        vault.create_user_key(user, password)
    created_ms = (time.perf_counter() - started) / len(members) * 1000

    seal_times, plain_times = [], []
    keyrings = []
    for _ in range(args.requests):
        started = time.perf_counter()
        with transaction.atomic():
            keyring, key = vault.create_keyring(teams=[team], by=None)
            for field, value in TYPICAL.items():
                crypto.encrypt(
                    key, json.dumps(value).encode(), f"field:{keyring.pk}:{field}".encode()
                )
        seal_times.append((time.perf_counter() - started) * 1000)
        keyrings.append(keyring)
        # Baseline: the same transaction writing a row, no keys, no encryption.
        started = time.perf_counter()
        with transaction.atomic():
            type(keyring).objects.create()
        plain_times.append((time.perf_counter() - started) * 1000)

    unlock_times = []
    for _ in range(args.unlocks):
        started = time.perf_counter()
        keys = vault.unlock_with_password(members[0], password)
        unlock_times.append((time.perf_counter() - started) * 1000)

    open_times = []
    fresh = vault.unlock_with_password(members[0], password)
    for keyring in keyrings[:200]:
        started = time.perf_counter()
        vault.open_keyring(keyring, fresh)
        open_times.append((time.perf_counter() - started) * 1000)

    def q(values: list[float], p: int) -> float:
        return statistics.quantiles(values, n=100)[p - 1]

    print(
        f"vault on {engine}; Argon2id {settings.VAULT_KDF_MEMORY_MIB} MiB, "
        f"ops {settings.VAULT_KDF_OPS}"
    )
    print(f"  create personal keys        {created_ms:8.1f} ms each")
    print(
        f"  seal + encrypt a request    p50 {q(seal_times, 50):6.2f} ms  p99 "
        f"{q(seal_times, 99):6.2f} ms  ({len(seal_times) / (sum(seal_times) / 1000):,.0f}/s)"
    )
    print(
        f"  baseline: plain row insert  p50 {q(plain_times, 50):6.2f} ms  ratio "
        f"{statistics.median(seal_times) / statistics.median(plain_times):.1f}x"
    )
    print(f"  unlock at sign-in           median {statistics.median(unlock_times):6.1f} ms")
    print(
        f"  open a case key (team)      p50 {q(open_times, 50):6.3f} ms  p99 "
        f"{q(open_times, 99):6.3f} ms"
    )
    assert keys


if __name__ == "__main__":
    main()

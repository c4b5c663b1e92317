"""Cost of a password sign-in through the real service (Argon2id, throttle bookkeeping,
audit entry), against Argon2id hashing alone, and of a refused (throttled) attempt.

    python bench/sign_in.py [--attempts 30]
"""

import argparse
import statistics
import time

from _django import setup


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--attempts", type=int, default=30)
    args = parser.parse_args()
    engine = setup()

    from django.contrib.auth.hashers import make_password
    from django.test import RequestFactory

    from waystation.accounts.models import LoginThrottle, User
    from waystation.accounts.services import sign_in

    password = "violet tractor sings at dawn"
    User.objects.create_user("bench@example.org", password, display_name="Bench")
    request = RequestFactory().post("/staff/sign-in/")

    def timed(fn) -> list[float]:  # type: ignore[no-untyped-def]
        times = []
        for _ in range(args.attempts):
            LoginThrottle.objects.all().delete()
            started = time.perf_counter()
            fn()
            times.append((time.perf_counter() - started) * 1000)
        return times

    hashing = timed(lambda: make_password(password))
    correct = timed(lambda: sign_in(request, "bench@example.org", password))
    wrong = timed(lambda: sign_in(request, "bench@example.org", "not the password"))
    unknown = timed(lambda: sign_in(request, "nobody@example.org", "not the password"))
    LoginThrottle.objects.all().delete()
    for _ in range(5):
        sign_in(request, "bench@example.org", "not the password")
        LoginThrottle.objects.filter(lockouts=0).update(blocked_until=None)
    throttled = []
    for _ in range(args.attempts):
        started = time.perf_counter()
        result = sign_in(request, "bench@example.org", password)
        throttled.append((time.perf_counter() - started) * 1000)
        assert result.blocked_seconds

    print(f"sign-in on {engine}, {args.attempts} attempts each (median ms, stdev)")
    for label, values in [
        ("argon2id hash alone", hashing),
        ("right password", correct),
        ("wrong password", wrong),
        ("unknown address", unknown),
        ("throttled attempt", throttled),
    ]:
        print(f"  {label:<20} {statistics.median(values):8.1f}  ±{statistics.stdev(values):.1f}")
    print(
        f"  ratio unknown/wrong (equal timing class): "
        f"{statistics.median(unknown) / statistics.median(wrong):.2f}"
    )


if __name__ == "__main__":
    main()

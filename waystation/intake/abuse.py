"""Abuse resistance without third parties: a signed form token with a time, a small
proof of work that the browser's own JavaScript solves, and hourly caps.

Without JavaScript the form still works: a form without proof must have been open for a
few seconds, and such forms share a smaller hourly cap. Per-source counting uses a keyed
hash of the address with a salt that changes every day and lives only in the cache; the
address itself is never stored, and neither is the salt.

Follow-up code logins have budgets of wrong codes: one for the whole site per minute, and
one per source (the same keyed hash) per 15 minutes. Shared addresses meet only the first.
"""

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone

SALT = "waystation.intake.form"
TOKEN_MAX_AGE = 24 * 3600
MINUTE = 60
HOUR = 3600
# Wrong follow-up codes are counted per source over this window.
CODE_SOURCE_WINDOW = 15 * MINUTE


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str = ""  # "token", "too_fast", "global", "source", "unproven"


def new_form_token() -> str:
    return signing.dumps({"r": secrets.token_urlsafe(12), "t": int(time.time())}, salt=SALT)


def token_age(form_token: str) -> float | None:
    """Seconds since the form was served, or None for a forged or stale token."""
    try:
        data = signing.loads(form_token, salt=SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    return time.time() - float(data["t"])


def proof_is_valid(form_token: str, nonce: str) -> bool:
    """True when sha256(token ":" nonce) starts with the configured number of zero bits."""
    if not nonce or len(nonce) > 32 or not nonce.isdigit():
        return False
    digest = hashlib.sha256(f"{form_token}:{nonce}".encode()).digest()
    bits = settings.INTAKE_PROOF_BITS
    value = int.from_bytes(digest, "big")
    return value >> (256 - bits) == 0


def _daily_salt() -> bytes:
    key = f"intake:salt:{timezone.now().date().isoformat()}"
    salt = cache.get(key)
    if salt is None:
        cache.add(key, secrets.token_hex(32), 2 * 24 * HOUR)
        salt = cache.get(key)
    return str(salt).encode()


def _source(request: HttpRequest) -> str | None:
    address = request.META.get("REMOTE_ADDR", "")
    if not address or address in settings.INTAKE_SHARED_ADDRESSES:
        # A Tor onion service or a proxy: every sender looks the same, so no per-source cap.
        return None
    return hmac.new(_daily_salt(), address.encode(), hashlib.sha256).hexdigest()[:32]


def _bucket(key: str, window: int) -> str:
    return f"intake:cap:{key}:{int(time.time() // window)}"


def _count(key: str, window: int = HOUR) -> int:
    """Add one to the counter for this window, atomically, and return its new value."""
    bucket = _bucket(key, window)
    if cache.add(bucket, 1, window + 60):
        return 1
    try:
        return int(cache.incr(bucket))
    except ValueError:
        # The counter expired between add and incr.
        cache.set(bucket, 1, window + 60)
        return 1


def _counted(key: str, window: int) -> int:
    """The counter for this window, without changing it."""
    return int(cache.get(_bucket(key, window), 0))


def check_submission(request: HttpRequest, form_token: str, nonce: str) -> Verdict:
    """Decide whether a submission is accepted, counting it against the caps if it is."""
    age = token_age(form_token)
    if age is None:
        return Verdict(False, "token")
    proven = proof_is_valid(form_token, nonce)
    if not proven and age < settings.INTAKE_MIN_SECONDS_WITHOUT_PROOF:
        return Verdict(False, "too_fast")
    if _count("global") > settings.INTAKE_MAX_PER_HOUR:
        return Verdict(False, "global")
    source = _source(request)
    if source is not None and _count(f"source:{source}") > settings.INTAKE_MAX_PER_SOURCE_HOUR:
        return Verdict(False, "source")
    if not proven and _count("unproven") > settings.INTAKE_MAX_UNPROVEN_PER_HOUR:
        return Verdict(False, "unproven")
    return Verdict(True)


def code_login_allowed(request: HttpRequest) -> bool:
    """Whether a follow-up code may be tried now: false once the site-wide budget of wrong
    codes for this minute, or this source's budget for this 15-minute window, is spent.

    Counts nothing (see record_code_failure). Shared addresses (a Tor onion service, a
    proxy) meet only the site-wide budget. Attempts already past this check when a budget
    runs out still count, so a burst can overshoot by the attempts in flight.
    """
    if _counted("code:global", MINUTE) >= settings.FOLLOW_UP_FAILURES_PER_MINUTE:
        return False
    source = _source(request)
    if source is None:
        return True
    spent = _counted(f"code:source:{source}", CODE_SOURCE_WINDOW)
    return spent < settings.FOLLOW_UP_FAILURES_PER_SOURCE


def record_code_failure(request: HttpRequest) -> None:
    """Count one wrong or malformed follow-up code, site-wide and for the request's source
    (unless the address is shared)."""
    _count("code:global", MINUTE)
    source = _source(request)
    if source is not None:
        _count(f"code:source:{source}", CODE_SOURCE_WINDOW)

"""Writing and checking the audit chain.

Each entry's hash is an HMAC-SHA256, keyed with the audit key, over its own fields and the
previous entry's hash. Someone who can write to the database but does not hold the key
cannot forge a consistent chain; the verifier names the first entry that was altered,
inserted or deleted.
"""

import functools
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from waystation.lib import rows

from .models import AuditEntry, AuditHead

GENESIS = "0" * 64
# Details are for identifiers, counts and codes; long strings are where content hides.
MAX_DETAIL_LENGTH = 120
DetailValue = str | int | bool | None


def audit_key() -> bytes:
    if settings.AUDIT_KEY:
        return settings.AUDIT_KEY.encode()
    return hashlib.blake2b(
        settings.SECRET_KEY.encode(), person=b"ws-audit-chain", digest_size=32
    ).digest()


def _canonical(entry: AuditEntry) -> bytes:
    at = entry.at.astimezone(UTC)
    fields = [
        entry.position,
        at.isoformat(timespec="microseconds"),
        str(entry.actor_id) if entry.actor_id else None,
        entry.action,
        entry.object_type,
        str(entry.object_id) if entry.object_id else None,
        entry.details,
        entry.prev_hash,
    ]
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _now_to_millisecond() -> datetime:
    # Django's JSON serializer keeps milliseconds only; entries must hash the same after a
    # backup and restore.
    now = timezone.now()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def compute_hash(entry: AuditEntry) -> str:
    return hmac.new(audit_key(), _canonical(entry), hashlib.sha256).hexdigest()


def _clean_details(details: dict[str, DetailValue] | None) -> dict[str, DetailValue]:
    cleaned: dict[str, DetailValue] = {}
    for key, value in (details or {}).items():
        if not isinstance(value, str | int | bool | type(None)):
            raise TypeError(f"Audit detail {key!r} must be a plain value, not {type(value)}.")
        if isinstance(value, str) and len(value) > MAX_DETAIL_LENGTH:
            raise ValueError(f"Audit detail {key!r} is too long to be an identifier.")
        cleaned[str(key)] = value
    return cleaned


def log_action(
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    *,
    object_type: str = "",
    object_id: uuid.UUID | None = None,
    details: dict[str, DetailValue] | None = None,
) -> AuditEntry:
    """Append one entry to the chain inside the caller's transaction.

    `actor` is a user (or None for the system), `action` a code such as
    `accounts.user.locked`, `obj` the model instance acted on. Details hold identifiers,
    counts and codes only, never content. Raises TypeError or ValueError on details that
    look like content.
    """
    if obj is not None:
        object_type = object_type or obj._meta.model_name or ""
        object_id = object_id or obj.pk
    actor_id = getattr(actor, "pk", None) if actor is not None else None
    read_head, write_head = _head_sql(connection.vendor)
    # No savepoint: an entry that fails to append must fail the caller's whole transaction.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(read_head)
        row = cursor.fetchone()
        if row is None:
            AuditHead.objects.get_or_create(pk=1, defaults={"position": 0, "hash": GENESIS})
            cursor.execute(read_head)
            row = cursor.fetchone()
        position, prev_hash = row
        entry = AuditEntry(
            position=position + 1,
            at=_now_to_millisecond(),
            actor_id=actor_id,
            action=action,
            object_type=object_type,
            object_id=object_id,
            details=_clean_details(details),
            prev_hash=prev_hash,
        )
        entry.hash = compute_hash(entry)
        # With SQL built once (every write of the app appends here); the entry's own id,
        # assigned by the database, is not read back: the chain names entries by position.
        rows.insert([entry])
        cursor.execute(write_head, [entry.position, entry.hash])
    return entry


@functools.cache
def _head_sql(vendor: str) -> tuple[str, str]:
    """SQL to read the head under a row lock and to move it: every write of the app appends
    here, so it skips the ORM's query building."""
    quote = connection.ops.quote_name
    table, position, hash_ = (quote(AuditHead._meta.db_table), quote("position"), quote("hash"))
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    return (
        f"SELECT {position}, {hash_} FROM {table} WHERE {quote('id')} = 1{lock}",  # noqa: S608 - quoted names only
        f"UPDATE {table} SET {position} = %s, {hash_} = %s WHERE {quote('id')} = 1",  # noqa: S608
    )


@dataclass(frozen=True)
class ChainProblem:
    position: int
    kind: str  # "altered", "inserted", "deleted", "truncated"
    message: str


@dataclass(frozen=True)
class ChainReport:
    checked: int
    head_position: int
    head_hash: str
    problem: ChainProblem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _entries(batch: int = 2000) -> Iterator[AuditEntry]:
    last = 0
    while True:
        rows = list(AuditEntry.objects.filter(position__gt=last).order_by("position")[:batch])
        if not rows:
            return
        yield from rows
        last = rows[-1].position


def verify_chain() -> ChainReport:
    """Walk the chain in order and report the first entry that breaks it."""
    head = AuditHead.objects.filter(pk=1).first()
    head_position = head.position if head else 0
    head_hash = head.hash if head else GENESIS
    expected_position, expected_prev, checked = 1, GENESIS, 0

    def report(position: int, kind: str, message: str) -> ChainReport:
        return ChainReport(checked, head_position, head_hash, ChainProblem(position, kind, message))

    for entry in _entries():
        checked += 1
        if entry.position > head_position:
            return report(
                entry.position,
                "inserted",
                f"Entry #{entry.position} was inserted after the end of the chain.",
            )
        if compute_hash(entry) != entry.hash:
            return report(
                entry.position,
                "altered",
                f"Entry #{entry.position} was altered: its hash does not match.",
            )
        if entry.position != expected_position:
            return report(
                expected_position,
                "deleted",
                f"Entries #{expected_position} to #{entry.position - 1} were deleted.",
            )
        if entry.prev_hash != expected_prev:
            return report(
                entry.position,
                "inserted",
                f"Entry #{entry.position} does not follow the entry before it.",
            )
        expected_prev, expected_position = entry.hash, entry.position + 1
    if head_position != expected_position - 1 or head_hash != expected_prev:
        return report(
            expected_position,
            "deleted",
            f"Entries #{expected_position} to #{head_position} at the end were deleted.",
        )
    return ChainReport(checked, head_position, head_hash, None)

"""What the verification page sums up about a case: its evidence items with their reviews
and integrity hashes, its attestation requests (counts), and where its decisions stand.

Reads only: the caller has reached the case through `access.py`. Hashes and notes need
the case key; without it the page shows the operational fields alone.
"""

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Count, Q

from waystation.cases.models import Case
from waystation.intake import services as intake
from waystation.intake.models import Evidence
from waystation.partners.models import AttestationRequest
from waystation.vault import crypto, files
from waystation.vault.fields import decrypt_value

from .models import Decision, EvidenceReview
from .services import due_reasons


@dataclass(frozen=True)
class EvidenceRow:
    """One evidence item as the page lists it. `sha256` and `notes` are filled in only for a
    reader who opened the case key; `damaged` when its keys or metadata do not open."""

    evidence: Evidence
    review: EvidenceReview | None
    sha256: str = ""
    notes: str = ""
    damaged: bool = False

    @property
    def status(self) -> str:
        return self.review.status if self.review else EvidenceReview.Status.PENDING

    @property
    def kind_label(self) -> str:
        return str(EvidenceReview.Kind(self.review.kind if self.review else "other").label)

    @property
    def status_label(self) -> str:
        return str(EvidenceReview.Status(self.status).label)

    @property
    def version(self) -> int:
        return self.review.version if self.review else 0


def evidence_rows(case: Case, keyring_key: bytes | None) -> list[EvidenceRow]:
    """Every evidence item of the case's request, oldest first, with its review."""
    received = list(
        Evidence.objects.filter(request_id=case.request_id)
        .select_related("original", "review", "review__reviewed_by")
        .order_by("received_at", "pk")
    )
    reviews = {e.pk: getattr(e, "review", None) for e in received}
    if keyring_key is None:
        return [EvidenceRow(e, reviews[e.pk]) for e in received]
    try:
        inbox = intake.inbox_key(case.request, keyring_key)
    except crypto.DecryptionError:
        return [EvidenceRow(e, reviews[e.pk], damaged=True) for e in received]
    return [_opened_row(e, reviews[e.pk], inbox, keyring_key) for e in received]


def _opened_row(
    evidence: Evidence, review: EvidenceReview | None, inbox: bytes, keyring_key: bytes
) -> EvidenceRow:
    # The original's key opens its sealed metadata only (name, type, size, SHA-256): the
    # original itself is never read here.
    try:
        keys = json.loads(crypto.unseal(inbox, bytes(evidence.sealed_keys)))
        meta = files.read_meta(evidence.original, bytes.fromhex(keys["original"]))
        notes = decrypt_value(keyring_key, review, "notes") if review else None
    except (crypto.DecryptionError, ValueError, KeyError, TypeError):
        return EvidenceRow(evidence, review, damaged=True)
    return EvidenceRow(evidence, review, sha256=meta.sha256, notes=notes or "")


def review_counts(rows: list[EvidenceRow]) -> list[tuple[str, int]]:
    """How many items stand at each review status, in the order of the statuses."""
    counted = Counter(row.status for row in rows)
    return [(str(label), counted[value]) for value, label in EvidenceReview.Status.choices]


@dataclass(frozen=True)
class AttestationCounts:
    answered: int = 0
    pending: int = 0
    # Expired unanswered, or cancelled.
    lapsed: int = 0
    from_partners: int = 0
    from_individuals: int = 0


def attestation_counts(case: Case, now: datetime) -> AttestationCounts:
    """Counts of the case's attestation requests, never what was disclosed or answered."""
    answered = Q(answered_at__isnull=False)
    live = Q(answered_at__isnull=True, cancelled_at__isnull=True, expires_at__gt=now)
    counts = AttestationRequest.objects.filter(case_id=case.pk).aggregate(
        answered=Count("pk", filter=answered),
        pending=Count("pk", filter=live),
        lapsed=Count("pk", filter=~answered & ~live),
        from_partners=Count("pk", filter=answered & Q(partner__isnull=False)),
        from_individuals=Count("pk", filter=answered & Q(verifier__isnull=False)),
    )
    return AttestationCounts(**counts)


@dataclass(frozen=True)
class Standing:
    """Where the case's verification stands."""

    # The decided "verified" decision in force, if any.
    verified: Decision | None = None
    # The open "verified" proposal awaiting a second reviewer, if any.
    proposal: Decision | None = None
    # Every decision, newest first.
    history: list[Decision] = field(default_factory=list)
    # Why re-verification is due ("date", "signal"); empty when it is not.
    due: list[str] = field(default_factory=list)


def standing(case: Case, signal_codes: list[str], *, today: date) -> Standing:
    history = list(
        Decision.objects.filter(case_id=case.pk)
        .select_related("proposed_by", "confirmed_by")
        .order_by("-proposed_at")
    )
    verified = next(
        (
            d
            for d in history
            if d.outcome == Decision.Outcome.VERIFIED and d.status == Decision.Status.DECIDED
        ),
        None,
    )
    proposal = next((d for d in history if d.status == Decision.Status.PROPOSED), None)
    due = due_reasons(verified, signal_codes, today=today) if verified else []
    return Standing(verified=verified, proposal=proposal, history=history, due=due)


def with_summaries(
    history: list[Decision], keyring_key: bytes | None
) -> list[tuple[Decision, str]]:
    """Each decision with its sealed summary, for a reader who opened the case key (an empty
    summary otherwise, or when it is damaged)."""
    return [(decision, _summary(decision, keyring_key)) for decision in history]


def _summary(decision: Decision, keyring_key: bytes | None) -> str:
    if keyring_key is None:
        return ""
    try:
        return str(decrypt_value(keyring_key, decision, "summary") or "")
    except crypto.DecryptionError:
        return ""

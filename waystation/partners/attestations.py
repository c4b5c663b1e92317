"""Attestation requests ("do you know this person?") to a partner or an individual verifier
(`verifiers.py`): every write, and every read of them.

A request travels as a link holding a random token (256 bits). Only the token's SHA-256 is
stored; what the caseworker chose to disclose is sealed under a key derived from the token,
so only the link opens it. The link works once: opening it marks the request opened (the
page then lives on a session-bound handle, see `attestation_views`), answering seals the
answer to the case's inbox key (staff open it with the case key, as the person's messages)
and erases the disclosure. Used, expired, cancelled and unknown links are refused alike.

Audit entries hold ids, field names and codes: never a disclosed value, an answer or a token.
"""

import base64
import hashlib
import io
import json
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, NoReturn

from django.db import models, transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, UnidentifiedImageError

from waystation.accounts.access import staff_user
from waystation.accounts.models import Role, User
from waystation.audit.services import log_action
from waystation.cases.access import visible_cases
from waystation.cases.models import Case
from waystation.cases.services import _locked
from waystation.cases.workflow import ENDED, TransitionRefusedError
from waystation.intake import services as intake
from waystation.intake.models import Evidence
from waystation.vault import crypto, files
from waystation.vault import services as vault
from waystation.vault.access import NotUnlockedError, UnreadableError, keyring_key, read_sealed
from waystation.vault.fields import decrypt_value

from .models import AttestationRequest, IndividualVerifier, Partner
from .services import agreement_in_force

# What a caseworker may disclose, in the order the verifier's page shows it.
DISCLOSABLE = {
    "first_name": gettext_lazy("First name"),
    "region": gettext_lazy("Region or city"),
    "country": gettext_lazy("Country"),
    "photo": gettext_lazy("A photo the person sent"),
    "question": gettext_lazy("A question you write"),
}
DEFAULT_DAYS = 7
MAX_DAYS = 30
QUESTION_LENGTH = 500
# A disclosed photo is a smaller copy: enough to recognize a face, less of the background.
PHOTO_SIDE = 800
PHOTO_TYPES = {"image/jpeg", "image/png"}
TOKEN_BYTES = 32
DISCLOSURE_PURPOSE = b"attestation disclosure"


class KnowsPerson(models.TextChoices):
    YES = "yes", gettext_lazy("Yes, I know this person")
    NO = "no", gettext_lazy("No, I do not know this person")
    UNSURE = "unsure", gettext_lazy("I am not sure")


class Certainty(models.TextChoices):
    CERTAIN = "certain", gettext_lazy("Certain")
    FAIRLY = "fairly", gettext_lazy("Fairly sure")
    UNSURE = "unsure", gettext_lazy("Not sure")


class Progress(models.TextChoices):
    """Where a request stands, as the case page shows it."""

    WAITING = "waiting", gettext_lazy("Waiting")
    OPENED = "opened", gettext_lazy("Opened, not answered yet")
    ANSWERED = "answered", gettext_lazy("Answered")
    EXPIRED = "expired", gettext_lazy("Expired")
    CANCELLED = "cancelled", gettext_lazy("Cancelled")


class AttestationRefusedError(TransitionRefusedError):
    """A request or a change that is not allowed; `message` says why. Nothing was recorded."""


class LinkClosedError(Exception):
    """The link was used, has expired, was cancelled, never existed, or its addressee may no
    longer be asked: the verifier's page says the same for all of them."""


class AgreementLapsedError(Exception):
    """The partner's data-sharing agreement is no longer in force: nothing is disclosed and
    the link stays unused, so it works again if the agreement is renewed before it expires."""


@dataclass(frozen=True)
class Answer:
    knows: str
    certainty: str
    how: str = ""
    comments: str = ""


# --- Tokens and sealing ---------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _disclosure_key(token: str) -> bytes:
    return crypto.derive_key(hashlib.sha512(token.encode()).digest(), DISCLOSURE_PURPOSE)


def _associated(attestation_id: uuid.UUID) -> bytes:
    return f"attestation-disclosed:{attestation_id}".encode()


def _read_disclosed(attestation: AttestationRequest, key: bytes) -> dict[str, Any]:
    """The disclosed values; LinkClosedError when erased, altered or opened with another key."""
    try:
        values = json.loads(
            crypto.decrypt(key, bytes(attestation.disclosed or b""), _associated(attestation.pk))
        )
    except (crypto.DecryptionError, ValueError):
        raise LinkClosedError from None
    return values if isinstance(values, dict) else {}


# --- Who may be asked -----------------------------------------------------------------------


def askable_partners() -> list[Partner]:
    """Partners not flagged compromised with an agreement in force today, by name."""
    partners = Partner.objects.filter(compromised_at__isnull=True).order_by("name")
    return [partner for partner in partners if agreement_in_force(partner) is not None]


def active_verifiers() -> QuerySet[IndividualVerifier]:
    return IndividualVerifier.objects.filter(active=True).order_by("added_at", "pk")


def partner_refusal(partner: Partner) -> str:
    """Why the partner may not be asked or answer now: "compromised", "agreement" (none in
    force: missing, not signed yet or expired); "" when it may."""
    if partner.compromised_at is not None:
        return "compromised"
    return "" if agreement_in_force(partner) is not None else "agreement"


def _addressee_refusal(attestation: AttestationRequest) -> str:
    """Why its addressee may not be asked or answer now: "compromised", "agreement",
    "inactive"; "" when they may."""
    partner, verifier = attestation.partner, attestation.verifier
    if partner is not None:
        return partner_refusal(partner)
    return "" if verifier is not None and verifier.active else "inactive"


ADDRESSEE_REFUSALS = {
    "compromised": gettext_lazy("This partner is flagged compromised: it cannot be asked."),
    "agreement": gettext_lazy(
        "This partner has no data-sharing agreement in force, so it cannot be asked. "
        "A coordinator records a renewed agreement first."
    ),
    "inactive": gettext_lazy("This verifier is no longer active."),
}


def _link_refusal(attestation: AttestationRequest, *, opening: bool) -> str:
    """Why the link cannot open (`opening`) or its page cannot be used now; "" when it can."""
    if attestation.cancelled_at is not None:
        return "cancelled"
    if attestation.answered_at is not None or (opening and attestation.opened_at is not None):
        return "used"
    if not opening and attestation.opened_at is None:
        return "not_opened"
    if attestation.expires_at <= timezone.now():
        return "expired"
    return _addressee_refusal(attestation)


# --- Creating, cancelling -------------------------------------------------------------------


def _first_name(case: Case, keyring_key: bytes) -> str:
    try:
        words = str(decrypt_value(keyring_key, case.request, "name") or "").split()
    except crypto.DecryptionError:
        raise AttestationRefusedError(
            _("The name in this request is damaged and cannot be disclosed.")
        ) from None
    if not words:
        raise AttestationRefusedError(
            _("The person gave no name: leave the first name out, or ask them first.")
        )
    return words[0]


def _photo_copy(case: Case, evidence: Evidence | None, keyring_key: bytes) -> str:
    """A smaller copy of one of the case's photos (its derivative, without metadata),
    re-encoded from its pixels, as base64 text."""
    unreadable = _("This photo cannot be disclosed: choose another, or leave the photo out.")
    if evidence is None or evidence.request_id != case.request_id or evidence.derivative is None:
        raise AttestationRefusedError(unreadable)
    try:
        key = intake.derivative_key(evidence, intake.inbox_key(case.request, keyring_key))
        if key is None or files.read_meta(evidence.derivative, key).content_type not in PHOTO_TYPES:
            raise AttestationRefusedError(unreadable)
        with Image.open(io.BytesIO(files.read_all(evidence.derivative, key))) as image:
            image.thumbnail((PHOTO_SIDE, PHOTO_SIDE))
            pixels = image.convert("RGB")
    except (crypto.DecryptionError, OSError, ValueError, UnidentifiedImageError):
        raise AttestationRefusedError(unreadable) from None
    # A new image carries none of the original's `info` (where metadata lives).
    clean = Image.new("RGB", pixels.size)
    clean.paste(pixels)
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=85)
    return base64.b64encode(out.getvalue()).decode()


def _disclosure(
    case: Case, chosen: list[str], *, question: str, photo: Evidence | None, keyring_key: bytes
) -> dict[str, str]:
    values: dict[str, str] = {}
    request = case.request
    if "first_name" in chosen:
        values["first_name"] = _first_name(case, keyring_key)
    if "region" in chosen:
        if not request.region.strip():
            raise AttestationRefusedError(_("The request names no region or city."))
        values["region"] = request.region.strip()
    if "country" in chosen:
        values["country"] = request.country
    if "photo" in chosen:
        values["photo"] = _photo_copy(case, photo, keyring_key)
    if "question" in chosen:
        if not question.strip():
            raise AttestationRefusedError(_("Write the question, or leave it out."))
        if len(question) > QUESTION_LENGTH:
            raise AttestationRefusedError(
                _("Keep the question under %(limit)d characters.") % {"limit": QUESTION_LENGTH}
            )
        values["question"] = question.strip()
    return values


def create_attestation(
    case: Case,
    *,
    addressee: Partner | IndividualVerifier,
    fields: list[str],
    question: str = "",
    photo: Evidence | None = None,
    days: int = DEFAULT_DAYS,
    by: User,
    keyring_key: bytes,
    expected_version: int | None = None,
) -> tuple[AttestationRequest, str]:
    """Ask a partner or an individual verifier whether they know the person. Only `fields`
    (names from DISCLOSABLE) are disclosed, their values read now from the decrypted
    request (`keyring_key` is the case key) and sealed under a key derived from a new link
    token. Returns the request and the token, to show once: it is never stored.

    The case row is locked and its version checked and raised (a form sent twice is stale
    the second time); the addressee's row is locked, so a flag or a lapsed agreement
    recorded meanwhile is respected. Raises AttestationRefusedError (StaleCaseError for a
    stale form), recording nothing."""
    chosen = [name for name in DISCLOSABLE if name in fields]
    if not chosen or len(chosen) != len(set(fields)):
        raise AttestationRefusedError(_("Choose what to disclose from the list."))
    if not 1 <= days <= MAX_DAYS:
        raise AttestationRefusedError(
            _("A link lasts from 1 to %(days)d days.") % {"days": MAX_DAYS}
        )
    values = _disclosure(case, chosen, question=question, photo=photo, keyring_key=keyring_key)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = timezone.now()
    attestation = AttestationRequest(
        case=case,
        token_hash=_token_hash(token),
        disclosed_fields=chosen,
        created_by=by,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    attestation.disclosed = crypto.encrypt(
        _disclosure_key(token), json.dumps(values).encode(), _associated(attestation.pk)
    )
    with transaction.atomic():
        current = _locked(case, expected_version)
        if current.state in ENDED:
            raise AttestationRefusedError(_("Reopen the case before asking anyone about it."))
        if isinstance(addressee, Partner):
            attestation.partner = Partner.objects.select_for_update().get(pk=addressee.pk)
        else:
            attestation.verifier = IndividualVerifier.objects.select_for_update().get(
                pk=addressee.pk
            )
        refusal = _addressee_refusal(attestation)
        if refusal:
            raise AttestationRefusedError(str(ADDRESSEE_REFUSALS[refusal]))
        attestation.save(force_insert=True)
        current.version += 1
        current.save(update_fields=["version"])
        log_action(
            by,
            "partners.attestation.created",
            attestation,
            details={
                "case": str(case.pk),
                "to": "partner" if attestation.partner_id else "verifier",
                "addressee": str(addressee.pk),
                "fields": ",".join(chosen),
                "days": days,
            },
        )
    erase_expired_disclosures()
    return attestation, token


def cancel_attestation(attestation: AttestationRequest, *, by: User | None, reason: str) -> None:
    """Cancel a request not yet answered: its link stops working and what it disclosed is
    erased. `reason` is a code for the audit entry. Raises AttestationRefusedError when it
    was answered or cancelled meanwhile."""
    with transaction.atomic():
        current = AttestationRequest.objects.select_for_update().get(pk=attestation.pk)
        if current.answered_at is not None or current.cancelled_at is not None:
            raise AttestationRefusedError(_("This request was answered or cancelled already."))
        current.cancelled_at = timezone.now()
        current.disclosed = b""
        current.save(update_fields=["cancelled_at", "disclosed"])
        log_action(
            by,
            "partners.attestation.cancelled",
            current,
            details={"case": str(current.case_id), "reason": reason},
        )


def erase_expired_disclosures() -> int:
    """Erase what expired links disclosed (only their token could open it anyway)."""
    return (
        AttestationRequest.objects.filter(expires_at__lte=timezone.now())
        .exclude(disclosed=b"")
        .update(disclosed=b"")
    )


# --- The link -------------------------------------------------------------------------------


def _refuse(attestation: AttestationRequest, reason: str) -> NoReturn:
    """Record a refused opening or answer (a second opening may mean the link leaked), then
    raise what the page shows."""
    with transaction.atomic():
        log_action(
            None,
            "partners.attestation.refused",
            attestation,
            details={"case": str(attestation.case_id), "reason": reason},
        )
    raise AgreementLapsedError if reason == "agreement" else LinkClosedError


def open_link(token: str) -> tuple[AttestationRequest, bytes]:
    """Use the link: mark the request opened and return it with the key to what it
    discloses (for the verifier's session, never stored). Raises LinkClosedError (used,
    expired, cancelled, unknown, or an addressee no longer askable) or AgreementLapsedError
    (nothing opened)."""
    if not 20 <= len(token) <= 100:
        raise LinkClosedError
    key = _disclosure_key(token)
    with transaction.atomic():
        attestation = (
            # Only this row: PostgreSQL locks no nullable side of an outer join.
            AttestationRequest.objects.select_for_update(of=("self",))
            .select_related("partner", "verifier")
            .filter(token_hash=_token_hash(token))
            .first()
        )
        if attestation is None:
            raise LinkClosedError
        reason = _link_refusal(attestation, opening=True)
        if not reason:
            _read_disclosed(attestation, key)
            attestation.opened_at = timezone.now()
            attestation.save(update_fields=["opened_at"])
            log_action(
                None,
                "partners.attestation.opened",
                attestation,
                details={"case": str(attestation.case_id)},
            )
            return attestation, key
    _refuse(attestation, reason)


def opened_request(attestation_id: str, key: bytes) -> tuple[AttestationRequest, dict[str, Any]]:
    """The request a link opened in this session and what it discloses, while it can still
    be answered. Raises LinkClosedError or AgreementLapsedError."""
    attestation = (
        AttestationRequest.objects.select_related("partner", "verifier")
        .filter(pk=attestation_id)
        .first()
    )
    if attestation is None:
        raise LinkClosedError
    reason = _link_refusal(attestation, opening=False)
    if reason == "agreement":
        raise AgreementLapsedError
    if reason:
        raise LinkClosedError
    return attestation, _read_disclosed(attestation, key)


def answer_attestation(attestation: AttestationRequest, answer: Answer) -> None:
    """Seal the verifier's answer to the case's inbox key (staff open it with the case key),
    mark the request answered and erase what it disclosed. Raises LinkClosedError or
    AgreementLapsedError (answered, cancelled, expired or refused meanwhile), storing
    nothing."""
    if answer.knows not in KnowsPerson.values or answer.certainty not in Certainty.values:
        raise ValueError("not an answer")
    with transaction.atomic():
        current = (
            # Only this row: PostgreSQL locks no nullable side of an outer join.
            AttestationRequest.objects.select_for_update(of=("self",))
            .select_related("partner", "verifier", "case__request")
            .get(pk=attestation.pk)
        )
        reason = _link_refusal(current, opening=False)
        if not reason:
            sealed = {
                "attestation": str(current.pk),
                "knows": answer.knows,
                "certainty": answer.certainty,
                "how": answer.how,
                "comments": answer.comments,
            }
            current.answer = crypto.seal(
                bytes(current.case.request.inbox_public_key), json.dumps(sealed).encode()
            )
            current.answered_at = timezone.now()
            current.disclosed = b""
            current.save(update_fields=["answer", "answered_at", "disclosed"])
            log_action(
                None,
                "partners.attestation.answered",
                current,
                details={"case": str(current.case_id)},
            )
            return
    _refuse(current, reason)


# --- Reading, for staff ---------------------------------------------------------------------


def get_attestation_for_user(user: User, pk: uuid.UUID) -> AttestationRequest:
    """A request on a case the user may open, for a caseworker; Http404 otherwise."""
    if not user.has_role(Role.CASEWORKER):
        raise Http404
    attestation = (
        AttestationRequest.objects.filter(pk=pk, case__in=visible_cases(user))
        .select_related("case")
        .first()
    )
    if attestation is None:
        raise Http404
    return attestation


def progress(attestation: AttestationRequest) -> str:
    if attestation.cancelled_at is not None:
        return Progress.CANCELLED
    if attestation.answered_at is not None:
        return Progress.ANSWERED
    if attestation.expires_at <= timezone.now():
        return Progress.EXPIRED
    return Progress.OPENED if attestation.opened_at is not None else Progress.WAITING


@dataclass(frozen=True)
class AttestationRow:
    """One request as the case page lists it."""

    attestation: AttestationRequest
    addressee: str
    fields: list[str]
    progress: str
    # Why its addressee can no longer open or answer it, while it waits; "" otherwise.
    blocked: str = ""
    # The decrypted answer, for a reader holding the case key.
    answer: dict[str, str] | None = None
    damaged: bool = False

    @property
    def progress_label(self) -> str:
        return str(Progress(self.progress).label)

    @property
    def open(self) -> bool:
        return self.progress in {Progress.WAITING, Progress.OPENED}


@dataclass(frozen=True)
class AttestationList:
    rows: list[AttestationRow] = field(default_factory=list)
    can_ask: bool = False


def addressee_name(request: HttpRequest, attestation: AttestationRequest) -> str:
    """The partner's name, or the verifier's (sealed: shown when the reader's keys open it)."""
    if attestation.partner is not None:
        return attestation.partner.name
    verifier = attestation.verifier
    if verifier is None:
        return ""
    return verifier_name(request, verifier) or str(verifier.get_kind_display())


def verifier_name(request: HttpRequest, verifier: IndividualVerifier) -> str:
    """The verifier's name for the signed-in reader; "" when their keys do not open it."""
    try:
        return str(read_sealed(request, verifier, "name") or "")
    except (NotUnlockedError, vault.KeysUnavailableError, UnreadableError):
        return ""


def _answer(
    attestation: AttestationRequest, inbox: bytes | None
) -> tuple[dict[str, str] | None, bool]:
    if attestation.answer is None or inbox is None:
        return None, False
    try:
        answer = json.loads(crypto.unseal(inbox, bytes(attestation.answer)))
    except (crypto.DecryptionError, ValueError):
        return None, True
    # Sealed boxes carry no associated data: the answer names its own request.
    if not isinstance(answer, dict) or answer.get("attestation") != str(attestation.pk):
        return None, True
    answer["knows_label"] = str(dict(KnowsPerson.choices).get(str(answer.get("knows")), ""))
    answer["certainty_label"] = str(dict(Certainty.choices).get(str(answer.get("certainty")), ""))
    return answer, False


def attestation_list(request: HttpRequest, case: Case) -> AttestationList:
    """The case's requests, newest first, for its page: answers decrypted when the reader's
    keys open the case (reading the case page is audited as a whole)."""
    attestations = list(
        case.attestations.select_related("partner", "verifier").order_by("-created_at")
    )
    inbox = None
    if any(attestation.answer is not None for attestation in attestations):
        try:
            inbox = intake.inbox_key(case.request, keyring_key(request, case.keyring))
        except (NotUnlockedError, vault.KeysUnavailableError, crypto.DecryptionError):
            inbox = None
    # Each addressee looked up once (a verifier's keyring opened, an agreement read),
    # however many requests went to them.
    looked_up: dict[object, tuple[str, str]] = {}
    rows = []
    for attestation in attestations:
        addressee = attestation.partner_id or attestation.verifier_id
        if addressee not in looked_up:
            looked_up[addressee] = (
                addressee_name(request, attestation),
                _addressee_refusal(attestation),
            )
        name, refusal = looked_up[addressee]
        answer, damaged = _answer(attestation, inbox)
        state = progress(attestation)
        blocked = refusal if state in {Progress.WAITING, Progress.OPENED} else ""
        rows.append(
            AttestationRow(
                attestation=attestation,
                addressee=name,
                fields=[str(DISCLOSABLE.get(name, name)) for name in attestation.disclosed_fields],
                progress=state,
                blocked=str(ADDRESSEE_REFUSALS[blocked]) if blocked else "",
                answer=answer,
                damaged=damaged,
            )
        )
    return AttestationList(rows, can_ask=staff_user(request).has_role(Role.CASEWORKER))


def contact_of(request: HttpRequest, addressee: Partner | IndividualVerifier) -> str | None:
    """How to reach the addressee safely, for the signed-in reader; None when their keys do
    not open it."""
    try:
        value = read_sealed(request, addressee, "contact")
    except (NotUnlockedError, vault.KeysUnavailableError, UnreadableError):
        return None
    if isinstance(value, dict):
        return " · ".join(str(part) for part in value.values() if part)
    return str(value or "")

"""Every write of the public intake: requests, the follow-up thread, evidence.

A request is sealed to the intake team's public keys in one transaction and acknowledged
only after it commits. Nothing the person sends can be read back with their follow-up code.
"""

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from waystation.accounts.models import Role, Team
from waystation.audit.services import log_action
from waystation.lib import rows
from waystation.vault import blind, crypto, files
from waystation.vault import services as vault
from waystation.vault.fields import decrypt_value
from waystation.vault.models import EncryptedFile, Keyring

from . import codes, derivatives, questions, signals
from .models import Channel, Evidence, HelpRequest, Message, SubmissionToken

# Magic numbers of the evidence types accepted.
ALLOWED_TYPES = {
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"%PDF-": "application/pdf",
}


class NotReadyError(Exception):
    """No intake team member has keys yet: nothing could be sealed to be read later."""


class AlreadySubmittedError(Exception):
    """This form was sent before (refresh, back button, double click)."""


class EvidenceRefusedError(Exception):
    """The file is not a JPEG, PNG or PDF."""


class AlreadyAnsweredError(Exception):
    """The extra questions were answered before (a second click, another tab)."""


@dataclass(frozen=True)
class Answers:
    country: str
    region: str
    nationalities: str
    narrative: str
    risk: str
    organization: str
    documents: list[str]
    name: str = ""
    channel: str = ""
    handle: str = ""
    safe_times: str = ""
    no_messages: bool = False
    partner: str = ""


def intake_teams() -> list[Team]:
    return [team_key.team for team_key in vault.held_team_keys(Role.INTAKE_VOLUNTEER)]


def _token_hash(form_token: str) -> str:
    return hashlib.sha256(form_token.encode()).hexdigest()


# How long a form sent again (double click, reload after a lost answer, a server restart
# between storing and answering) shows the same follow-up code again. Short: someone who
# later takes the person's phone could resend the form from its history.
REPLAY_WINDOW = timedelta(minutes=5)
# Used form tokens are kept as long as a form token is valid, then deleted.
TOKEN_KEPT = timedelta(days=1)
SWEEP_EVERY_SECONDS = 60
_last_sweep = 0.0


def _replay_key(form_token: str) -> bytes:
    return crypto.derive_key(hashlib.sha512(form_token.encode()).digest(), b"intake code replay")


def replay_submission(form_token: str) -> tuple[HelpRequest, str] | None:
    """The request a form token stored and its follow-up code, when the same form is sent
    again within REPLAY_WINDOW; None after it (or when the token stored nothing)."""
    used = (
        SubmissionToken.objects.filter(
            token_hash=_token_hash(form_token),
            used_at__gte=timezone.now() - REPLAY_WINDOW,
            sealed_code__isnull=False,
        )
        .only("sealed_code")
        .first()
    )
    if used is None:
        return None
    try:
        code = crypto.decrypt(
            _replay_key(form_token), bytes(used.sealed_code or b""), b"intake code replay"
        ).decode()
    except crypto.DecryptionError:
        return None
    request = HelpRequest.objects.filter(
        follow_up_lookup=codes.lookup_id(codes.normalize(code) or "")
    ).first()
    if request is None:
        return None
    log_action(None, "intake.request.code_shown_again", request)
    return request, code


def sweep_submission_tokens(*, force: bool = False) -> None:
    """Drop follow-up codes held for replay once the window has passed, and used form
    tokens once no form could carry them any more. Runs at most once a minute per process
    unless forced; cheap (both queries use an index)."""
    global _last_sweep
    if not force and time.monotonic() - _last_sweep < SWEEP_EVERY_SECONDS:
        return
    _last_sweep = time.monotonic()
    now = timezone.now()
    SubmissionToken.objects.filter(
        sealed_code__isnull=False, used_at__lt=now - REPLAY_WINDOW
    ).update(sealed_code=None)
    SubmissionToken.objects.filter(used_at__lt=now - TOKEN_KEPT).delete()


def submit_request(
    answers: Answers,
    *,
    language: str,
    form_token: str,
    on_stored: Callable[[HelpRequest, str], None] | None = None,
) -> tuple[HelpRequest, str]:
    """Seal and store a request; return it with the follow-up code to show once.

    All cryptography (sealing included) and the search for an earlier request from the same
    person happen before the transaction, which only inserts rows, so SQLite's single writer
    is held as briefly as possible in a surge. `on_stored(request, code)` runs inside that
    transaction, last: a write that must commit with the request (the person's follow-up
    session) takes no second turn at the writer. Raises AlreadySubmittedError for a form
    token used before, NotReadyError when no intake team can read requests yet.
    """
    team_keys = vault.held_team_keys(Role.INTAKE_VOLUNTEER)
    if not team_keys:
        raise NotReadyError
    code = codes.new_code()
    digits = codes.normalize(code) or ""
    inbox_private, inbox_public = crypto.new_keypair()
    tokens = blind.tokens_for(**_index_values(answers))
    # Bands of a keyed MinHash: staff see bursts of near-identical narratives as a signal.
    tokens |= blind.narrative_tokens(answers.narrative)
    # Read before the write transaction; two near-simultaneous duplicates may miss each
    # other, and staff see candidate matches on every case anyway.
    duplicate_of = earlier_request(tokens, answers.country)
    keyring = Keyring()
    request = HelpRequest(
        keyring=keyring,
        reference=codes.new_reference(),
        country=answers.country,
        region=answers.region,
        risk=answers.risk,
        language=language,
        consented_at=timezone.now(),
        follow_up_lookup=codes.lookup_id(digits),
        person_public_key=codes.person_public_key(digits),
        inbox_public_key=inbox_public,
        duplicate_of_id=duplicate_of,
    )
    # Later apps add readers (a crisis response's surge team: public keys only) and rows
    # (the case), built here, before the transaction.
    more: list[Any] = []
    additions: list[tuple[Any, Any]] = signals.request_preparing.send(
        sender=HelpRequest, request=request
    )
    addition: signals.Addition
    for _receiver, addition in additions:
        team_keys = [*team_keys, *addition.readers]
        more.extend(addition.rows)
    prepared = vault.prepare_keyring(team_keys, keyring=keyring)
    request.seal(
        prepared.key,
        name=answers.name,
        nationalities=answers.nationalities,
        narrative=answers.narrative,
        organization=answers.organization,
        partner=answers.partner,
        documents=answers.documents,
        inbox_private_key=inbox_private.hex(),
        contact={
            "channel": answers.channel,
            "handle": answers.handle,
            "safe_times": answers.safe_times,
            "no_messages": answers.no_messages,
        },
    )
    used_token = SubmissionToken(
        token_hash=_token_hash(form_token),
        sealed_code=crypto.encrypt(_replay_key(form_token), code.encode(), b"intake code replay"),
    )
    # Every row converted to its statement's values now: the transaction only runs them.
    statements = rows.prepare(
        [
            used_token,
            *prepared.rows(),
            request,
            blind.token_rows(prepared.keyring, tokens),
            *more,
        ]
    )
    try:
        with transaction.atomic():
            statements.run()
            log_action(
                None,
                "intake.request.received",
                request,
                details={
                    "risk": answers.risk,
                    "keyring": str(prepared.keyring.pk),
                    "duplicate_of": str(duplicate_of or ""),
                },
            )
            if on_stored is not None:
                on_stored(request, code)
    except IntegrityError as error:
        if SubmissionToken.objects.filter(token_hash=_token_hash(form_token)).exists():
            raise AlreadySubmittedError from error
        raise
    sweep_submission_tokens()
    return request, code


def _index_values(answers: Answers) -> dict[str, Any]:
    handle = answers.handle.strip()
    phones: list[str] = []
    emails: list[str] = []
    if handle and (answers.channel == Channel.EMAIL or "@" in handle):
        emails.append(handle)
    elif handle and answers.channel in {
        Channel.PHONE,
        Channel.WHATSAPP,
        Channel.SIGNAL,
        Channel.TELEGRAM,
    }:
        phones.append(handle)
    region = answers.country if len(answers.country) == 2 else None
    names = [answers.name] if answers.name else []
    return {"phones": phones, "emails": emails, "names": names, "region": region}


# Token rows read when looking for an earlier request: a very common full name must not make
# every new request scan thousands of rows.
LINK_SCAN_LIMIT = 200


def earlier_request(tokens: set[tuple[str, str]], country: str) -> Any:
    """The id of the earliest stored request sharing a phone or e-mail with these blind-index
    tokens, or the same full name (two words or more) in the same country; None when there
    is none. A single name word or a name's sound is too weak to link on: those are left to
    the duplicate finder staff use on each case. Exact tokens only, so the lookup stays a
    few index probes however many requests are stored."""
    matches = blind.matches_for_tokens(
        tokens, kinds={"phone", "email", "full_name"}, limit=LINK_SCAN_LIMIT
    )
    if not matches:
        return None
    candidates = (
        HelpRequest.objects.filter(keyring_id__in=list(matches))
        .only("id", "keyring_id", "country", "duplicate_of_id", "received_at")
        .order_by("received_at")[:20]
    )
    for earlier in candidates:
        if matches[earlier.keyring_id] & {"phone", "email"} or earlier.country == country:
            return earlier.duplicate_of_id or earlier.pk
    return None


def find_by_code(code_text: str) -> HelpRequest | None:
    """The request a follow-up code opens, or None (malformed, wrong or expired alike)."""
    digits = codes.normalize(code_text)
    if digits is None:
        # Spend the same work as a real lookup, so malformed codes answer like wrong ones.
        codes.lookup_id("0" * codes.DIGITS)
        return None
    request = HelpRequest.objects.filter(follow_up_lookup=codes.lookup_id(digits)).first()
    if request is None:
        return None
    if timezone.now() - request.follow_up_used_at > timedelta(days=settings.FOLLOW_UP_VALID_DAYS):
        return None
    HelpRequest.objects.filter(pk=request.pk).update(follow_up_used_at=timezone.now())
    return request


def person_reply(request: HelpRequest, text: str) -> Message:
    """A message from the person: sealed for staff only, never shown back."""
    with transaction.atomic():
        message = Message.objects.create(
            request=request,
            sender=Message.Sender.PERSON,
            for_staff=crypto.seal(bytes(request.inbox_public_key), text.encode()),
        )
        log_action(None, "intake.message.received", message, details={"request": str(request.pk)})
    return message


def send_answers(request: HelpRequest, answers: list[tuple[questions.Question, str]]) -> Message:
    """The person's answers to the extra questions (`intake.questions`): one message sealed
    for staff only, like any message from them, written as question and answer lines. Every
    source asking these questions marks them answered in the same transaction. Raises
    ValueError when every answer is blank, AlreadyAnsweredError (nothing stored) when a
    source finds its questions answered already."""
    text = questions.as_message(answers)
    if not text:
        raise ValueError("no answer to send")
    with transaction.atomic():
        if not questions.mark_answered(request, {question.source for question, _ in answers}):
            raise AlreadyAnsweredError
        message = Message.objects.create(
            request=request,
            sender=Message.Sender.PERSON,
            for_staff=crypto.seal(bytes(request.inbox_public_key), text.encode()),
        )
        log_action(
            None,
            "intake.answers.received",
            message,
            details={
                "request": str(request.pk),
                "answered": sum(1 for _, answer in answers if answer.strip()),
                "asked": len(answers),
            },
        )
    return message


def staff_reply(request: HelpRequest, text: str, *, by: Any) -> Message:
    """A message to the person, sealed to their follow-up key and to the case inbox."""
    with transaction.atomic():
        message = Message.objects.create(
            request=request,
            sender=Message.Sender.STAFF,
            for_staff=crypto.seal(bytes(request.inbox_public_key), text.encode()),
            for_person=crypto.seal(bytes(request.person_public_key), text.encode()),
        )
        log_action(by, "intake.message.sent", message, details={"request": str(request.pk)})
    return message


def messages_for_person(
    request: HelpRequest, person_private_key: bytes
) -> list[tuple[Message, str]]:
    """Staff messages the person has not deleted, decrypted with their follow-up key."""
    shown = []
    for message in request.messages.filter(sender=Message.Sender.STAFF, deleted_by_person_at=None):
        try:
            text = crypto.unseal(person_private_key, bytes(message.for_person or b"")).decode()
        except crypto.DecryptionError:
            continue
        shown.append((message, text))
    return shown


def delete_for_person(request: HelpRequest, message_id: Any) -> bool:
    """The person removes a staff message from their view (and its copy sealed to them)."""
    with transaction.atomic():
        updated = Message.objects.filter(
            pk=message_id, request=request, sender=Message.Sender.STAFF, deleted_by_person_at=None
        ).update(deleted_by_person_at=timezone.now(), for_person=None)
        if updated:
            log_action(
                None,
                "intake.message.deleted_by_person",
                object_type="message",
                object_id=message_id,
            )
    return bool(updated)


def inbox_key(request: HelpRequest, keyring_key: bytes) -> bytes:
    return bytes.fromhex(decrypt_value(keyring_key, request, "inbox_private_key"))


def thread_for_staff(request: HelpRequest, keyring_key: bytes) -> list[tuple[Message, str]]:
    private = inbox_key(request, keyring_key)
    return [
        (m, crypto.unseal(private, bytes(m.for_staff)).decode()) for m in request.messages.all()
    ]


def derivative_key(evidence: Evidence, inbox: bytes) -> bytes | None:
    """The key of the evidence's derivative (the copy without metadata), from its sealed keys
    opened with the request's inbox key (`inbox_key`); None when it has no derivative. The
    original's key is left unread: staff pages never open originals. Raises
    crypto.DecryptionError when the sealed keys are damaged."""
    try:
        keys = json.loads(crypto.unseal(inbox, bytes(evidence.sealed_keys)))
        return bytes.fromhex(keys["derivative"]) or None
    except (ValueError, KeyError, TypeError) as error:
        raise crypto.DecryptionError("malformed evidence keys") from error


def sniff_type(head: bytes) -> str | None:
    """The type of a file kept as evidence (JPEG, PNG or PDF) from its first 16 bytes, or
    None for any other file. Receipts of payments are checked the same way."""
    for magic, content_type in ALLOWED_TYPES.items():
        if head.startswith(magic):
            return content_type
    return None


def add_evidence(request: HelpRequest, stored: EncryptedFile, file_key: bytes) -> Evidence:
    """Attach a file the person uploaded (stored encrypted under `file_key` by the upload
    handler, not yet saved). Checks its type from its first bytes, keeps the original and,
    when it can be made, a derivative without metadata (`derivatives.clean_copy`: images
    re-encoded, PDFs redrawn as page images). Raises EvidenceRefusedError."""
    data = files.read_all(stored, file_key)
    content_type = sniff_type(data[:16])
    if content_type is None:
        raise EvidenceRefusedError
    derivative_key = crypto.new_key()
    clean = derivatives.clean_copy(data, content_type)
    # The same file in several requests is a signal for staff; the token is keyed, so the
    # database alone cannot confirm that a given file is here.
    same_file = blind.evidence_token(files.read_meta(stored, file_key).sha256)
    with transaction.atomic():
        stored.save()
        blind.add_tokens(request.keyring, [same_file])
        derivative = None
        if clean is not None:
            derivative = files.store_stream(
                request.keyring,
                derivative_key,
                iter([clean]),
                name="derivative",
                content_type=content_type,
            )
        evidence = Evidence.objects.create(
            request=request,
            original=stored,
            derivative=derivative,
            sealed_keys=crypto.seal(
                bytes(request.inbox_public_key),
                json.dumps(
                    {
                        "original": file_key.hex(),
                        "derivative": derivative_key.hex() if clean else "",
                    }
                ).encode(),
            ),
        )
        log_action(
            None,
            "intake.evidence.received",
            evidence,
            details={"request": str(request.pk), "derivative": clean is not None},
        )
    return evidence


def new_form_token() -> str:
    from .abuse import new_form_token as signed_token

    return signed_token()

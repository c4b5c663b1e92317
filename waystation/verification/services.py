"""Every write of verification: evidence reviews, evidence staff add, decisions (four eyes
for "verified"), sharing the case key with verifiers, and bringing re-verification forward.

A case is verified while it has a decided "verified" decision that nothing superseded.
`require_verified(case)` is what later apps (travel, money, safe-house details) call before
they store anything of theirs for a case: it also refuses while a re-verification is due.
The workflow guard registered by this app's `ready()` (`register_guards`) keeps cases out of
"verified", planning and every later state until then, whichever way they would get there
(a move, a resume after a hold, a reopening); a case due for re-verification stays verified
for the workflow, so its plan is not undone while it is looked at again.

Each write locks the case row (`cases.services._locked`, with the version the form was drawn
from where a stale form matters), writes its rows and one audit entry per step in one
transaction. Audit entries hold ids and codes, never notes, summaries or hashes.
"""

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from waystation.accounts.models import Role, Team, User
from waystation.audit.models import AuditEntry
from waystation.audit.services import log_action
from waystation.cases import workflow
from waystation.cases.models import Case, ReplyTemplate, State
from waystation.cases.services import _locked, reply_to_person, transition
from waystation.cases.signals import signals_for
from waystation.cases.workflow import TransitionRefusedError
from waystation.intake import services as intake
from waystation.intake.models import Evidence
from waystation.vault import services as vault
from waystation.vault.models import EncryptedFile, KeyringGrant

from .models import Decision, EvidenceReview

# States a case may take a decision in: sent to verification, or verified and further on
# (re-verification).
DECIDABLE = frozenset(
    {State.IN_VERIFICATION, *workflow.MAIN_PATH[workflow.MAIN_PATH.index(State.VERIFIED) :]}
)
# States a case enters only with a verified decision in force: "verified" itself (so that no
# plain move makes a case verified without two people) and everything after it on the main
# path.
NEEDS_VERIFIED = tuple(workflow.MAIN_PATH[workflow.MAIN_PATH.index(State.VERIFIED) :])
DECLINE_REASONS = workflow.RULES[State.DECLINED].reasons
SUMMARY_LENGTH = 5000
NOTES_LENGTH = 5000
# The audit entry of a confirmation names the signals the reviewers saw, one detail each
# (codes only), so a signal that appears later makes the case due for re-verification.
SIGNAL_DETAIL = "signal."


# --- Verified or not -----------------------------------------------------------------------


def verified_decision(case: Case) -> Decision | None:
    """The decided "verified" decision in force on the case, or None."""
    return (
        Decision.objects.filter(
            case_id=case.pk, outcome=Decision.Outcome.VERIFIED, status=Decision.Status.DECIDED
        )
        .order_by("-decided_at")
        .first()
    )


def is_verified(case: Case) -> bool:
    return verified_decision(case) is not None


def require_verified(case: Case) -> None:
    """Raise TransitionRefusedError unless the case is verified and no re-verification is
    due: its review date has come, or a signal is on the case that the confirming reviewer
    did not see (`due_reasons`). Call it in the service, inside its transaction, before
    storing travel, money or safe-house details."""
    decision = verified_decision(case)
    if decision is None:
        raise TransitionRefusedError(
            _(
                "This case is not verified. Two staff members must verify it before travel, "
                "money or safe-house details can be recorded."
            )
        )
    # Signals read live, not only the review date the daily run brings forward: a fraud
    # signal that appeared this morning must stop the money today. Only the signals that
    # need no decrypted content can be read here, as in `bring_reviews_forward`.
    codes = [signal.code for signal in signals_for(case)]
    if due_reasons(decision, codes, today=timezone.localdate()):
        raise TransitionRefusedError(
            _(
                "This case is due for re-verification. Two staff members must verify it "
                "again before travel, money or safe-house details can be recorded."
            )
        )


def _verified_first(case: Case, target: str) -> None:
    if not is_verified(case):
        raise TransitionRefusedError(
            _(
                "Verify the case first: it can become “%(target)s” only after two staff "
                "members have decided it is verified."
            )
            % {"target": State(target).label}
        )


def register_guards() -> None:
    """Hold every case out of "verified", planning and the states after it until it has a
    verified decision in force. `confirm_verified` saves its decision before it moves the
    case, so the guard lets that move through; a plain move to "verified" is refused."""
    for target in NEEDS_VERIFIED:
        workflow.register_guard(target, _verified_first)


# --- Evidence ------------------------------------------------------------------------------


def add_evidence(
    case: Case, stored: EncryptedFile, file_key: bytes, *, kind: str, by: User
) -> EvidenceReview:
    """A file staff received for the case (a letter a partner sent, say), kept like the
    files the person sends (`intake.services.add_evidence`: JPEG, PNG or PDF, the original
    sealed, a copy without metadata), with its kind. `stored` is the upload, not yet saved.
    Raises intake.EvidenceRefusedError for any other type and TransitionRefusedError when
    the request holds as many files as it may; nothing is stored then."""
    if kind not in EvidenceReview.Kind.values:
        raise TransitionRefusedError(_("Choose what kind of evidence this is."))
    # One transaction, the copy without metadata made inside it: a refused or failed file
    # leaves neither the evidence nor its review behind.
    with transaction.atomic():
        current = _locked(case, None)
        held = Evidence.objects.filter(request_id=current.request_id).count()
        if held >= settings.EVIDENCE_MAX_FILES * 4:
            raise TransitionRefusedError(_("This case holds as many files as it may."))
        evidence = intake.add_evidence(current.request, stored, file_key)
        review = EvidenceReview.objects.create(
            evidence=evidence, case=current, keyring_id=current.keyring_id, kind=kind
        )
        log_action(
            by,
            "verification.evidence.added",
            review,
            details={"case": str(current.pk), "evidence": str(evidence.pk), "kind": kind},
        )
    return review


def review_evidence(
    case: Case,
    evidence: Evidence,
    *,
    kind: str,
    status: str,
    notes: str,
    by: User,
    keyring_key: bytes,
    expected_version: int,
) -> EvidenceReview:
    """Record the kind of one evidence item, its review and sealed notes (under the case key,
    which the reviewer has opened). `expected_version` is the review's version the form was
    drawn from (0: no review yet). Raises TransitionRefusedError, changing nothing, when the
    review changed meanwhile or a value is not allowed."""
    if kind not in EvidenceReview.Kind.values or status not in EvidenceReview.Status.values:
        raise TransitionRefusedError(_("Choose a kind and a review from the lists."))
    if len(notes) > NOTES_LENGTH:
        raise TransitionRefusedError(
            _("Keep the notes under %(limit)d characters.") % {"limit": NOTES_LENGTH}
        )
    with transaction.atomic():
        current = _locked(case, None)
        review = EvidenceReview.objects.filter(evidence_id=evidence.pk).first()
        if (review.version if review else 0) != expected_version:
            raise TransitionRefusedError(
                _("Someone else reviewed this item while you were working on it. Look again.")
            )
        if review is None:
            review = EvidenceReview(
                evidence=evidence, case=current, keyring_id=current.keyring_id, version=0
            )
        review.kind, review.status = kind, status
        review.reviewed_by, review.reviewed_at = by, timezone.now()
        review.version += 1
        review.seal(keyring_key, notes=notes.strip())
        review.save()
        log_action(
            by,
            "verification.evidence.reviewed",
            review,
            details={
                "case": str(current.pk),
                "evidence": str(evidence.pk),
                "kind": kind,
                "status": status,
            },
        )
    return review


# --- Decisions -----------------------------------------------------------------------------


def _decidable(case: Case) -> None:
    if case.state not in DECIDABLE:
        raise TransitionRefusedError(
            _("A case that is “%(state)s” takes no verification decision.")
            % {"state": State(case.state).label}
        )


def _summary(summary: str) -> str:
    text = summary.strip()
    if not text:
        raise TransitionRefusedError(_("Sum up the sources and your reasons."))
    if len(text) > SUMMARY_LENGTH:
        raise TransitionRefusedError(
            _("Keep the summary under %(limit)d characters.") % {"limit": SUMMARY_LENGTH}
        )
    return text


def _new_decision(
    case: Case, outcome: str, status: str, summary: str, *, by: User, keyring_key: bytes
) -> Decision:
    now = timezone.now()
    decision = Decision(
        case=case,
        keyring_id=case.keyring_id,
        outcome=outcome,
        status=status,
        proposed_by=by,
        proposed_at=now,
        decided_at=now if status == Decision.Status.DECIDED else None,
    )
    decision.seal(keyring_key, summary=summary)
    try:
        # A savepoint: a proposal racing another meets the one-open-proposal constraint.
        with transaction.atomic():
            decision.save(force_insert=True)
    except IntegrityError:
        raise TransitionRefusedError(
            _("A proposal is already waiting for a second reviewer on this case.")
        ) from None
    return decision


def _supersede(case: Case, *, outcomes: Iterable[str], by: User, proposals: bool) -> None:
    """Mark the case's decided decisions of `outcomes` superseded (and its open proposal,
    when `proposals`), each with an audit entry."""
    statuses = [Decision.Status.DECIDED, *([Decision.Status.PROPOSED] if proposals else [])]
    for earlier in Decision.objects.filter(
        case_id=case.pk, status__in=statuses, outcome__in=list(outcomes)
    ):
        earlier.status = Decision.Status.SUPERSEDED
        earlier.save(update_fields=["status"])
        log_action(by, "verification.decision.superseded", earlier, details={"case": str(case.pk)})


def _revoke_verifiers(case: Case, *, by: User) -> None:
    """Verifier teams lose the case key once verification is over."""
    teams = (
        KeyringGrant.objects.filter(keyring_id=case.keyring_id, team_key__team__role=Role.VERIFIER)
        .values_list("team_key__team", flat=True)
        .distinct()
    )
    for team in Team.objects.filter(pk__in=list(teams)):
        vault.revoke_keyring(case.keyring, team=team, by=by)


def propose_verified(
    case: Case, summary: str, *, by: User, keyring_key: bytes, expected_version: int | None
) -> Decision:
    """Propose that the case is verified, with a sealed summary of the sources; a different
    staff member confirms it (`confirm_verified`). Raises TransitionRefusedError
    (StaleCaseError for a stale form), storing nothing, when the case takes no decision or
    a proposal is already open."""
    text = _summary(summary)
    with transaction.atomic():
        current = _locked(case, expected_version)
        _decidable(current)
        if Decision.objects.filter(case_id=current.pk, status=Decision.Status.PROPOSED).exists():
            raise TransitionRefusedError(
                _("A proposal is already waiting for a second reviewer on this case.")
            )
        decision = _new_decision(
            current,
            Decision.Outcome.VERIFIED,
            Decision.Status.PROPOSED,
            text,
            by=by,
            keyring_key=keyring_key,
        )
        log_action(
            by,
            "verification.decision.proposed",
            decision,
            details={"case": str(current.pk), "outcome": Decision.Outcome.VERIFIED},
        )
    return decision


def _open_proposal(case: Case, decision_id: Any) -> Decision:
    decision = (
        Decision.objects.select_for_update()
        .filter(pk=decision_id, case_id=case.pk, status=Decision.Status.PROPOSED)
        .first()
    )
    if decision is None:
        raise TransitionRefusedError(
            _("This proposal was withdrawn or decided meanwhile. Look again.")
        )
    return decision


def confirm_verified(
    case: Case, decision_id: Any, *, by: User, signals: Iterable[str] = ()
) -> Decision:
    """Confirm the open "verified" proposal `decision_id` as a second staff member: it
    becomes the decision in force (earlier ones are superseded), due for review after
    VERIFICATION_REVIEW_DAYS, and a case in verification becomes "verified". `signals` are
    the codes of the signals the confirming reviewer saw. Verifier teams lose the case key.
    Raises TransitionRefusedError, changing nothing, when the proposer confirms their own
    proposal (also refused by the database), when the proposal is no longer open, or when
    the case takes no decision."""
    with transaction.atomic():
        current = _locked(case, None)
        decision = _open_proposal(current, decision_id)
        if decision.proposed_by_id == by.pk:
            raise TransitionRefusedError(
                _("You proposed this: a different staff member must confirm it.")
            )
        _decidable(current)
        _supersede(current, outcomes=Decision.Outcome.values, by=by, proposals=False)
        decision.status = Decision.Status.DECIDED
        decision.confirmed_by = by
        decision.decided_at = timezone.now()
        decision.review_due_on = timezone.localdate() + timedelta(
            days=settings.VERIFICATION_REVIEW_DAYS
        )
        decision.save(update_fields=["status", "confirmed_by", "decided_at", "review_due_on"])
        log_action(
            by,
            "verification.decision.confirmed",
            decision,
            details={
                "case": str(current.pk),
                "outcome": decision.outcome,
                **{f"{SIGNAL_DETAIL}{code}": True for code in sorted(set(signals))},
            },
        )
        if current.state == State.IN_VERIFICATION:
            transition(current, State.VERIFIED, by=by)
        _revoke_verifiers(current, by=by)
    return decision


def withdraw_proposal(case: Case, decision_id: Any, *, by: User) -> Decision:
    """Withdraw the open proposal (its proposer, or a reviewer who will not confirm it).
    Raises TransitionRefusedError when it is no longer open."""
    with transaction.atomic():
        current = _locked(case, None)
        decision = _open_proposal(current, decision_id)
        decision.status = Decision.Status.WITHDRAWN
        decision.save(update_fields=["status"])
        log_action(
            by, "verification.decision.withdrawn", decision, details={"case": str(current.pk)}
        )
    return decision


def decline(
    case: Case,
    reason: str,
    summary: str,
    *,
    by: User,
    keyring_key: bytes,
    expected_version: int | None,
) -> Decision:
    """Decide that the case is declined, for a reason code (the details in the sealed
    summary), and move it to "declined". Supersedes every earlier decision and an open
    proposal; verifier teams lose the case key. Raises TransitionRefusedError (StaleCaseError
    for a stale form), changing nothing, when the reason or the move is not allowed."""
    if reason not in DECLINE_REASONS:
        raise TransitionRefusedError(_("Choose a reason for declining."))
    text = _summary(summary)
    with transaction.atomic():
        current = _locked(case, expected_version)
        _decidable(current)
        _supersede(current, outcomes=Decision.Outcome.values, by=by, proposals=True)
        decision = _new_decision(
            current,
            Decision.Outcome.DECLINED,
            Decision.Status.DECIDED,
            text,
            by=by,
            keyring_key=keyring_key,
        )
        log_action(
            by,
            "verification.decision.decided",
            decision,
            details={"case": str(current.pk), "outcome": decision.outcome, "reason": reason},
        )
        transition(current, State.DECLINED, by=by, reason=reason)
        _revoke_verifiers(current, by=by)
    return decision


def ask_for_more_information(
    case: Case,
    template_name: str,
    summary: str,
    *,
    by: User,
    keyring_key: bytes,
    expected_version: int | None,
) -> Decision:
    """Decide that more information is needed and send the person the reply template named
    `template_name` in the case's language (`cases.services.reply_to_person`). It supersedes
    an earlier "more information" decision only: a verified case stays verified until a
    new decision confirms or declines it. Raises TransitionRefusedError (StaleCaseError for
    a stale form), sending and storing nothing, when the case's language has no such
    template."""
    text = _summary(summary)
    template = ReplyTemplate.objects.filter(name=template_name, language=case.language).first()
    if template is None:
        raise TransitionRefusedError(
            _(
                "There is no reply template “%(name)s” in this case's language (%(language)s). "
                "Ask a coordinator to add it, or choose another."
            )
            % {"name": template_name, "language": case.language}
        )
    with transaction.atomic():
        current = _locked(case, expected_version)
        _decidable(current)
        _supersede(current, outcomes=[Decision.Outcome.MORE_INFORMATION], by=by, proposals=False)
        decision = _new_decision(
            current,
            Decision.Outcome.MORE_INFORMATION,
            Decision.Status.DECIDED,
            text,
            by=by,
            keyring_key=keyring_key,
        )
        log_action(
            by,
            "verification.decision.decided",
            decision,
            details={
                "case": str(current.pk),
                "outcome": decision.outcome,
                "template": str(template.pk),
            },
        )
        reply_to_person(current, template.text, by=by, template=template)
    return decision


# --- Verifiers and re-verification ----------------------------------------------------------


def share_with_verifiers(case: Case, team: Team, *, by: User, keys: vault.UnlockedKeys) -> None:
    """Seal the case key to a verifier team, so its members read the case while it is in
    verification (they lose it with the decision). Raises TransitionRefusedError for a team
    of another role or a case not in verification, vault.KeysUnavailableError when the
    sharer cannot open the case."""
    if team.role != Role.VERIFIER:
        raise TransitionRefusedError(_("Share cases with verifier teams only."))
    with transaction.atomic():
        current = _locked(case, None)
        if current.state != State.IN_VERIFICATION:
            raise TransitionRefusedError(_("Only a case in verification is shared with verifiers."))
        vault.grant_keyring(current.keyring, keys, team=team, by=by)
        log_action(by, "verification.case.shared", current, details={"team": str(team.pk)})


def signals_seen(decision: Decision) -> set[str]:
    """The codes of the signals shown when the decision was confirmed."""
    entry = AuditEntry.objects.filter(
        action="verification.decision.confirmed", object_id=decision.pk
    ).first()
    details = entry.details if entry else {}
    return {key[len(SIGNAL_DETAIL) :] for key in details if key.startswith(SIGNAL_DETAIL)}


def due_reasons(decision: Decision, signals: Iterable[str], *, today: date) -> list[str]:
    """Why a verified decision is due for re-verification: "date" (its review date has
    come), "signal" (a signal it did not see is on the case now); empty when it is not."""
    reasons = []
    if decision.review_due_on is not None and decision.review_due_on <= today:
        reasons.append("date")
    if set(signals) - signals_seen(decision):
        reasons.append("signal")
    return reasons


def bring_reviews_forward(*, today: date | None = None) -> int:
    """Make every verified case on which a signal appeared since its decision due for
    re-verification today (run daily: `manage.py review_verifications`). Signals that need
    the decrypted request are seen on the pages only. Returns how many came forward."""
    today = today or timezone.localdate()
    moved = 0
    in_force = Decision.objects.filter(
        outcome=Decision.Outcome.VERIFIED,
        status=Decision.Status.DECIDED,
        review_due_on__gt=today,
    ).select_related("case")
    for decision in in_force.iterator():
        codes = {signal.code for signal in signals_for(decision.case)}
        new = codes - signals_seen(decision)
        if not new:
            continue
        with transaction.atomic():
            updated = Decision.objects.filter(
                pk=decision.pk, status=Decision.Status.DECIDED, review_due_on__gt=today
            ).update(review_due_on=today)
            if updated:
                log_action(
                    None,
                    "verification.decision.review_due",
                    decision,
                    details={"case": str(decision.case_id), "signals": len(new)},
                )
                moved += updated
    return moved

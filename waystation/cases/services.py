"""Every write to a case: opening it from a request, and moving it through the workflow.

Each move locks the case row, checks the version the person's form was drawn from
(optimistic versioning: two volunteers answering the same case do not overwrite each
other), checks the workflow and the guards later apps registered, and writes the new
state, a timeline event and an audit entry in one transaction.
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from waystation.accounts.models import Role, User
from waystation.audit.services import log_action
from waystation.intake.models import HelpRequest

from . import workflow
from .models import RISK_RANK, BreakGlass, Case, CaseEvent, State
from .workflow import TransitionRefusedError


class StaleCaseError(TransitionRefusedError):
    """The case changed since the form was drawn."""


def open_case(request: HelpRequest) -> Case:
    """The case for a request just stored, inside the caller's transaction (the intake
    transaction: request and case commit together). The intake audit entry covers it."""
    return Case.objects.create(
        reference=request.reference,
        request=request,
        keyring_id=request.keyring_id,
        risk_rank=RISK_RANK[request.risk],
        country=request.country,
        region=request.region,
        language=request.language,
        received_at=request.received_at,
        answer_due_at=request.received_at + timedelta(days=settings.RESPONSE_DAYS),
        duplicate_of=Case.objects.filter(request_id=request.duplicate_of_id).first()
        if request.duplicate_of_id
        else None,
    )


def _locked(case: Case, expected_version: int | None) -> Case:
    current = Case.objects.select_for_update().get(pk=case.pk)
    if expected_version is not None and current.version != expected_version:
        raise StaleCaseError(
            _("Someone else changed this case while you were working on it. Look again.")
        )
    return current


def _move(current: Case, target: str, *, by: Any, reason: str, **changes: Any) -> Case:
    now = timezone.now()
    previous = current.state
    current.state = target
    current.state_changed_at = now
    current.reason = reason
    current.version += 1
    for name, value in changes.items():
        setattr(current, name, value)
    current.save()
    CaseEvent.objects.create(
        case=current,
        at=now,
        kind=CaseEvent.Kind.STATE,
        by=by,
        from_state=previous,
        to_state=target,
        reason=reason,
    )
    log_action(
        by,
        "cases.case.moved",
        current,
        details={"from": previous, "to": target, "reason": reason},
    )
    return current


def transition(
    case: Case,
    target: str,
    *,
    by: Any,
    reason: str = "",
    duplicate_of: Case | None = None,
    expected_version: int | None = None,
) -> Case:
    """Move `case` to `target`. Raises TransitionRefusedError (StaleCaseError when the case
    changed since `expected_version`) and leaves nothing changed."""
    with transaction.atomic():
        current = _locked(case, expected_version)
        workflow.check(current, target, reason=reason, duplicate_of=duplicate_of)
        changes: dict[str, Any] = {}
        if target in {State.ON_HOLD, State.QUARANTINED}:
            changes["resume_state"] = (
                current.resume_state if current.state == State.ON_HOLD else current.state
            )
        if target == State.DUPLICATE:
            changes["duplicate_of"] = duplicate_of
        if target == State.TRIAGED and current.answered_at is None:
            changes["answered_at"] = timezone.now()
        return _move(current, target, by=by, reason=reason, **changes)


def resume(case: Case, *, by: Any, expected_version: int | None = None) -> Case:
    """Take a case off hold, back to the state it was held in."""
    with transaction.atomic():
        current = _locked(case, expected_version)
        workflow.check_resume(current)
        return _move(current, current.resume_state, by=by, reason="", resume_state="")


def reopen(case: Case, *, by: Any, reason: str, expected_version: int | None = None) -> Case:
    """Bring an ended case back to triage, or a quarantined one back to where it was."""
    with transaction.atomic():
        current = _locked(case, expected_version)
        workflow.check_reopen(current, reason)
        target = current.resume_state if current.state == State.QUARANTINED else State.TRIAGED
        return _move(current, target or State.TRIAGED, by=by, reason=reason, resume_state="")


BREAK_GLASS_HOURS = 8


def break_glass(case: Case, *, by: Any, reason: str) -> BreakGlass:
    """Open a case outside the user's queue for BREAK_GLASS_HOURS: logged, and coordinators
    are told (without any detail of the case) after commit."""
    if reason not in BreakGlass.Reason.values:
        raise ValueError(f"not a break-glass reason: {reason!r}")
    now = timezone.now()
    with transaction.atomic():
        opened = BreakGlass.objects.create(
            case=case,
            user=by,
            reason=reason,
            opened_at=now,
            expires_at=now + timedelta(hours=BREAK_GLASS_HOURS),
        )
        log_action(by, "cases.case.glass_broken", case, details={"reason": reason})
        transaction.on_commit(_alert_coordinators_of_break_glass)
    return opened


def review_break_glass(entry: BreakGlass, *, by: Any) -> None:
    """A coordinator marks a break-glass as reviewed."""
    with transaction.atomic():
        updated = BreakGlass.objects.filter(pk=entry.pk, reviewed_at__isnull=True).update(
            reviewed_at=timezone.now(), reviewed_by=by
        )
        if updated:
            log_action(by, "cases.break_glass.reviewed", entry.case)


def _alert_coordinators_of_break_glass() -> None:
    recipients = list(
        User.objects.filter(is_active=True, memberships__team__role=Role.COORDINATOR)
        .values_list("email", flat=True)
        .distinct()
    )
    if not recipients:
        return
    with translation.override(settings.LANGUAGE_CODE):
        send_mail(
            subject=_("%(site)s: a case was opened outside its queue")
            % {"site": settings.SITE_TITLE},
            message=_(
                "A staff member opened a case outside their queue and gave a reason. "
                "Sign in and look at the weekly break-glass review."
            ),
            from_email=None,
            recipient_list=recipients,
            fail_silently=True,
        )

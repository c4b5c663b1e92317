"""Every write to a case: opening it from a request, and moving it through the workflow.

Each move locks the case row, checks the version the person's form was drawn from
(optimistic versioning: two volunteers answering the same case do not overwrite each
other), checks the workflow and the guards later apps registered, and writes the new
state, a timeline event and an audit entry in one transaction.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from waystation.accounts.models import Role, Team, User
from waystation.accounts.services import alert_coordinators
from waystation.audit.services import log_action
from waystation.intake import services as intake
from waystation.intake.models import HelpRequest
from waystation.vault import services as vault
from waystation.vault.models import UserKey

from . import workflow
from .access import QUEUE_ROLES, visible_cases
from .models import (
    RISK_RANK,
    BreakGlass,
    Case,
    CaseEvent,
    CrisisResponse,
    Note,
    ReplyTemplate,
    State,
    Task,
)
from .queue import DUE_SOON
from .workflow import TransitionRefusedError


class StaleCaseError(TransitionRefusedError):
    """The case changed since the form was drawn."""


def crisis_for(country: str, on: date) -> CrisisResponse | None:
    """The crisis response a request from `country` on `on` belongs to (the earliest
    started, when several overlap), or None."""
    active = CrisisResponse.objects.filter(starts_on__lte=on).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=on)
    )
    for response in active.order_by("starts_on", "name"):
        if country in response.countries:
            return response
    return None


def open_case(request: HelpRequest) -> Case:
    """The case for a request just stored, inside the caller's transaction (the intake
    transaction: request and case commit together). The intake audit entry covers it."""
    return Case.objects.create(
        crisis=crisis_for(request.country, timezone.localdate(request.received_at)),
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
    alert_coordinators(
        gettext_lazy("%(site)s: a case was opened outside its queue"),
        gettext_lazy(
            "A staff member opened a case outside their queue and gave a reason. "
            "Sign in and look at the weekly break-glass review."
        ),
    )


def assign_case(
    case: Case,
    *,
    team: Team | None,
    user: User | None,
    by: User,
    keys: vault.UnlockedKeys,
    expected_version: int | None = None,
) -> Case:
    """Give the case to a caseworker team and, or, one person. The case key is sealed to
    them (the assigner's own keys open it), and a person it is taken from loses their copy.
    Raises TransitionRefusedError (StaleCaseError for a stale form) and leaves nothing
    changed; vault.KeysUnavailableError when the assigner cannot open the case."""
    if team is not None and team.role != Role.CASEWORKER:
        raise TransitionRefusedError(_("Cases go to caseworker teams only."))
    if user is not None and not user.has_role(Role.CASEWORKER, Role.INTAKE_VOLUNTEER):
        raise TransitionRefusedError(_("This person works no case queue."))
    with transaction.atomic():
        current = _locked(case, expected_version)
        if current.state in workflow.ENDED:
            raise TransitionRefusedError(_("Reopen the case before assigning it."))
        if user is not None and not UserKey.objects.filter(user=user).exists():
            raise TransitionRefusedError(
                _("This person has no keys yet: they must sign in once first.")
            )
        if team is not None and team.pk != current.team_id:
            vault.grant_keyring(current.keyring, keys, team=team, by=by)
        if user is not None and user.pk != current.assigned_to_id:
            vault.grant_keyring(current.keyring, keys, user=user, by=by)
        previous = current.assigned_to
        if previous is not None and previous != user:
            vault.revoke_keyring(current.keyring, user=previous, by=by)
        current.team = team or current.team
        current.assigned_to = user
        current.version += 1
        current.save()
        CaseEvent.objects.create(case=current, kind=CaseEvent.Kind.ASSIGNED, by=by)
        log_action(
            by,
            "cases.case.assigned",
            current,
            details={
                "team": str(current.team_id or ""),
                "user": str(user.pk if user else ""),
            },
        )
    return current


def reply_to_person(
    case: Case, text: str, *, by: User, template: ReplyTemplate | None = None
) -> None:
    """A message to the person through their follow-up page, sealed to their code's key and
    to the case inbox; the first one counts as the organization's answer. A quarantined
    case gets a neutral template's text and nothing else (TransitionRefusedError)."""
    with transaction.atomic():
        current = Case.objects.select_for_update().get(pk=case.pk)
        if current.state == State.QUARANTINED:
            if template is None or not template.neutral:
                raise TransitionRefusedError(_("A quarantined case gets neutral templates only."))
            text = template.text
        intake.staff_reply(current.request, text, by=by)
        if current.answered_at is None:
            current.answered_at = timezone.now()
            current.save(update_fields=["answered_at"])
        CaseEvent.objects.create(case=current, kind=CaseEvent.Kind.REPLIED, by=by)


def thread(case: Case, keyring_key: bytes) -> list[tuple[Any, str]]:
    """The messages both ways, decrypted for a reader who opened the case key."""
    return intake.thread_for_staff(case.request, keyring_key)


def add_note(case: Case, text: str, *, by: User, keyring_key: bytes) -> Note:
    """A note sealed under the case key (the writer has opened it)."""
    with transaction.atomic():
        note = Note(case=case, keyring_id=case.keyring_id, by=by)
        note.seal(keyring_key, text=text)
        note.save(force_insert=True)
        CaseEvent.objects.create(case=case, kind=CaseEvent.Kind.NOTE, by=by)
        log_action(by, "cases.note.written", note, details={"case": str(case.pk)})
    return note


def add_task(
    case: Case, title: str, *, owner: User, due_on: date, by: User, keyring_key: bytes
) -> Task:
    """A task with a sealed title, for `owner`, who must be able to see the case."""
    if not visible_cases(owner).filter(pk=case.pk).exists():
        raise TransitionRefusedError(_("Give tasks to someone who works on this case."))
    with transaction.atomic():
        task = Task(
            case=case, keyring_id=case.keyring_id, owner=owner, due_on=due_on, created_by=by
        )
        task.seal(keyring_key, title=title)
        task.save(force_insert=True)
        CaseEvent.objects.create(case=case, kind=CaseEvent.Kind.TASK, by=by)
        log_action(by, "cases.task.created", task, details={"case": str(case.pk)})
    return task


def complete_task(task: Task, *, by: User) -> bool:
    """Mark an open task done; False when it was done already."""
    with transaction.atomic():
        updated = Task.objects.filter(pk=task.pk, status=Task.Status.OPEN).update(
            status=Task.Status.DONE, done_at=timezone.now()
        )
        if updated:
            log_action(by, "cases.task.done", task, details={"case": str(task.case_id)})
    return bool(updated)


def set_risk(case: Case, risk: str, *, by: User, expected_version: int | None = None) -> Case:
    """Change how urgent the case is (the queue's first sort key)."""
    if risk not in RISK_RANK:
        raise TransitionRefusedError(_("Choose how soon the person is in danger."))
    with transaction.atomic():
        current = _locked(case, expected_version)
        if current.risk_rank != RISK_RANK[risk]:
            current.risk_rank = RISK_RANK[risk]
            current.version += 1
            current.save(update_fields=["risk_rank", "version"])
            CaseEvent.objects.create(case=current, kind=CaseEvent.Kind.RISK, by=by)
            log_action(by, "cases.case.risk_changed", current, details={"risk": risk})
    return current


BULK_LIMIT = 200


def bulk_apply(chosen: list[tuple[Case, int]], action: Callable[[Case, int], object]) -> int:
    """Apply `action(case, version_seen)` to every chosen case in one transaction: all of
    them or none (the first refusal undoes the rest and names its case). Each case gets its
    own audit entry from the action itself."""
    if len(chosen) > BULK_LIMIT:
        raise TransitionRefusedError(
            _("Choose at most %(limit)d cases at a time.") % {"limit": BULK_LIMIT}
        )
    with transaction.atomic():
        for case, version in chosen:
            try:
                action(case, version)
            except TransitionRefusedError as refused:
                raise TransitionRefusedError(
                    _("Nothing was changed. Case %(reference)s: %(reason)s")
                    % {"reference": case.reference, "reason": refused.message}
                ) from refused
    return len(chosen)


def attention_counts(user: User) -> tuple[int, int]:
    """(cases in the user's view that are unanswered and overdue or due within three days,
    the user's open tasks due today or earlier): what the daily digest counts."""
    now = timezone.now()
    cases = (
        visible_cases(user)
        .filter(
            state__in=workflow.ACTIVE, answered_at__isnull=True, answer_due_at__lt=now + DUE_SOON
        )
        .count()
    )
    tasks = Task.objects.filter(
        owner=user, status=Task.Status.OPEN, due_on__lte=timezone.localdate()
    ).count()
    return cases, tasks


def send_digests() -> int:
    """E-mail every active staff member who works a queue how many cases and tasks need
    them: counts and a link, never a reference, a name or a country. Returns how many
    e-mails went out."""
    people = (
        User.objects.filter(is_active=True, memberships__team__role__in=QUEUE_ROLES)
        .distinct()
        .order_by("pk")
    )
    sent = 0
    for person in people:
        cases, tasks = attention_counts(person)
        if not cases and not tasks:
            continue
        with translation.override(settings.LANGUAGE_CODE):
            send_mail(
                subject=_("%(site)s: work waiting for you") % {"site": settings.SITE_TITLE},
                message=_(
                    "Cases that need an answer soon: %(cases)d. Your tasks due: %(tasks)d. "
                    "Sign in to see them: %(link)s"
                )
                % {"cases": cases, "tasks": tasks, "link": settings.STAFF_URL or "/staff/"},
                from_email=None,
                recipient_list=[person.email],
                fail_silently=True,
            )
        sent += 1
    return sent


def create_crisis_response(
    *,
    name: str,
    countries: list[str],
    starts_on: date,
    ends_on: date | None,
    reply_template: str,
    by: User,
) -> CrisisResponse:
    """A new crisis response. Requests already received in its countries and dates are
    tagged too (in batches of the open cases), so its queue starts complete."""
    with transaction.atomic():
        response = CrisisResponse.objects.create(
            name=name,
            countries=sorted(set(countries)),
            starts_on=starts_on,
            ends_on=ends_on,
            reply_template=reply_template,
        )
        window = Q(received_at__date__gte=starts_on)
        if ends_on is not None:
            window &= Q(received_at__date__lte=ends_on)
        tagged = Case.objects.filter(
            window, crisis__isnull=True, country__in=response.countries
        ).update(crisis=response)
        log_action(by, "cases.crisis.created", response, details={"tagged": tagged})
    return response


@dataclass(frozen=True)
class SurgeFigures:
    arrivals: list[tuple[date, int]]  # per day, oldest first
    open_cases: int
    oldest_unanswered_days: int | None
    answered_in_time: int
    answered_late_or_overdue: int


def surge_figures(response: CrisisResponse, *, days: int = 30) -> SurgeFigures:
    """Counts for a crisis response's dashboard: never anything about one person."""
    now = timezone.now()
    cases = Case.objects.filter(crisis=response)
    since = now - timedelta(days=days)
    arrivals = (
        cases.filter(received_at__gte=since)
        .annotate(day=TruncDate("received_at"))
        .values_list("day")
        .annotate(n=Count("id"))
        .order_by("day")
    )
    unanswered = cases.filter(state__in=workflow.ACTIVE, answered_at__isnull=True)
    oldest = unanswered.order_by("received_at").values_list("received_at", flat=True).first()
    in_time = cases.filter(answered_at__isnull=False, answered_at__lte=F("answer_due_at"))
    late = (
        cases.filter(answered_at__gt=F("answer_due_at")).count()
        + unanswered.filter(answer_due_at__lt=now).count()
    )
    return SurgeFigures(
        arrivals=[(day, n) for day, n in arrivals],
        open_cases=cases.filter(state__in=workflow.ACTIVE).count(),
        oldest_unanswered_days=(now - oldest).days if oldest else None,
        answered_in_time=in_time.count(),
        answered_late_or_overdue=late,
    )


def save_reply_template(form_instance: ReplyTemplate, *, by: User) -> ReplyTemplate:
    """Create or change a reply template (coordinators)."""
    with transaction.atomic():
        creating = form_instance._state.adding
        form_instance.updated_at = timezone.now()
        form_instance.save()
        log_action(
            by,
            "cases.reply_template.created" if creating else "cases.reply_template.changed",
            form_instance,
            details={"language": form_instance.language, "neutral": form_instance.neutral},
        )
    return form_instance

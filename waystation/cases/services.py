"""Every write to a case: opening it from a request, and moving it through the workflow.

Each move locks the case row, checks the version the person's form was drawn from
(optimistic versioning: two volunteers answering the same case do not overwrite each
other), checks the workflow and the guards later apps registered, and writes the new
state, a timeline event and an audit entry in one transaction.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from waystation.accounts.models import Role, Team, User
from waystation.accounts.services import alert_coordinators, create_staff
from waystation.audit.services import log_action
from waystation.intake import services as intake
from waystation.intake.models import HelpRequest
from waystation.lib import rows
from waystation.vault import services as vault
from waystation.vault.models import TeamKey, UserKey

from . import workflow, worklist
from .access import QUEUE_ROLES, merged_into, visible_cases
from .models import (
    RISK_RANK,
    BreakGlass,
    Case,
    CaseEvent,
    CrisisQuestion,
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
    # Asked before every public request is stored: the SQL is built once per process.
    sql = _active_crises_sql(connection.vendor)
    day = connection.ops.adapt_datefield_value(on)
    for response in rows.fetch(CrisisResponse, sql, [day, day]):
        if country in response.countries:
            return response
    return None


@functools.cache
def _active_crises_sql(vendor: str) -> str:
    on = date(2000, 1, 1)
    active = (
        CrisisResponse.objects.filter(starts_on__lte=on)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=on))
        .order_by("starts_on", "name")
    )
    sql, params = active.query.sql_with_params()
    if len(params) != 2:  # pragma: no cover - a Django upgrade changed the query's shape
        raise RuntimeError("the active crisis query has unexpected parameters")
    return sql


def prepare_case(request: HelpRequest) -> Case:
    """The case of a request about to be stored, built before intake's transaction and
    stored in it (`intake.signals.request_prepared`): request and case commit together.
    The intake audit entry covers it."""
    return Case(
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
        duplicate_of_id=Case.objects.filter(request_id=request.duplicate_of_id)
        .values_list("pk", flat=True)
        .first()
        if request.duplicate_of_id
        else None,
    )


def open_case(request: HelpRequest) -> Case:
    """The case of a request stored already, in the caller's transaction (tests and
    importers; public requests get theirs from `prepare_case`)."""
    case = prepare_case(request)
    case.save(force_insert=True)
    return case


def mark_referred(request: HelpRequest, partner_id: Any) -> None:
    """Inside the transaction that stores a partner's referral (`partners.services`): the
    request's case records the partner that referred it, for the queue's filter and the
    signals. The referral's audit entry covers it. Raises Case.DoesNotExist, undoing the
    caller's transaction, when the request has no case."""
    if not Case.objects.filter(request_id=request.pk).update(referred_by_id=partner_id):
        raise Case.DoesNotExist(f"no case for request {request.pk}")


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
    """Take a case off hold, back to the state it was held in, if that state's guards
    allow it. Raises TransitionRefusedError (StaleCaseError for a stale form), changing
    nothing."""
    with transaction.atomic():
        current = _locked(case, expected_version)
        workflow.check_resume(current)
        return _move(current, current.resume_state, by=by, reason="", resume_state="")


def reopen(case: Case, *, by: Any, reason: str, expected_version: int | None = None) -> Case:
    """Bring an ended case back to triage, or a quarantined one back to where it was, if
    that state's guards allow it. Raises TransitionRefusedError (StaleCaseError for a
    stale form), changing nothing."""
    with transaction.atomic():
        current = _locked(case, expected_version)
        # The guards ran for this same target, in check_reopen.
        workflow.check_reopen(current, reason)
        target = workflow.reopen_target(current)
        return _move(current, target, by=by, reason=reason, resume_state="")


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
    """Give the case to a caseworker team and, or, one person. The case key, and the keys
    of cases merged into it, are sealed to them (the assigner's own keys open them), and a
    person it is taken from loses their copies. A person given the case by someone else is
    told by e-mail after commit, with no detail of it.
    Raises TransitionRefusedError (StaleCaseError for a stale form) and leaves nothing
    changed; vault.KeysUnavailableError when the assigner cannot open the case."""
    if team is not None and team.role != Role.CASEWORKER:
        raise TransitionRefusedError(_("Cases go to caseworker teams only."))
    if user is not None and not user.has_role(Role.CASEWORKER, Role.INTAKE_VOLUNTEER):
        raise TransitionRefusedError(_("This person works no case queue."))
    with transaction.atomic():
        return _hand_over(_locked(case, expected_version), team=team, user=user, by=by, keys=keys)


def give_to_team(
    case: Case,
    team: Team,
    *,
    by: User,
    keys: vault.UnlockedKeys,
    expected_version: int | None = None,
) -> Case:
    """Give the case to a caseworker team (bulk triage), keeping the person it is assigned
    to, if any, with their copies of its keys: the action names a team only. The case key,
    and those of cases merged into it, are sealed to the team. Raises as assign_case."""
    if team.role != Role.CASEWORKER:
        raise TransitionRefusedError(_("Cases go to caseworker teams only."))
    with transaction.atomic():
        current = _locked(case, expected_version)
        return _hand_over(current, team=team, user=current.assigned_to, by=by, keys=keys)


def _hand_over(
    current: Case, *, team: Team | None, user: User | None, by: User, keys: vault.UnlockedKeys
) -> Case:
    """assign_case and give_to_team, on the locked case."""
    if current.state in workflow.ENDED:
        raise TransitionRefusedError(_("Reopen the case before assigning it."))
    new_person = user is not None and user.pk != current.assigned_to_id
    if new_person and not UserKey.objects.filter(user=user).exists():
        raise TransitionRefusedError(
            _("This person has no keys yet: they must sign in once first.")
        )
    # Cases merged into this one are read on its page: their keys follow it.
    merged = merged_into(current)
    for held in [current, *merged]:
        if team is not None and team.pk != current.team_id:
            vault.grant_keyring(held.keyring, keys, team=team, by=by)
        if user is not None and new_person:
            vault.grant_keyring(held.keyring, keys, user=user, by=by)
    previous = current.assigned_to
    if previous is not None and previous != user:
        vault.revoke_keyring(current.keyring, user=previous, by=by)
        for held in merged:
            if held.assigned_to_id != previous.pk:
                vault.revoke_keyring(held.keyring, user=previous, by=by)
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
    if user is not None and new_person:
        _notify_after_commit(user, CASE_NOTICE, by=by)
    return current


def reply_to_person(
    case: Case,
    text: str,
    *,
    by: User,
    template: ReplyTemplate | None = None,
    expected_version: int | None = None,
) -> None:
    """A message to the person through their follow-up page, sealed to their code's key and
    to the case inbox (intake audits it); the first one counts as the organization's
    answer. A quarantined case gets a neutral template's text and nothing else.
    Sending bumps the case version, as moves do: of two volunteers answering from the same
    page, the second is told (StaleCaseError) instead of sending a second answer.
    Raises TransitionRefusedError and sends nothing."""
    with transaction.atomic():
        current = _locked(case, expected_version)
        if current.state == State.QUARANTINED:
            if template is None or not template.neutral:
                raise TransitionRefusedError(_("A quarantined case gets neutral templates only."))
            text = template.text
        intake.staff_reply(current.request, text, by=by)
        if current.answered_at is None:
            current.answered_at = timezone.now()
        current.version += 1
        current.save(update_fields=["answered_at", "version"])
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
    """A task with a sealed title, for `owner`, who must be able to see the case; an owner
    other than its author is told by e-mail after commit, with no detail of it."""
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
        _notify_after_commit(owner, TASK_NOTICE, by=by)
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


def tag_crisis(
    case: Case,
    response: CrisisResponse | None,
    *,
    by: User,
    keys: vault.UnlockedKeys | None = None,
    expected_version: int | None = None,
) -> Case:
    """Tag the case with a crisis response (None removes the tag): it joins that
    response's queue, surge figures and extra questions. A response whose surge team has a
    key gets the case key sealed to that team, opened with the tagger's keys; without them
    the tag is refused, since the surge volunteers could not read the case."""
    with transaction.atomic():
        current = _locked(case, expected_version)
        if current.crisis_id == (response.pk if response else None):
            return current
        team = response.surge_team if response is not None else None
        if team is not None and vault.current_team_key(team) is not None:
            if keys is None:
                raise TransitionRefusedError(
                    _("Unlock your keys first: the response's surge team gets the case key.")
                )
            vault.grant_keyring(current.keyring, keys, team=team, by=by)
        current.crisis = response
        current.version += 1
        current.save(update_fields=["crisis", "version"])
        CaseEvent.objects.create(case=current, kind=CaseEvent.Kind.CRISIS, by=by)
        log_action(
            by,
            "cases.case.crisis_tagged",
            current,
            details={"crisis": str(response.pk) if response else ""},
        )
    return current


BULK_LIMIT = 200


def bulk_apply(chosen: list[tuple[Case, int]], action: Callable[[Case, int], object]) -> int:
    """Apply `action(case, version_seen)` to every chosen case in one transaction: all of
    them or none (the first refusal, or the first case the user's keys do not open, undoes
    the rest and names its case in a TransitionRefusedError). Each case gets its own audit
    entry from the action itself."""
    if len(chosen) > BULK_LIMIT:
        raise TransitionRefusedError(
            _("Choose at most %(limit)d cases at a time.") % {"limit": BULK_LIMIT}
        )
    with transaction.atomic():
        for case, version in chosen:
            try:
                action(case, version)
            except (TransitionRefusedError, vault.KeysUnavailableError) as refused:
                reason = (
                    refused.message
                    if isinstance(refused, TransitionRefusedError)
                    else _("Your keys do not open this case.")
                )
                raise TransitionRefusedError(
                    _("Nothing was changed. Case %(reference)s: %(reason)s")
                    % {"reference": case.reference, "reason": reason}
                ) from refused
    return len(chosen)


def reply_in_bulk(chosen: list[tuple[Case, int]], name: str, *, by: User) -> int:
    """Send the reply template called `name` to every chosen case, each in the case's own
    language, through reply_to_person (which audits each answer): all of them or none, as
    bulk_apply does. Raises TransitionRefusedError before anything is sent when a chosen
    case's language has no template of that name, or a quarantined case would get one that
    is not neutral (the message names what is missing), and StaleCaseError for a case
    changed since it was ticked."""
    with transaction.atomic():
        templates = {
            template.language: template
            for template in ReplyTemplate.objects.select_for_update().filter(name=name)
        }
        _check_templates(name, templates, [case for case, _version in chosen])

        def send(case: Case, version: int) -> None:
            current = _locked(case, version)
            template = templates.get(current.language)
            if template is None:
                raise TransitionRefusedError(_("There is no template in this case's language."))
            reply_to_person(current, template.text, by=by, template=template)

        return bulk_apply(chosen, send)


def _check_templates(name: str, templates: dict[str, ReplyTemplate], cases: list[Case]) -> None:
    missing = sorted({case.language for case in cases} - set(templates))
    if missing:
        raise TransitionRefusedError(
            _(
                "Nothing was sent. The template “%(name)s” has no version in %(languages)s: "
                "ask a coordinator to add it, or untick those cases."
            )
            % {"name": name, "languages": ", ".join(_language_name(code) for code in missing)}
        )
    not_neutral = sorted(
        case.reference
        for case in cases
        if case.state == State.QUARANTINED and not templates[case.language].neutral
    )
    if not_neutral:
        raise TransitionRefusedError(
            _(
                "Nothing was sent. Quarantined cases get neutral templates only, and “%(name)s” "
                "is not neutral in their language. Untick %(references)s."
            )
            % {"name": name, "references": ", ".join(not_neutral)}
        )


def _language_name(code: str) -> str:
    """The language's name in the reader's language and its code, e.g. `Spanish (es)`; the
    bare code for a language Django does not know."""
    try:
        return f"{translation.get_language_info(code)['name_translated']} ({code})"
    except KeyError:
        return code


def attention_counts(user: User) -> tuple[int, int]:
    """(cases in the user's view that are unanswered and overdue or due within three days,
    the user's open tasks due today or earlier, with later apps' items: `worklist`): what
    the daily digest counts."""
    now = timezone.now()
    cases = (
        visible_cases(user)
        .filter(
            state__in=workflow.ACTIVE, answered_at__isnull=True, answer_due_at__lt=now + DUE_SOON
        )
        .count()
    )
    today = timezone.localdate()
    tasks = Task.objects.filter(owner=user, status=Task.Status.OPEN, due_on__lte=today).count()
    return cases, tasks + worklist.work_due(user, today)


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
        with translation.override(mail_language(person)):
            send_mail(
                subject=_("%(site)s: work waiting for you") % {"site": settings.SITE_TITLE},
                message=_(
                    "Cases that need an answer soon: %(cases)d. Your tasks due: %(tasks)d. "
                    "Sign in to see them: %(link)s"
                )
                % {"cases": cases, "tasks": tasks, "link": _staff_link()},
                from_email=None,
                recipient_list=[person.email],
                fail_silently=True,
            )
        sent += 1
    return sent


def mail_language(user: User) -> str:
    """The language e-mails to `user` are written in. Accounts keep no language of their
    own, so for now it is the site's (LANGUAGE_CODE) for everyone: the one place to change
    once they do."""
    return str(settings.LANGUAGE_CODE)


def _staff_link() -> str:
    return settings.STAFF_URL or "/staff/"


# E-mail notices say that something waits and where to sign in, nothing more: never a
# reference, a country, a name or a title (mail is read on phones, in shared inboxes).
CASE_NOTICE = (
    gettext_lazy("%(site)s: a case was given to you"),
    gettext_lazy("A case was given to you. Sign in to see it: %(link)s"),
)
TASK_NOTICE = (
    gettext_lazy("%(site)s: a task was given to you"),
    gettext_lazy("A task was given to you. Sign in to see it: %(link)s"),
)


def _notify_after_commit(user: User, notice: tuple[Promise, Promise], *, by: User | None) -> None:
    """E-mail `user` the content-free `notice` once the caller's transaction commits (not
    at all if it is undone), in their language; nobody is told of what they did
    themselves."""
    if by is not None and user.pk == by.pk:
        return
    transaction.on_commit(functools.partial(_send_notice, user, notice))


def _send_notice(user: User, notice: tuple[Promise, Promise]) -> None:
    subject, body = notice
    with translation.override(mail_language(user)):
        send_mail(
            subject=str(subject) % {"site": settings.SITE_TITLE},
            message=str(body) % {"link": _staff_link()},
            from_email=None,
            recipient_list=[user.email],
            fail_silently=True,
        )


def create_crisis_response(
    *,
    name: str,
    countries: list[str],
    starts_on: date,
    ends_on: date | None,
    reply_template_name: str,
    by: User,
) -> CrisisResponse:
    """A new crisis response; `reply_template_name` names the reply templates it answers
    with ("" for none). Requests already received in its countries and dates are tagged too
    (`_tag_received`), so its queue starts complete."""
    with transaction.atomic():
        response = CrisisResponse.objects.create(
            name=name,
            countries=sorted(set(countries)),
            starts_on=starts_on,
            ends_on=ends_on,
            reply_template_name=reply_template_name,
        )
        tagged = _tag_received(response, by=by)
        log_action(by, "cases.crisis.created", response, details={"tagged": tagged})
    return response


def change_crisis_response(
    response: CrisisResponse,
    *,
    name: str,
    countries: list[str],
    starts_on: date,
    ends_on: date | None,
    reply_template_name: str,
    by: User,
) -> CrisisResponse:
    """Change a crisis response's name, countries, dates or reply template (a name, "" for
    none); ending it is giving the day it ends (later requests are no longer tagged).
    Requests already received that the new countries and dates take in are tagged, as on
    creation. The audit entry names the fields changed, never their values. Cases tagged
    already keep their tag: it may have been given by hand (tag_crisis), and surge
    volunteers may be working them. Changes nothing, and writes no entry, when nothing
    differs."""
    values: dict[str, Any] = {
        "name": name,
        "countries": sorted(set(countries)),
        "starts_on": starts_on,
        "ends_on": ends_on,
        "reply_template_name": reply_template_name,
    }
    with transaction.atomic():
        current = CrisisResponse.objects.select_for_update().get(pk=response.pk)
        changed = [field for field, value in values.items() if getattr(current, field) != value]
        if not changed:
            return current
        for field in changed:
            setattr(current, field, values[field])
        current.save(update_fields=changed)
        tagged = _tag_received(current, by=by)
        log_action(
            by,
            "cases.crisis.changed",
            current,
            details={
                "changed": ",".join(changed),
                "ends_on": ends_on.isoformat() if ends_on else "",
                "tagged": tagged,
            },
        )
    return current


# Cases tagged per statement when a crisis response takes in requests received before it.
TAG_BATCH = 500


def _tag_received(response: CrisisResponse, *, by: User) -> int:
    """Tag the untagged cases received in the response's countries and dates, their rows
    locked, in the caller's transaction; each gets a timeline event (no content) and a new
    version, as tag_crisis gives. Returns how many.

    The caller writes one audit entry naming the count, not one per case: a response made
    after the fact takes in thousands of cases at once, and audit entries go through the
    chain's one head row, locked from a transaction's first entry until it ends, which
    every public request needs too: thousands of entries would hold intake up for seconds
    during a surge. The events say which cases were tagged, when and by whom."""
    window = Q(received_at__date__gte=response.starts_on)
    if response.ends_on is not None:
        window &= Q(received_at__date__lte=response.ends_on)
    found = list(
        Case.objects.select_for_update()
        .filter(window, crisis__isnull=True, country__in=response.countries)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    now = timezone.now()
    for start in range(0, len(found), TAG_BATCH):
        batch = found[start : start + TAG_BATCH]
        Case.objects.filter(pk__in=batch).update(crisis=response, version=F("version") + 1)
        CaseEvent.objects.bulk_create(
            CaseEvent(case_id=pk, at=now, kind=CaseEvent.Kind.CRISIS, by=by) for pk in batch
        )
    return len(found)


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


@dataclass(frozen=True)
class CrisisTemplate:
    """What a crisis response's surge page says of the reply template it answers with."""

    name: str
    languages: list[str]  # the languages it is written in, named as `_language_name` does
    missing: list[tuple[str, int]]  # languages of open cases it is not written in, and how many


def crisis_template(response: CrisisResponse) -> CrisisTemplate | None:
    """The reply template a crisis response answers with: the languages it is written in,
    and those of the response's open cases it is not (counts, most cases first), which
    caseworkers cannot send it to. None when the response names no template."""
    name = response.reply_template_name
    if not name:
        return None
    written = set(ReplyTemplate.objects.filter(name=name).values_list("language", flat=True))
    missing = (
        Case.objects.filter(crisis=response, state__in=workflow.ACTIVE)
        .exclude(language__in=written)
        .values_list("language")
        .annotate(n=Count("id"))
        .order_by("-n", "language")
    )
    return CrisisTemplate(
        name=name,
        languages=[_language_name(code) for code in sorted(written)],
        missing=[(_language_name(code), n) for code, n in missing],
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


# Questions a crisis response asks the people it concerns, after their request is stored.
MAX_QUESTIONS = 10
QUESTION_LENGTH = 300


def _question_texts(texts: dict[str, str]) -> dict[str, str]:
    kept = {
        code: texts[code].strip()
        for code, _name in settings.LANGUAGES
        if (texts.get(code) or "").strip()
    }
    if "en" not in kept:
        raise TransitionRefusedError(
            _("Write the question in English: it is shown where a language has no wording.")
        )
    if any(len(text) > QUESTION_LENGTH for text in kept.values()):
        raise TransitionRefusedError(
            _("Keep each wording under %(limit)d characters.") % {"limit": QUESTION_LENGTH}
        )
    return kept


def _locked_questions(response_id: Any) -> list[CrisisQuestion]:
    """The response's questions in order, its row locked: writes to them take turns."""
    CrisisResponse.objects.select_for_update().get(pk=response_id)
    return list(CrisisQuestion.objects.filter(response_id=response_id).order_by("position", "id"))


def _still_there(question: CrisisQuestion, siblings: list[CrisisQuestion]) -> CrisisQuestion:
    for sibling in siblings:
        if sibling.pk == question.pk:
            return sibling
    raise TransitionRefusedError(_("Someone else removed this question meanwhile."))


def _renumber(questions: list[CrisisQuestion]) -> None:
    for position, question in enumerate(questions):
        if question.position != position:
            question.position = position
            question.save(update_fields=["position"])


def add_crisis_question(
    response: CrisisResponse, texts: dict[str, str], *, by: User
) -> CrisisQuestion:
    """A new last question for the response, worded per language code (English required,
    empty wordings left out). Raises TransitionRefusedError, adding nothing, without
    English, past QUESTION_LENGTH or past MAX_QUESTIONS."""
    kept = _question_texts(texts)
    with transaction.atomic():
        siblings = _locked_questions(response.pk)
        if len(siblings) >= MAX_QUESTIONS:
            raise TransitionRefusedError(
                _("A response asks at most %(limit)d questions.") % {"limit": MAX_QUESTIONS}
            )
        question = CrisisQuestion.objects.create(
            response=response, position=len(siblings), texts=kept
        )
        log_action(
            by,
            "cases.crisis_question.added",
            question,
            details={"response": str(response.pk), "languages": ",".join(kept)},
        )
    return question


def change_crisis_question(
    question: CrisisQuestion, texts: dict[str, str], *, by: User
) -> CrisisQuestion:
    """New wordings for a question (as add_crisis_question); TransitionRefusedError, changing
    nothing, when they are refused or the question was removed meanwhile."""
    kept = _question_texts(texts)
    with transaction.atomic():
        current = _still_there(question, _locked_questions(question.response_id))
        current.texts = kept
        current.save(update_fields=["texts"])
        log_action(
            by,
            "cases.crisis_question.changed",
            current,
            details={"response": str(current.response_id), "languages": ",".join(kept)},
        )
    return current


def move_crisis_question(question: CrisisQuestion, step: int, *, by: User) -> None:
    """Move a question `step` places (-1: up, 1: down); the first stays first and the last
    last. TransitionRefusedError when it was removed meanwhile."""
    with transaction.atomic():
        siblings = _locked_questions(question.response_id)
        current = _still_there(question, siblings)
        index = siblings.index(current)
        target = min(max(index + step, 0), len(siblings) - 1)
        if target == index:
            return
        siblings.insert(target, siblings.pop(index))
        _renumber(siblings)
        log_action(
            by,
            "cases.crisis_question.moved",
            current,
            details={"response": str(current.response_id), "position": target},
        )


def remove_crisis_question(question: CrisisQuestion, *, by: User) -> None:
    """Remove a question; answers already sent stay in their cases' messages.
    TransitionRefusedError when it was removed meanwhile."""
    with transaction.atomic():
        siblings = _locked_questions(question.response_id)
        current = _still_there(question, siblings)
        removed_pk = current.pk
        current.delete()
        _renumber([sibling for sibling in siblings if sibling is not current])
        log_action(
            by,
            "cases.crisis_question.removed",
            object_type="crisisquestion",
            object_id=removed_pk,
            details={"response": str(question.response_id)},
        )


def record_crisis_answers(request: HelpRequest) -> bool:
    """Inside the intake transaction that stores the person's answers to their crisis
    response's questions: mark them answered on the case (an event, no content; the intake
    audit entry covers it), under the case's row lock. False, changing nothing, when they
    were answered already or the request has no case."""
    case = Case.objects.filter(request_id=request.pk).first()
    if case is None:
        return False
    current = _locked(case, None)
    if current.events.filter(kind=CaseEvent.Kind.ANSWERS).exists():
        return False
    CaseEvent.objects.create(case=current, kind=CaseEvent.Kind.ANSWERS)
    return True


# --- Surge volunteers: temporary accounts for one crisis response's triage queue ---------

# Cases shared with a surge team per transaction: the public form waits for the writer.
SURGE_SHARE_BATCH = 100


def _held_surge_key(team_id: Any) -> TeamKey | None:
    return (
        TeamKey.objects.filter(team_id=team_id, retired_at__isnull=True, copies__isnull=False)
        .order_by("-version")
        .first()
    )


def surge_team_keys(response: CrisisResponse | None) -> list[TeamKey]:
    """The key a new request of this crisis response (`crisis_for`) is sealed to besides the
    intake team's: the current key of the response's surge team, once a member holds it.
    Asked before every public request is stored: no query without a surge team, one with."""
    if response is None or response.surge_team_id is None:
        return []
    held = _held_surge_key(response.surge_team_id)
    return [held] if held is not None else []


def _surge_team(response: CrisisResponse, *, by: User) -> Team:
    """The response's surge team, made on first use (the response row is locked meanwhile).
    Its key is made like any team's: when its first member gets keys at first sign-in."""
    locked = CrisisResponse.objects.select_for_update().get(pk=response.pk)
    if locked.surge_team is not None:
        return locked.surge_team
    suffix = f" ({locked.pk.hex[:8]})"
    team = Team.objects.create(
        name=f"Surge: {locked.name}"[: 80 - len(suffix)] + suffix, role=Role.SURGE_VOLUNTEER
    )
    locked.surge_team = team
    locked.save(update_fields=["surge_team"])
    log_action(by, "cases.crisis.surge_team_created", locked, details={"team": str(team.pk)})
    response.surge_team = team
    return team


def create_surge_account(
    response: CrisisResponse, *, email: str, display_name: str, expires_on: date, by: User
) -> tuple[User, str]:
    """A surge volunteer account for the response's triage queue, in its surge team (made
    on first use), ending at the start of `expires_on` (site time). Returns the account and
    its one-time password: like every account, it chooses its own password, sets up a
    second factor and gets its keys at first sign-in.

    Raises ValueError for an end date not after today or more than
    CASES_SURGE_ACCOUNT_MAX_DAYS ahead, IntegrityError when the address is taken; either
    way nothing is stored.
    """
    today = timezone.localdate()
    if not today < expires_on <= today + timedelta(days=settings.CASES_SURGE_ACCOUNT_MAX_DAYS):
        raise ValueError("the end date must be after today and within the allowed days")
    ends_at = timezone.make_aware(datetime.combine(expires_on, time.min))
    with transaction.atomic():
        team = _surge_team(response, by=by)
        user, password = create_staff(email, display_name, [team], by=by, expires_at=ends_at)
        log_action(
            by, "cases.crisis.surge_account_created", response, details={"user": str(user.pk)}
        )
    return user, password


def share_with_surge_team(response: CrisisResponse, keys: vault.UnlockedKeys, *, by: User) -> int:
    """Seal the case keys of the response's new cases to its surge team's current key:
    the requests that came before the team or its key existed. Only cases `by` may open
    and their keys open are shared; each grant is audited by the vault, each batch is one
    transaction. Returns how many were shared. Raises vault.KeysUnavailableError when no
    surge volunteer of the response holds the team's key yet."""
    held = _held_surge_key(response.surge_team_id) if response.surge_team_id else None
    if held is None:
        raise vault.KeysUnavailableError("no surge volunteer of this response has keys yet")
    waiting = list(
        visible_cases(by)
        .filter(crisis=response, state=State.NEW)
        .exclude(keyring__grants__team_key=held)
        .order_by("received_at")
        .values_list("pk", flat=True)
    )
    shared = 0
    for start in range(0, len(waiting), SURGE_SHARE_BATCH):
        batch = Case.objects.filter(pk__in=waiting[start : start + SURGE_SHARE_BATCH])
        with transaction.atomic():
            for case in batch.select_related("keyring"):
                try:
                    vault.grant_keyring(case.keyring, keys, team=held.team, by=by)
                except vault.KeysUnavailableError:
                    continue  # a case this person's keys do not open
                shared += 1
    with transaction.atomic():
        log_action(by, "cases.crisis.shared_with_surge_team", response, details={"cases": shared})
    return shared

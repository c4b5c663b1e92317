"""Duplicate decisions: every write about two cases that may be the same person.

Staff decide about a pair once, whichever case they look from: the same person with both
cases open (linked), one case merged into the other (merged), or not the same person
(dismissed). A decision locks both case rows, in one order (the smaller id first) so two
people deciding about the same pair from either side cannot deadlock, checks the versions
the page was drawn from, and moves both versions on, so a page drawn before it is stale.
Each decision leaves a timeline event on both cases and one audit entry per case, never
content.

Merging moves the merged case to "duplicate" through the workflow, and seals its key (and
the keys of cases merged into it before) to the kept case's team and assignee: the kept
case's page shows the merged histories. Messages stay with their request: the person reads
each answer with the follow-up code of the request it was written on.
"""

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from waystation.accounts.models import User
from waystation.audit.services import log_action
from waystation.vault import services as vault

from . import workflow
from .access import merged_into
from .models import Case, CaseEvent, DuplicateDecision, State
from .services import _locked, transition
from .workflow import TransitionRefusedError

Kind = DuplicateDecision.Kind


def ordered(case: Case, other: Case) -> tuple[Case, Case]:
    """The pair in its stored order: the case whose id is smaller as a string first."""
    first, second = sorted((case, other), key=lambda c: str(c.pk))
    return first, second


def decision_between(case: Case, other: Case) -> DuplicateDecision | None:
    first, second = ordered(case, other)
    return DuplicateDecision.objects.filter(first=first, second=second).first()


def _lock_pair(
    case: Case, other: Case, expected_version: int | None, other_version: int | None
) -> tuple[Case, Case]:
    if case.pk == other.pk:
        raise TransitionRefusedError(_("A case cannot be a duplicate of itself."))
    versions = {case.pk: expected_version, other.pk: other_version}
    locked = {c.pk: _locked(c, versions[c.pk]) for c in ordered(case, other)}
    return locked[case.pk], locked[other.pk]


def _still_merged(case: Case, other: Case) -> bool:
    return any(
        merged.state == State.DUPLICATE and merged.duplicate_of_id == kept.pk
        for merged, kept in ((case, other), (other, case))
    )


def _check_change(case: Case, other: Case, kind: str) -> DuplicateDecision | None:
    """The pair's decision so far; refuses the same decision again, and any change while
    one case is merged into the other."""
    existing = decision_between(case, other)
    if existing is None:
        return None
    if existing.kind == Kind.MERGED and _still_merged(case, other):
        if kind == Kind.MERGED:
            raise TransitionRefusedError(_("These cases are already merged."))
        raise TransitionRefusedError(
            _("These cases are merged. Reopen the merged case to change this decision.")
        )
    if existing.kind == kind and kind != Kind.MERGED:
        raise TransitionRefusedError(
            _("This decision was already made: “%(decision)s”.") % {"decision": Kind(kind).label}
        )
    return existing


def _record(
    case: Case,
    other: Case,
    kind: str,
    *,
    by: User,
    was: DuplicateDecision | None,
    bump: list[Case],
    details: dict[str, str] | None = None,
) -> DuplicateDecision:
    now = timezone.now()
    first, second = ordered(case, other)
    decision, _created = DuplicateDecision.objects.update_or_create(
        first=first, second=second, defaults={"kind": kind, "by": by, "at": now}
    )
    for current in bump:
        current.version += 1
        current.save(update_fields=["version"])
    for this, that in ((case, other), (other, case)):
        CaseEvent.objects.create(case=this, at=now, kind=CaseEvent.Kind.DUPLICATE, by=by)
        log_action(
            by,
            f"cases.duplicate.{kind}",
            this,
            details={"other": str(that.pk), "was": was.kind if was else "", **(details or {})},
        )
    return decision


def link_duplicates(
    case: Case,
    other: Case,
    *,
    by: User,
    expected_version: int | None = None,
    other_version: int | None = None,
) -> DuplicateDecision:
    """Record that both cases are the same person and both stay open. A dismissal of the
    pair becomes a link. Raises TransitionRefusedError (StaleCaseError when either case
    changed since the versions given) and leaves nothing changed."""
    with transaction.atomic():
        current, other_now = _lock_pair(case, other, expected_version, other_version)
        was = _check_change(current, other_now, Kind.LINKED)
        return _record(current, other_now, Kind.LINKED, by=by, was=was, bump=[current, other_now])


def dismiss_duplicate(
    case: Case,
    other: Case,
    *,
    by: User,
    expected_version: int | None = None,
    other_version: int | None = None,
) -> DuplicateDecision:
    """Record that the two cases are not the same person: neither is suggested as a
    duplicate of the other again. Raises like link_duplicates."""
    with transaction.atomic():
        current, other_now = _lock_pair(case, other, expected_version, other_version)
        was = _check_change(current, other_now, Kind.DISMISSED)
        return _record(
            current, other_now, Kind.DISMISSED, by=by, was=was, bump=[current, other_now]
        )


def merge_cases(
    keep: Case,
    merged: Case,
    *,
    by: User,
    keys: vault.UnlockedKeys,
    expected_version: int | None = None,
    merged_version: int | None = None,
) -> DuplicateDecision:
    """Merge `merged` into `keep`: it becomes a duplicate of `keep` through the workflow
    (its rules and guards decide, with their own message), and its key, with the keys of
    cases merged into it before, is sealed to the kept case's team and assignee (the
    merging user's keys open them). `expected_version` is the kept case's, `merged_version`
    the merged one's. Raises TransitionRefusedError (StaleCaseError for a stale page) and
    leaves nothing changed."""
    with transaction.atomic():
        kept, merging = _lock_pair(keep, merged, expected_version, merged_version)
        was = _check_change(kept, merging, Kind.MERGED)
        if kept.state in workflow.ENDED:
            raise TransitionRefusedError(_("Reopen the case to keep before merging into it."))
        moved = transition(merging, State.DUPLICATE, by=by, duplicate_of=kept)
        _share_keys(kept, [moved, *merged_into(moved)], keys=keys, by=by)
        return _record(
            kept, moved, Kind.MERGED, by=by, was=was, bump=[kept], details={"kept": str(kept.pk)}
        )


def _share_keys(kept: Case, merged: list[Case], *, keys: vault.UnlockedKeys, by: User) -> None:
    holders: list[dict[str, Any]] = [{"team": kept.team}, {"user": kept.assigned_to}]
    for case in merged:
        for holder in holders:
            if None in holder.values():
                continue
            try:
                vault.grant_keyring(case.keyring, keys, by=by, **holder)
            except vault.KeysUnavailableError as error:
                raise TransitionRefusedError(
                    _("Your keys do not open case %(reference)s, so you cannot merge it.")
                    % {"reference": case.reference}
                ) from error


DECISIONS = ("link", "dismiss", "merge_here", "merge_there")


def decide(
    case: Case,
    other: Case,
    decision: str,
    *,
    by: User,
    keys: vault.UnlockedKeys | None,
    expected_version: int,
    other_version: int,
) -> Case:
    """One decision as the case page asks for it, from `case` about `other`: "link",
    "dismiss", "merge_here" (keep `case`) or "merge_there" (merge `case` into `other`).
    Returns the case to show next (the kept one after a merge). Merging needs unlocked
    keys. Raises TransitionRefusedError and leaves nothing changed."""
    if decision == "link":
        link_duplicates(
            case, other, by=by, expected_version=expected_version, other_version=other_version
        )
        return case
    if decision == "dismiss":
        dismiss_duplicate(
            case, other, by=by, expected_version=expected_version, other_version=other_version
        )
        return case
    if decision not in DECISIONS:
        raise ValueError(f"not a duplicate decision: {decision!r}")
    if keys is None:
        raise TransitionRefusedError(
            _("Unlock your keys first: merging shares the merged case's key.")
        )
    keep, merged = (case, other) if decision == "merge_here" else (other, case)
    versions = {case.pk: expected_version, other.pk: other_version}
    merge_cases(
        keep,
        merged,
        by=by,
        keys=keys,
        expected_version=versions[keep.pk],
        merged_version=versions[merged.pk],
    )
    return keep

"""Who reaches verification, through the cases' own need-to-know rules.

A case's verification page opens to the staff who may open the case
(`cases.access.get_case_for_user`) and hold a role that verifies: intake volunteers and
caseworkers on their cases, verifiers on the cases sent to verification. Everyone else
gets 404. Sealed notes, hashes and summaries also need the case key (`vault.access`).

Coordinators see which verified cases are due for re-verification (reference, state and
dates), never their content.
"""

import uuid
from datetime import date

from django.db.models import QuerySet
from django.http import Http404

from waystation.accounts.models import Role, User
from waystation.cases.access import get_case_for_user, visible_cases
from waystation.cases.models import Case, State
from waystation.intake.models import Evidence

from .models import Decision

VERIFICATION_ROLES = (Role.INTAKE_VOLUNTEER, Role.CASEWORKER, Role.VERIFIER)
OVERVIEW_ROLES = (*VERIFICATION_ROLES, Role.COORDINATOR)


def get_case_for_verification(user: User, pk: uuid.UUID) -> Case:
    """The case, if the user verifies and may open it; Http404 otherwise."""
    if not user.has_role(*VERIFICATION_ROLES):
        raise Http404
    return get_case_for_user(user, pk)


def get_evidence_of_case(case: Case, evidence_pk: object) -> Evidence:
    """One file of the case (a case the caller has reached through the functions above);
    Http404 for a file of another case, or none."""
    try:
        pk = uuid.UUID(str(evidence_pk))
    except ValueError:
        raise Http404 from None
    evidence = Evidence.objects.filter(pk=pk, request_id=case.request_id).first()
    if evidence is None:
        raise Http404
    return evidence


def cases_in_verification(user: User) -> QuerySet[Case]:
    """The cases in verification the user may open, oldest in the state first."""
    if not user.has_role(*VERIFICATION_ROLES):
        return Case.objects.none()
    return visible_cases(user).filter(state=State.IN_VERIFICATION).order_by("state_changed_at")


def due_by_date(user: User, today: date) -> QuerySet[Decision]:
    """The verified decisions in force whose review date has come (new signals bring it
    forward: `services.bring_reviews_forward`): every one for coordinators, those of cases
    they may open for the others."""
    due = Decision.objects.filter(
        outcome=Decision.Outcome.VERIFIED,
        status=Decision.Status.DECIDED,
        review_due_on__lte=today,
    )
    if not user.has_role(Role.COORDINATOR):
        if not user.has_role(*VERIFICATION_ROLES):
            return Decision.objects.none()
        due = due.filter(case__in=visible_cases(user))
    return due.select_related("case").order_by("review_due_on", "case__reference")


def openable(user: User, case_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these cases the user may open on their verification page."""
    if not user.has_role(*VERIFICATION_ROLES):
        return set()
    return set(visible_cases(user).filter(pk__in=case_ids).values_list("pk", flat=True))

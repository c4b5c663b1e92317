"""Who reaches a case's plan, through the cases' own need-to-know rules.

A case's planning pages (documents, plan, destination options, dossier) open to
caseworkers who may open the case (`cases.access.get_case_for_user`): their team's cases
and those assigned to them. Everyone else gets 404, as for a case that does not exist.
Reading the sealed parts also needs the case key (`vault.access`).

Coordinators keep the pathway templates and the country facts; they see no case's plan
through that role alone.
"""

import uuid

from django.http import Http404

from waystation.accounts.models import Role, User
from waystation.cases.access import get_case_for_user, visible_cases
from waystation.cases.models import Case

from .models import Milestone, TravelDocument

PLANNING_ROLES = (Role.CASEWORKER,)


def plans(user: User) -> bool:
    """Whether the user works on plans at all."""
    return user.has_role(*PLANNING_ROLES)


def get_case_for_planning(user: User, pk: uuid.UUID) -> Case:
    """The case, if the user plans and may open it; Http404 otherwise."""
    if not plans(user):
        raise Http404
    return get_case_for_user(user, pk)


def get_document_for_user(user: User, pk: uuid.UUID) -> TravelDocument:
    """A document of a case the user plans and may open; Http404 otherwise."""
    if not plans(user):
        raise Http404
    document = (
        TravelDocument.objects.filter(pk=pk, case__in=visible_cases(user))
        .select_related("case", "case__keyring", "case__request", "keyring")
        .first()
    )
    if document is None:
        raise Http404
    return document


def get_milestone_for_user(user: User, pk: uuid.UUID) -> Milestone:
    """A milestone of a case the user plans and may open; Http404 otherwise."""
    if not plans(user):
        raise Http404
    milestone = (
        Milestone.objects.filter(pk=pk, case__in=visible_cases(user))
        .select_related("case", "plan", "keyring")
        .first()
    )
    if milestone is None:
        raise Http404
    return milestone

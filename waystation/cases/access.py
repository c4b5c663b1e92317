"""Who sees which case: need to know, through one function.

- An intake volunteer sees the intake queue (every new case).
- A caseworker sees the cases of their caseworker teams.
- Anyone sees the cases assigned to them.
- Coordinators administer; they see no case through that role alone.
- Break-glass: an intake volunteer or caseworker may open another case with a stated
  reason, for a few hours; it is logged, coordinators are alerted, and it shows in the
  weekly review.

Reading what the person wrote also needs the keys (a keyring grant or a team key the user
holds); this module decides visibility only. Everyone else gets 404, as for a case that
does not exist.
"""

import uuid

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from waystation.accounts.models import Membership, Role, User

from .models import BreakGlass, Case, State

QUEUE_ROLES = (Role.INTAKE_VOLUNTEER, Role.CASEWORKER)


def visible_cases(user: User) -> QuerySet[Case]:
    """Every case the user may open without breaking the glass, plus those they broke it
    for and whose time has not run out."""
    visible = Q(assigned_to=user)
    if user.has_role(Role.INTAKE_VOLUNTEER):
        visible |= Q(state=State.NEW)
    teams = Membership.objects.filter(user=user, team__role=Role.CASEWORKER).values("team_id")
    if user.has_role(Role.CASEWORKER):
        visible |= Q(team_id__in=teams)
    broken = BreakGlass.objects.filter(user=user, expires_at__gt=timezone.now()).values("case_id")
    visible |= Q(pk__in=broken)
    return Case.objects.filter(visible)


def get_case_for_user(user: User, pk: uuid.UUID) -> Case:
    """The case, if the user may see it; Http404 otherwise."""
    case = visible_cases(user).filter(pk=pk).select_related("assigned_to", "team").first()
    if case is None:
        raise Http404
    return case


def case_behind_glass(user: User, pk: uuid.UUID) -> Case:
    """A case the user may break the glass for: it exists, the user works a queue, and it is
    not already visible to them. Http404 otherwise."""
    if not user.has_role(*QUEUE_ROLES):
        raise Http404
    case = Case.objects.filter(pk=pk).first()
    if case is None or visible_cases(user).filter(pk=pk).exists():
        raise Http404
    return case

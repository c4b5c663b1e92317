"""Who sees which case: need to know, through one function.

- An intake volunteer sees the intake queue (every new case).
- A caseworker sees the cases of their caseworker teams.
- A verifier sees the cases sent to verification (state "in verification"); reading what
  the person wrote still needs the case key shared with them.
- Anyone sees the cases assigned to them.
- A surge volunteer sees the new cases of their crisis responses (their triage queue) and
  nothing else: not a case assigned to them, never behind the glass.
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
from waystation.intake.models import Evidence

from .models import BreakGlass, Case, CrisisResponse, DuplicateDecision, State

# The roles that work a case queue and may break the glass.
QUEUE_ROLES = (Role.INTAKE_VOLUNTEER, Role.CASEWORKER)
# The roles that open case pages: the above, and surge volunteers (limited by visible_cases).
CASE_ROLES = (*QUEUE_ROLES, Role.SURGE_VOLUNTEER)


def _surge_queue(user: User) -> Q:
    responses = CrisisResponse.objects.filter(surge_team__memberships__user=user).values("pk")
    return Q(state=State.NEW, crisis_id__in=responses)


def crisis_responses_for(user: User) -> QuerySet[CrisisResponse] | None:
    """The crisis responses a surge-only account works, for its queue's filter; None (no
    limit) for everyone else."""
    if user.roles == {Role.SURGE_VOLUNTEER}:
        responses = CrisisResponse.objects.filter(surge_team__memberships__user=user)
        return responses.order_by("-starts_on")
    return None


def visible_cases(user: User, *, state: str = "") -> QuerySet[Case]:
    """Every case the user may open without breaking the glass, plus those they broke it
    for and whose time has not run out; with `state`, those in that state only, in the
    simplest query that says it (an intake volunteer sees every new case, a verifier every
    case in verification: no per-user condition, so counts read an index alone)."""
    if state and (
        (state == State.NEW and user.has_role(Role.INTAKE_VOLUNTEER))
        or (state == State.IN_VERIFICATION and user.has_role(Role.VERIFIER))
    ):
        return Case.objects.filter(state=state)
    cases = _visible(user)
    return cases.filter(state=state) if state else cases


def _visible(user: User) -> QuerySet[Case]:
    if user.roles == {Role.SURGE_VOLUNTEER}:
        # A quickly vetted, temporary account: its responses' triage queue and no more.
        return Case.objects.filter(_surge_queue(user))
    visible = Q(assigned_to=user)
    if user.has_role(Role.SURGE_VOLUNTEER):
        visible |= _surge_queue(user)
    if user.has_role(Role.INTAKE_VOLUNTEER):
        visible |= Q(state=State.NEW)
    teams = Membership.objects.filter(user=user, team__role=Role.CASEWORKER).values("team_id")
    if user.has_role(Role.CASEWORKER):
        visible |= Q(team_id__in=teams)
    if user.has_role(Role.VERIFIER):
        visible |= Q(state=State.IN_VERIFICATION)
    broken = BreakGlass.objects.filter(user=user, expires_at__gt=timezone.now()).values("case_id")
    visible |= Q(pk__in=broken)
    return Case.objects.filter(visible)


def get_case_for_user(user: User, pk: uuid.UUID) -> Case:
    """The case, if the user may see it; Http404 otherwise."""
    case = (
        visible_cases(user)
        .filter(pk=pk)
        .select_related("assigned_to", "team", "keyring", "request")
        .first()
    )
    if case is None:
        raise Http404
    return case


def get_evidence_for_user(
    user: User, pk: uuid.UUID, evidence_pk: uuid.UUID
) -> tuple[Case, Evidence]:
    """The case and one file the person sent for it, if the user may see the case; Http404
    otherwise, and for a file of another case or none. Opening the file needs the keys."""
    case = get_case_for_user(user, pk)
    evidence = (
        Evidence.objects.filter(pk=evidence_pk, request_id=case.request_id)
        .select_related("derivative")
        .first()
    )
    if evidence is None:
        raise Http404
    return case, evidence


def case_behind_glass(user: User, pk: uuid.UUID) -> Case:
    """A case the user may break the glass for: it exists, the user works a queue, and it is
    not already visible to them. Http404 otherwise."""
    if not user.has_role(*QUEUE_ROLES):
        raise Http404
    case = Case.objects.filter(pk=pk).first()
    if case is None or visible_cases(user).filter(pk=pk).exists():
        raise Http404
    return case


# Merges chained deeper than this (A into B into C ...) are not followed further.
MERGE_DEPTH = 10


def merged_into(case: Case) -> list[Case]:
    """The cases merged into `case`, and those merged into them, nearest first: whoever may
    open `case` reads their histories on its page (their keys were shared at the merge). A
    case marked "duplicate" without a merge decision, or reopened since, is not among them."""
    found: list[Case] = []
    seen = {case.pk}
    frontier = [case.pk]
    for _depth in range(MERGE_DEPTH):
        pairs = {
            frozenset(pair)
            for pair in DuplicateDecision.objects.filter(
                Q(first_id__in=frontier) | Q(second_id__in=frontier),
                kind=DuplicateDecision.Kind.MERGED,
            ).values_list("first_id", "second_id")
        }
        if not pairs:
            break
        step = [
            merged
            for merged in Case.objects.filter(duplicate_of_id__in=frontier, state=State.DUPLICATE)
            .select_related("request", "keyring", "assigned_to", "duplicate_of")
            .order_by("state_changed_at", "pk")
            if merged.pk not in seen and frozenset((merged.pk, merged.duplicate_of_id)) in pairs
        ]
        if not step:
            break
        found += step
        seen |= {merged.pk for merged in step}
        frontier = [merged.pk for merged in step]
    return found


def surge_accounts(user: User, response: CrisisResponse) -> QuerySet[User]:
    """The accounts of the response's surge team, for a coordinator (none for anyone else),
    the ones still open first."""
    if not user.has_role(Role.COORDINATOR) or response.surge_team_id is None:
        return User.objects.none()
    return User.objects.filter(memberships__team_id=response.surge_team_id).order_by(
        "-expires_at", "display_name"
    )


def get_surge_account_for_coordinator(user: User, pk: uuid.UUID) -> tuple[User, CrisisResponse]:
    """A surge volunteer account and the crisis response it works, for a coordinator;
    Http404 for anyone else, and for an account in no surge team."""
    if not user.has_role(Role.COORDINATOR):
        raise Http404
    response = CrisisResponse.objects.filter(surge_team__memberships__user_id=pk).first()
    if response is None:
        raise Http404
    return User.objects.get(pk=pk), response

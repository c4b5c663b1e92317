"""The Case Committee's pages: meetings, the agenda with each request's pseudonymized
summary, scores, conflicts, votes, the proposed allocation beside the greedy one, and
decisions. Members never see a case: only the request's own reference, amounts, country,
pathway and the summary its caseworker wrote for them."""

import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from waystation.accounts.access import role_required, staff_user
from waystation.audit.services import log_action
from waystation.cases.workflow import TransitionRefusedError
from waystation.vault import crypto
from waystation.vault.access import NotUnlockedError, keyring_key
from waystation.vault.fields import decrypt_value
from waystation.vault.services import KeysUnavailableError, grants_prefetch

from . import committee
from .access import COMMITTEE_ROLES, get_item_for_member, get_meeting_for_member
from .forms import AgendaForm, DecisionForm, MeetingForm, VoteForm
from .models import (
    AgendaItem,
    Category,
    Conflict,
    Criterion,
    Fund,
    FundingRequest,
    Meeting,
    Score,
    Vote,
)
from .money import reporting_currency

UNLOCK = gettext_lazy("Unlock your keys first: the minutes are sealed.")
# What each allocation reason code says about a request.
REASONS = {
    "funded": gettext_lazy("Funded"),
    "no_eligible_fund": gettext_lazy("No fund may pay for its %(category)s"),
    "over_budget": gettext_lazy("The funds that may pay for it do not have enough left"),
    "zero_priority": gettext_lazy("Not scored yet"),
    "outranked": gettext_lazy("The money goes further on requests with more priority"),
    "dropped_in_repair": gettext_lazy("Left out when the figures were rounded to the cent"),
    "not_chosen_greedy": gettext_lazy("The money had run out when its turn came"),
}


def _key(request: HttpRequest, keyring: Any) -> bytes | None:
    try:
        return keyring_key(request, keyring)
    except (NotUnlockedError, KeysUnavailableError):
        return None


@role_required(*COMMITTEE_ROLES)
@require_http_methods(["GET", "POST"])
def meetings(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    form = MeetingForm(
        request.POST if request.method == "POST" else None,
        initial={"held_on": timezone.localdate(), "quorum": settings.FUNDING_QUORUM},
    )
    if request.method == "POST" and form.is_valid():
        try:
            meeting = committee.create_meeting(
                form.cleaned_data["held_on"], quorum=form.cleaned_data["quorum"], by=user
            )
        except TransitionRefusedError as refused:
            form.add_error(None, refused.message)
        else:
            return redirect("funding:meeting", pk=meeting.pk)
    return render(
        request,
        "funding/meeting_list.html",
        {
            "form": form,
            "meetings": Meeting.objects.order_by("-held_on")[:100],
            "waiting": FundingRequest.objects.filter(status__in=committee.ON_AGENDA).count(),
        },
        status=400 if form.errors else 200,
    )


def _summary(request: HttpRequest, item: AgendaItem) -> str | None:
    key = _key(request, item.request.keyring)
    if key is None:
        return None
    try:
        return str(decrypt_value(key, item.request, "summary") or "")
    except crypto.DecryptionError:
        return None


def _page(
    request: HttpRequest,
    meeting: Meeting,
    *,
    status: int = 200,
    error: str = "",
    forms: dict[Any, Any] | None = None,
) -> HttpResponse:
    user = staff_user(request)
    items = list(
        AgendaItem.objects.filter(meeting=meeting)
        .select_related("request", "request__keyring", "request__crisis", "reconsiders")
        .prefetch_related("request__items", grants_prefetch("request__keyring"))
    )
    counted = committee.tallies(items, meeting.quorum)
    criteria = list(Criterion.objects.filter(active=True))
    mine = {
        (s.item_id, s.criterion_id): s.value
        for s in Score.objects.filter(item__in=items, member=user)
    }
    my_votes = dict(
        Vote.objects.filter(item__in=items, member=user).values_list("item_id", "choice")
    )
    recused = set(
        Conflict.objects.filter(item__in=items, member=user).values_list("item_id", flat=True)
    )
    priorities = committee.priorities(items)
    proposal, proposal_error = None, ""
    if meeting.status == Meeting.Status.OPEN and any(not i.outcome for i in items):
        try:
            proposal = committee.proposal(meeting)
        except TransitionRefusedError as refused:
            proposal_error = refused.message
    funds = list(Fund.objects.filter(active=True).order_by("name"))
    fund_names = {str(f.pk): f.name for f in funds}
    meeting_key = _key(request, meeting.keyring)
    rows = []
    for item in items:
        rows.append(
            {
                "item": item,
                "summary": _summary(request, item),
                "minutes": _opened(item, meeting_key, "minutes"),
                "override_reason": _opened(item, meeting_key, "override_reason"),
                "priority": priorities.get(item.pk),
                "tally": counted[item.pk],
                "scores": [(c, mine.get((item.pk, c.pk))) for c in criteria],
                "vote": my_votes.get(item.pk, ""),
                "recused": item.pk in recused,
                "optimal": _reason(proposal.optimal, item, fund_names) if proposal else "",
                "greedy": _reason(proposal.greedy, item, fund_names) if proposal else "",
                "vote_form": VoteForm(initial={"choice": my_votes.get(item.pk, "")}),
                "decision_form": (forms or {}).get(item.pk) or DecisionForm(funds=funds),
            }
        )
    log_action(user, "funding.meeting.read", meeting)
    return render(
        request,
        "funding/meeting_detail.html",
        {
            "meeting": meeting,
            "rows": rows,
            "criteria": criteria,
            "proposal": proposal,
            "proposal_error": proposal_error,
            "reporting": reporting_currency(),
            "agenda_form": AgendaForm(choices=_waiting()),
            "other_meetings": Meeting.objects.exclude(pk=meeting.pk)
            .exclude(status=Meeting.Status.CLOSED)
            .order_by("held_on"),
            "error": error,
        },
        status=status,
    )


def _opened(item: AgendaItem, key: bytes | None, name: str) -> str:
    """One of the item's sealed fields (the minutes, the override reason); "" without the
    meeting's key or when it is damaged."""
    if key is None or getattr(item, name) is None:
        return ""
    try:
        return str(decrypt_value(key, item, name) or "")
    except crypto.DecryptionError:
        return ""


def _reason(outcome: Any, item: AgendaItem, fund_names: dict[str, str]) -> str:
    reason = outcome.reasons.get(str(item.pk))
    if reason is None:
        return ""
    text = str(REASONS.get(reason.code, reason.code))
    if "%(category)s" in text:
        label = (
            Category(reason.category).label
            if reason.category in Category.values
            else reason.category
        )
        text = text % {"category": label}
    if reason.code == "funded":
        text += ": " + ", ".join(fund_names.get(f, f) for f in reason.funds)
    return text


def _waiting() -> list[tuple[str, str]]:
    return [
        (str(r.pk), f"{r.reference} · {r.country} · {r.total} {reporting_currency()}")
        for r in FundingRequest.objects.filter(status__in=committee.ON_AGENDA).order_by(
            "submitted_at"
        )
    ]


@role_required(*COMMITTEE_ROLES)
@require_http_methods(["GET"])
def meeting(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    return _page(request, get_meeting_for_member(staff_user(request), pk))


@role_required(*COMMITTEE_ROLES)
@require_POST
def meeting_agenda(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    current = get_meeting_for_member(user, pk)
    form = AgendaForm(request.POST, choices=_waiting())
    if not form.is_valid():
        return _page(
            request, current, status=400, error=_("Choose a request waiting for the committee.")
        )
    try:
        committee.add_to_agenda(
            current, FundingRequest.objects.get(pk=form.cleaned_data["request"]), by=user
        )
    except TransitionRefusedError as refused:
        return _page(request, current, status=400, error=refused.message)
    return redirect("funding:meeting", pk=current.pk)


@role_required(*COMMITTEE_ROLES)
@require_POST
def meeting_status(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    current = get_meeting_for_member(user, pk)
    try:
        committee.set_meeting_status(current, request.POST.get("status", ""), by=user)
    except TransitionRefusedError as refused:
        return _page(request, current, status=400, error=refused.message)
    return redirect("funding:meeting", pk=current.pk)


def _back(item: AgendaItem) -> HttpResponse:
    return redirect("funding:meeting", pk=item.meeting_id)


def _refused(
    request: HttpRequest, item: AgendaItem, refused: TransitionRefusedError
) -> HttpResponse:
    return _page(request, item.meeting, status=400, error=refused.message)


@role_required(*COMMITTEE_ROLES)
@require_POST
def item_conflict(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    item = get_item_for_member(user, pk)
    try:
        committee.declare_conflict(item, by=user)
    except TransitionRefusedError as refused:
        return _refused(request, item, refused)
    messages.success(
        request, _("Your conflict of interest is recorded: you neither score nor vote on it.")
    )
    return _back(item)


@role_required(*COMMITTEE_ROLES)
@require_POST
def item_score(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    item = get_item_for_member(user, pk)
    values: dict[Criterion, int] = {}
    for criterion in Criterion.objects.filter(active=True):
        raw = request.POST.get(f"score-{criterion.pk}", "").strip()
        if not raw:
            continue
        if not raw.isdigit():
            return _page(request, item.meeting, status=400, error=_("Scores are whole numbers."))
        values[criterion] = int(raw)
    try:
        committee.score(item, values, by=user)
    except TransitionRefusedError as refused:
        return _refused(request, item, refused)
    messages.success(request, _("Your scores are saved."))
    return _back(item)


@role_required(*COMMITTEE_ROLES)
@require_POST
def item_vote(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    item = get_item_for_member(user, pk)
    form = VoteForm(request.POST)
    if not form.is_valid():
        return _page(request, item.meeting, status=400, error=_("Choose an outcome to vote for."))
    try:
        committee.vote(item, form.cleaned_data["choice"], by=user)
    except TransitionRefusedError as refused:
        return _refused(request, item, refused)
    messages.success(request, _("Your vote is saved."))
    return _back(item)


@role_required(*COMMITTEE_ROLES)
@require_POST
def item_decide(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    item = get_item_for_member(user, pk)
    funds = list(Fund.objects.filter(active=True).order_by("name"))
    form = DecisionForm(request.POST, funds=funds)
    key = _key(request, item.meeting.keyring)
    if form.is_valid() and key is None:
        form.add_error(None, UNLOCK)
    if not form.is_valid() or key is None:
        return _page(request, item.meeting, status=400, forms={item.pk: form})
    data = form.cleaned_data
    try:
        committee.decide(
            item,
            committee.Decision(
                outcome=data["outcome"],
                categories=data["categories"],
                reason=data["reason"],
                minutes=data["minutes"],
                fund=data["fund"],
                override_reason=data["override_reason"],
            ),
            by=user,
            key=key,
        )
    except TransitionRefusedError as refused:
        form.add_error(None, refused.message)
        return _page(request, item.meeting, status=400, forms={item.pk: form})
    messages.success(request, _("The decision is recorded."))
    return _back(item)


@role_required(*COMMITTEE_ROLES)
@require_POST
def item_reconsider(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    item = get_item_for_member(user, pk)
    try:
        target = Meeting.objects.get(pk=uuid.UUID(request.POST.get("meeting", "")))
    except (ValueError, Meeting.DoesNotExist):
        return _page(
            request, item.meeting, status=400, error=_("Choose the meeting that reconsiders it.")
        )
    try:
        again = committee.reconsider(item, target, by=user)
    except TransitionRefusedError as refused:
        return _refused(request, item, refused)
    return redirect("funding:meeting", pk=again.meeting_id)

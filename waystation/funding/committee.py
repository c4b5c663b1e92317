"""Every write of the Case Committee: meetings and their agendas, declared conflicts,
scores, votes, decisions with the money they set aside, and reconsideration; and the
allocation proposed for a meeting (`proposal`, reads only).

A decision needs a quorum: at least the meeting's number of votes from members who did not
declare a conflict on the item; and a majority: more than half of those votes for the
outcome recorded. Members with a conflict neither score nor vote (refused here, under the
item's row lock). Funding sets money aside from funds (ledger commitments), following the
proposed optimal allocation or a fund the committee names instead, with a recorded reason.
"""

import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from waystation.accounts.models import Role, Team, User
from waystation.audit.services import log_action
from waystation.cases.models import Case, State
from waystation.cases.services import transition
from waystation.vault import services as vault

from . import allocation, ledger
from .models import (
    AgendaItem,
    Category,
    Commitment,
    Conflict,
    Criterion,
    Disbursement,
    Fund,
    FundingRequest,
    Meeting,
    Outcome,
    Score,
    Vote,
)
from .money import MissingRateError, Rates, rates_on, reporting_currency, round_to
from .services import FundingRefusedError

Status = FundingRequest.Status
ON_AGENDA = (Status.SUBMITTED, Status.DEFERRED)


def _refuse(message: str) -> FundingRefusedError:
    return FundingRefusedError(message)


# --- Meetings and agendas -------------------------------------------------------------------


def create_meeting(held_on: date, *, quorum: int | None = None, by: User) -> Meeting:
    """A meeting, its minutes keyring sealed to the committee teams."""
    teams = list(Team.objects.filter(role=Role.COMMITTEE_MEMBER))
    quorum = quorum or settings.FUNDING_QUORUM
    if quorum < 1:
        raise _refuse(_("A quorum is at least one vote."))
    with transaction.atomic():
        keyring, _key = vault.create_keyring(teams=teams, users=[by], by=by)
        meeting = Meeting.objects.create(
            held_on=held_on, quorum=quorum, keyring=keyring, created_by=by
        )
        log_action(by, "funding.meeting.created", meeting, details={"quorum": quorum})
    return meeting


def _open_meeting(meeting: Meeting) -> Meeting:
    current = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if current.status == Meeting.Status.CLOSED:
        raise _refuse(_("This meeting is closed."))
    return current


def add_to_agenda(meeting: Meeting, request: FundingRequest, *, by: User) -> AgendaItem:
    """Put a submitted or deferred request on a meeting's agenda."""
    with transaction.atomic():
        current = _open_meeting(meeting)
        locked = FundingRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status not in ON_AGENDA:
            raise _refuse(_("Only a submitted or deferred request can go on an agenda."))
        item = AgendaItem.objects.create(
            meeting=current,
            request=locked,
            keyring_id=current.keyring_id,
            position=current.items.count(),
        )
        locked.status = Status.SCHEDULED
        locked.version += 1
        locked.save(update_fields=["status", "version"])
        log_action(by, "funding.agenda.added", item, details={"request": str(locked.pk)})
    return item


def set_meeting_status(meeting: Meeting, status: str, *, by: User) -> Meeting:
    """Open a planned meeting, or close an open one (undecided items go back to deferred,
    to be put on another agenda)."""
    with transaction.atomic():
        current = Meeting.objects.select_for_update().get(pk=meeting.pk)
        allowed: dict[str, str] = {
            Meeting.Status.PLANNED: Meeting.Status.OPEN,
            Meeting.Status.OPEN: Meeting.Status.CLOSED,
        }
        if allowed.get(current.status) != status:
            raise _refuse(_("This meeting cannot move to that state."))
        if status == Meeting.Status.CLOSED:
            undecided = FundingRequest.objects.filter(
                agenda__meeting=current, agenda__outcome="", status=Status.SCHEDULED
            )
            undecided.update(status=Status.DEFERRED)
        current.status = status
        current.version += 1
        current.save(update_fields=["status", "version"])
        log_action(by, "funding.meeting.status_changed", current, details={"to": status})
    return current


def write_minutes(meeting: Meeting, text: str, *, by: User, key: bytes) -> None:
    with transaction.atomic():
        current = Meeting.objects.select_for_update().get(pk=meeting.pk)
        current.seal(key, minutes=text)
        current.save(update_fields=["minutes"])
        log_action(by, "funding.meeting.minutes_written", current)


# --- Conflicts, scores and votes --------------------------------------------------------------


def _live_item(item: AgendaItem) -> AgendaItem:
    current = AgendaItem.objects.select_for_update().select_related("meeting").get(pk=item.pk)
    if current.meeting.status != Meeting.Status.OPEN:
        raise _refuse(_("Scores and votes are taken while the meeting is open."))
    if current.outcome:
        raise _refuse(_("This request is decided already."))
    return current


def _not_recused(item: AgendaItem, member: User) -> None:
    if Conflict.objects.filter(item=item, member=member).exists():
        raise _refuse(
            _("You declared a conflict of interest on this request: you do not score or vote.")
        )


def declare_conflict(item: AgendaItem, *, by: User) -> None:
    """The member steps back from this item: their scores and vote on it are withdrawn."""
    with transaction.atomic():
        current = AgendaItem.objects.select_for_update().get(pk=item.pk)
        if current.outcome:
            raise _refuse(_("This request is decided already."))
        Conflict.objects.get_or_create(item=current, member=by)
        Score.objects.filter(item=current, member=by).delete()
        Vote.objects.filter(item=current, member=by).delete()
        log_action(by, "funding.conflict.declared", current)


def score(item: AgendaItem, values: dict[Criterion, int], *, by: User) -> None:
    """The member's scores on the rubric's criteria for this item (replacing earlier ones)."""
    with transaction.atomic():
        current = _live_item(item)
        _not_recused(current, by)
        for criterion, value in values.items():
            if not 0 <= value <= criterion.scale:
                raise _refuse(
                    _("Score %(criterion)s from 0 to %(scale)d.")
                    % {"criterion": criterion.name, "scale": criterion.scale}
                )
            Score.objects.update_or_create(
                item=current, member=by, criterion=criterion, defaults={"value": value}
            )
        log_action(by, "funding.item.scored", current, details={"criteria": len(values)})


def vote(item: AgendaItem, choice: str, *, by: User) -> None:
    if choice not in Outcome.values:
        raise _refuse(_("Choose an outcome to vote for."))
    with transaction.atomic():
        current = _live_item(item)
        _not_recused(current, by)
        Vote.objects.update_or_create(item=current, member=by, defaults={"choice": choice})
        log_action(by, "funding.item.voted", current, details={"choice": choice})


@dataclass(frozen=True)
class Tally:
    votes: dict[str, int]
    cast: int
    recused: int
    quorum: int

    @property
    def quorate(self) -> bool:
        return self.cast >= self.quorum

    def majority(self, outcome: str) -> bool:
        return self.votes.get(outcome, 0) * 2 > self.cast


def tally(item: AgendaItem) -> Tally:
    """The votes on an item, those of recused members left out."""
    return tallies([item], item.meeting.quorum)[item.pk]


def tallies(items: Sequence[AgendaItem], quorum: int) -> dict[Any, Tally]:
    """The votes on each of a meeting's items, in two queries."""
    recused: dict[Any, set[Any]] = defaultdict(set)
    for item_id, member_id in Conflict.objects.filter(item__in=items).values_list(
        "item_id", "member_id"
    ):
        recused[item_id].add(member_id)
    votes: dict[Any, Counter[str]] = defaultdict(Counter)
    for item_id, member_id, choice in Vote.objects.filter(item__in=items).values_list(
        "item_id", "member_id", "choice"
    ):
        if member_id not in recused[item_id]:
            votes[item_id][choice] += 1
    return {
        item.pk: Tally(
            dict(votes[item.pk]),
            sum(votes[item.pk].values()),
            len(recused[item.pk]),
            quorum,
        )
        for item in items
    }


def priorities(items: Sequence[AgendaItem]) -> dict[Any, Decimal]:
    """Each item's priority from 0 to 100: the weighted mean, over the rubric's active
    criteria, of the members' mean score as a share of the criterion's scale (recused
    members' scores left out; a criterion nobody scored counts as 0)."""
    criteria = list(Criterion.objects.filter(active=True))
    total_weight = sum((c.weight for c in criteria), Decimal(0))
    recused = defaultdict(set)
    for item_id, member_id in Conflict.objects.filter(item__in=items).values_list(
        "item_id", "member_id"
    ):
        recused[item_id].add(member_id)
    sums: dict[tuple[Any, Any], list[int]] = defaultdict(list)
    for item_id, criterion_id, member_id, value in Score.objects.filter(item__in=items).values_list(
        "item_id", "criterion_id", "member_id", "value"
    ):
        if member_id not in recused[item_id]:
            sums[(item_id, criterion_id)].append(value)
    result = {}
    for item in items:
        if not total_weight:
            result[item.pk] = Decimal(0)
            continue
        weighted = Decimal(0)
        for criterion in criteria:
            values = sums.get((item.pk, criterion.pk))
            if values:
                mean = Decimal(sum(values)) / len(values)
                weighted += criterion.weight * mean / criterion.scale
        result[item.pk] = round(Decimal(100) * weighted / total_weight, 2)
    return result


# --- Allocation -------------------------------------------------------------------------------


def _fund_open(fund: Fund, today: date) -> bool:
    return (
        fund.active and fund.starts_on <= today and (fund.ends_on is None or fund.ends_on >= today)
    )


def _inputs(
    items: Sequence[AgendaItem], today: date
) -> tuple[list[allocation.Request], list[allocation.Fund], list[allocation.Envelope], Rates]:
    rates = rates_on(today)
    scores = priorities(items)
    requests = []
    for item in items:
        request = item.request
        costs: dict[str, Decimal] = defaultdict(Decimal)
        request_rates = rates_on(request.rates_on or today)
        for line in request.items.all():
            costs[line.category] += request_rates.to_reporting(line.estimate, line.currency)
        requests.append(
            allocation.Request(
                id=str(item.pk),
                priority=scores[item.pk],
                costs=dict(costs),
                country=request.country,
                pathway=request.pathway,
                crisis=str(request.crisis_id or ""),
            )
        )
    funds = [
        f for f in Fund.objects.prefetch_related("crises", "envelopes") if _fund_open(f, today)
    ]
    balances = ledger.balances_of(funds)
    offered = []
    for fund in funds:
        left = balances[fund.pk][ledger.Kind.AVAILABLE] + fund.overdraft_limit
        offered.append(
            allocation.Fund(
                id=str(fund.pk),
                available=max(Decimal(0), _reporting(rates, left, fund.currency, down=True)),
                countries=frozenset(fund.countries),
                pathways=frozenset(fund.pathways),
                categories=frozenset(fund.categories),
                crises=frozenset(str(c.pk) for c in fund.crises.all()),
            )
        )
    envelopes = []
    for fund in funds:
        for envelope in fund.envelopes.all():
            used = _envelope_used(envelope)
            left = max(Decimal(0), envelope.cap - used)
            envelopes.append(
                allocation.Envelope(
                    id=str(envelope.pk),
                    fund=str(fund.pk),
                    cap=_reporting(rates, left, fund.currency, down=True),
                    crisis=str(envelope.crisis_id or ""),
                    pathway=envelope.pathway,
                )
            )
    return requests, offered, envelopes, rates


def _reporting(rates: Rates, amount: Decimal, currency: str, *, down: bool = False) -> Decimal:
    converted = rates.to_reporting(amount, currency)
    # A fund's money is offered rounded down, so converting it back never exceeds it.
    if down and converted > 0:
        back = rates.from_reporting(converted, currency)
        while back > amount and converted > 0:
            converted -= Decimal(1).scaleb(-2)
            back = rates.from_reporting(converted, currency)
    return converted


def _envelope_used(envelope: Any) -> Decimal:
    matching = Q(fund_id=envelope.fund_id)
    if envelope.crisis_id:
        matching &= Q(request__crisis_id=envelope.crisis_id)
    if envelope.pathway:
        matching &= Q(request__pathway=envelope.pathway)
    # What is set aside or paid: the commitments, less what was given back.
    total = Decimal(0)
    for amount, given_back in Commitment.objects.filter(matching).values_list(
        "amount", "given_back"
    ):
        total += amount - given_back
    return total


@dataclass(frozen=True)
class Proposal:
    optimal: allocation.Outcome
    greedy: allocation.Outcome
    priorities: dict[Any, Decimal]
    costs: dict[str, dict[str, Decimal]]


def proposal(meeting: Meeting, *, today: date | None = None) -> Proposal:
    """The allocation proposed for the meeting's undecided items, optimal and greedy.
    Raises FundingRefusedError when an exchange rate is missing."""
    today = today or timezone.localdate()
    items = list(
        AgendaItem.objects.filter(meeting=meeting, outcome="")
        .select_related("request", "meeting")
        .prefetch_related("request__items")
    )
    try:
        requests, funds, envelopes, _rates = _inputs(items, today)
    except MissingRateError as missing:
        raise _refuse(missing.message) from missing
    optimal, greedy = allocation.compare(requests, funds, envelopes)
    return Proposal(
        optimal,
        greedy,
        {str(r.id): r.priority for r in requests},
        {str(r.id): dict(r.costs) for r in requests},
    )


# --- Decisions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    outcome: str
    # The cost categories funded (fund in part: some of them; fund: all).
    categories: Sequence[str] = ()
    reason: str = ""
    minutes: str = ""
    # "" follows the proposed allocation; else the id of the one fund that pays.
    fund: str = ""
    override_reason: str = ""


def decide(item: AgendaItem, decision: Decision, *, by: User, key: bytes) -> AgendaItem:
    """Record the committee's decision on an item (`key`: the meeting's keyring key, for the
    minutes and the reason for paying from another fund than proposed). Refused without a
    quorum or a majority for the outcome, for a decline without a reason, and for funding
    that no fund can pay; nothing is half-recorded. Funding sets the money aside from the
    funds (ledger commitments, locked in the order of their ids), makes one approved payment
    per commitment for finance, and moves the case to "funded"."""
    if decision.outcome not in Outcome.values:
        raise _refuse(_("Choose an outcome."))
    if decision.outcome == Outcome.DECLINE and not decision.reason:
        raise _refuse(_("Give the reason for declining."))
    payments: list[allocation.Payment] = []
    if decision.outcome in (Outcome.FUND, Outcome.FUND_PARTLY):
        payments = _payments_for(item, decision)
    with transaction.atomic():
        current = _live_item(item)
        counted = tally(current)
        if not counted.quorate:
            raise _refuse(
                _("No quorum: %(cast)d of the %(quorum)d votes needed were cast.")
                % {"cast": counted.cast, "quorum": counted.quorum}
            )
        if not counted.majority(decision.outcome):
            raise _refuse(_("The votes cast do not give this outcome a majority."))
        request = FundingRequest.objects.select_for_update().get(pk=current.request_id)
        if current.reconsiders_id:
            _undo(current.reconsiders, by=by)  # type: ignore[arg-type]
        granted = _commit(current, request, payments, by=by) if payments else None
        current.outcome = decision.outcome
        current.granted = granted
        current.reason = decision.reason if decision.outcome == Outcome.DECLINE else ""
        current.decided_at = timezone.now()
        current.decided_by = by
        current.version += 1
        if decision.minutes.strip():
            current.seal(key, minutes=decision.minutes)
        if decision.override_reason.strip():
            current.seal(key, override_reason=decision.override_reason.strip()[:500])
        current.save()
        statuses: dict[str, str] = {
            Outcome.FUND: Status.FUNDED,
            Outcome.FUND_PARTLY: Status.FUNDED_PARTLY,
            Outcome.DEFER: Status.DEFERRED,
            Outcome.DECLINE: Status.DECLINED,
        }
        request.status = statuses[decision.outcome]
        request.version += 1
        request.save(update_fields=["status", "version"])
        log_action(
            by,
            "funding.item.decided",
            current,
            details={
                "outcome": decision.outcome,
                "granted": str(granted or 0),
                "votes": counted.cast,
                "recused": counted.recused,
                "proposal_followed": not decision.fund,
            },
        )
        if granted is not None:
            case = Case.objects.get(pk=request.case_id)
            if case.state == State.AWAITING_FUNDING:
                transition(case, State.FUNDED, by=by)
    return current


def _payments_for(item: AgendaItem, decision: Decision) -> list[allocation.Payment]:
    """The payments a funding decision sets aside, in the reporting currency: the proposed
    allocation's for the item, or the named fund's for every category funded."""
    request = item.request
    today = timezone.localdate()
    try:
        rates = rates_on(request.rates_on or today)
    except MissingRateError as missing:
        raise _refuse(missing.message) from missing
    costs: dict[str, Decimal] = defaultdict(Decimal)
    for line in request.items.all():
        try:
            costs[line.category] += rates.to_reporting(line.estimate, line.currency)
        except MissingRateError as missing:
            raise _refuse(missing.message) from missing
    categories = (
        list(decision.categories) if decision.outcome == Outcome.FUND_PARTLY else list(costs)
    )
    if decision.outcome == Outcome.FUND_PARTLY and (
        not categories or set(categories) >= set(costs) or not set(categories) <= set(costs)
    ):
        raise _refuse(_("To fund in part, choose some of the request's costs, not all."))
    if decision.fund:
        if not decision.override_reason.strip():
            raise _refuse(_("Say why the committee pays from another fund than proposed."))
        fund = Fund.objects.filter(pk=decision.fund).prefetch_related("crises").first()
        if fund is None:
            raise _refuse(_("Choose a fund."))
        for category in categories:
            if not _admits(fund, request, category):
                raise _refuse(
                    _("%(fund)s may not pay for this request's %(category)s.")
                    % {"fund": fund.name, "category": Category(category).label}
                )
        return [
            allocation.Payment(str(item.pk), str(fund.pk), category, costs[category])
            for category in categories
        ]
    plan = proposal(item.meeting)
    chosen = [p for p in plan.optimal.payments if p.request == str(item.pk)]
    if not chosen:
        raise _refuse(
            _(
                "The proposed allocation does not fund this request: name the fund that pays "
                "and say why."
            )
        )
    return [p for p in chosen if p.category in categories]


def _admits(fund: Fund, request: FundingRequest, category: str) -> bool:
    crises = {str(c.pk) for c in fund.crises.all()}
    return (
        (not fund.countries or request.country in fund.countries)
        and (not fund.pathways or request.pathway in fund.pathways)
        and (not fund.categories or category in fund.categories)
        and (not crises or str(request.crisis_id or "") in crises)
    )


def _commit(
    item: AgendaItem, request: FundingRequest, payments: list[allocation.Payment], *, by: User
) -> Decimal:
    today = timezone.localdate()
    try:
        rates = rates_on(today)
    except MissingRateError as missing:
        raise _refuse(missing.message) from missing
    funds = {
        fund.pk: fund
        for fund in Fund.objects.select_for_update()
        .filter(pk__in={p.fund for p in payments})
        .order_by("pk")
    }
    granted = Decimal(0)
    for payment in payments:
        fund = funds[uuid.UUID(payment.fund)]
        try:
            amount = rates.from_reporting(payment.amount, fund.currency)
        except MissingRateError as missing:
            raise _refuse(missing.message) from missing
        ledger.move(
            fund,
            ledger.Movement.COMMITMENT,
            amount,
            by=by,
            request=request,
            category=payment.category,
        )
        commitment = Commitment.objects.create(
            item=item,
            request=request,
            fund=fund,
            category=payment.category,
            amount=round_to(amount, fund.currency),
            amount_reporting=payment.amount,
            open_amount=round_to(amount, fund.currency),
        )
        Disbursement.objects.create(
            commitment=commitment,
            request=request,
            keyring_id=request.keyring_id,
            amount=commitment.amount,
            approved_by=by,
        )
        granted += payment.amount
    return round_to(granted, reporting_currency())


def _undo(earlier: AgendaItem, *, by: User) -> None:
    """Give back what an earlier decision set aside and cancel its unpaid payments, before a
    reconsidered decision replaces it. Refused once any of its money was released."""
    commitments = list(Commitment.objects.select_for_update().filter(item=earlier))
    if Disbursement.objects.filter(
        commitment__in=commitments,
        status__in=[Disbursement.Status.RELEASED, Disbursement.Status.RECEIVED],
    ).exists():
        raise _refuse(
            _("Money of the earlier decision was paid out already: it cannot be reconsidered.")
        )
    Disbursement.objects.filter(commitment__in=commitments).exclude(
        status=Disbursement.Status.CANCELLED
    ).update(status=Disbursement.Status.CANCELLED, cancelled_at=timezone.now())
    funds = {
        f.pk: f
        for f in Fund.objects.select_for_update()
        .filter(pk__in={c.fund_id for c in commitments})
        .order_by("pk")
    }
    for commitment in commitments:
        if commitment.open_amount > 0:
            ledger.move(
                funds[commitment.fund_id],
                ledger.Movement.UNCOMMITMENT,
                commitment.open_amount,
                by=by,
                request=commitment.request,
                category=commitment.category,
                memo="reconsidered",
            )
            commitment.given_back += commitment.open_amount
            commitment.open_amount = Decimal(0)
            commitment.save(update_fields=["open_amount", "given_back"])


def reconsider(item: AgendaItem, meeting: Meeting, *, by: User) -> AgendaItem:
    """Put a decided item's request on a meeting's agenda again; its new decision replaces
    the earlier one (which stays in the record, as reconsidered)."""
    with transaction.atomic():
        current = _open_meeting(meeting)
        earlier = AgendaItem.objects.select_for_update().get(pk=item.pk)
        if not earlier.outcome:
            raise _refuse(_("Only a decided request can be reconsidered."))
        if AgendaItem.objects.filter(reconsiders=earlier).exists():
            raise _refuse(_("This decision is being reconsidered already."))
        if (
            current.pk == earlier.meeting_id
            or AgendaItem.objects.filter(meeting=current, request_id=earlier.request_id).exists()
        ):
            raise _refuse(_("Reconsider it at another meeting than the one that decided it."))
        again = AgendaItem.objects.create(
            meeting=current,
            request_id=earlier.request_id,
            keyring_id=current.keyring_id,
            position=current.items.count(),
            reconsiders=earlier,
        )
        FundingRequest.objects.filter(pk=earlier.request_id).update(status=Status.SCHEDULED)
        log_action(by, "funding.item.reconsidered", again, details={"earlier": str(earlier.pk)})
    return again

"""From a case's funding request to money paid: a pseudonymized summary, submission at the
day's rates, a meeting with quorum, majority and recusal, decisions that set money aside
within each fund's restrictions, reconsideration, and payments released by two people."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from conftest import make_user
from waystation.accounts.models import Role, Team, User
from waystation.audit.models import AuditEntry
from waystation.cases.models import Case, State
from waystation.cases.workflow import TransitionRefusedError
from waystation.funding import committee, ledger, payments, services
from waystation.funding.committee import Decision
from waystation.funding.models import (
    AgendaItem,
    Commitment,
    Criterion,
    Disbursement,
    Fund,
    FundingRequest,
    Meeting,
)
from waystation.vault import services as vault
from waystation.vault.fields import decrypt_value

from .conftest import keys_of, submitted_request
from .factories import deposit, make_fund, planned_case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rates", "members", "finance")]

AIRFARE = [("airfare", "USD", "800"), ("visa_fee", "UGX", "400000")]  # 720 + 100 EUR


def _meeting(people: list[User], *items: FundingRequest, quorum: int = 3) -> Meeting:
    meeting = committee.create_meeting(timezone.localdate(), quorum=quorum, by=people[0])
    for request in items:
        committee.add_to_agenda(meeting, request, by=people[0])
    return committee.set_meeting_status(meeting, Meeting.Status.OPEN, by=people[0])


def _item(meeting: Meeting, request: FundingRequest) -> AgendaItem:
    return AgendaItem.objects.get(meeting=meeting, request=request)


def _score_and_vote(
    item: AgendaItem, people: list[User], rubric: list[Criterion], choice: str, value: int = 4
) -> None:
    for person in people:
        committee.score(item, dict.fromkeys(rubric, value), by=person)
        committee.vote(item, choice, by=person)


def _key(meeting: Meeting, user: User) -> bytes:
    return vault.open_keyring(meeting.keyring, keys_of(user))


def _funded(
    intake_team: Team,
    caseworkers: Team,
    members: list[User],
    rubric: list[Criterion],
    costs: list[tuple[str, str, str]],
    money: str,
) -> tuple[FundingRequest, Fund]:
    """A submitted request funded by a unanimous committee from one fund holding `money`."""
    request = submitted_request(intake_team, caseworkers, costs)
    fund = make_fund("General")
    deposit(fund, money)
    meeting = _meeting(members, request)
    item = _item(meeting, request)
    _score_and_vote(item, members, rubric, "fund")
    committee.decide(item, Decision("fund"), by=members[0], key=_key(meeting, members[0]))
    return request, fund


# --- Requests --------------------------------------------------------------------------------


def test_a_request_needs_a_verified_case_with_a_plan(intake_team: Team, caseworkers: Team) -> None:
    from waystation.verification.tests.conftest import in_verification, member

    unverified = in_verification(intake_team, caseworkers)
    with pytest.raises(TransitionRefusedError, match="not verified"):
        services.create_request(unverified, by=member(caseworkers))
    planned = planned_case(intake_team, caseworkers)
    from waystation.planning.models import Plan

    Plan.objects.filter(case=planned).update(pathway="")
    with pytest.raises(services.FundingRefusedError, match="pathway"):
        services.create_request(planned, by=member(caseworkers))


@pytest.mark.parametrize(
    "summary",
    [
        "Amani was beaten twice.",
        "AMANI needs to leave.",
        "Okéllo was outed in the press.",
        "Call +256 772 123 456 before Friday.",
    ],
)
def test_a_summary_that_names_the_person_is_refused(
    intake_team: Team, caseworkers: Team, summary: str
) -> None:
    from waystation.verification.tests.conftest import member

    case = planned_case(intake_team, caseworkers, name="Amani Okello", handle="+256772123456")
    ana = member(caseworkers)
    request = services.create_request(case, by=ana)
    keys = keys_of(ana)
    with pytest.raises(services.FundingRefusedError, match="gives away who the person is"):
        services.write_summary(
            request,
            summary,
            expected_version=None,
            by=ana,
            case_key=vault.open_keyring(case.keyring, keys),
            request_key=vault.open_keyring(request.keyring, keys),
        )
    request.refresh_from_db()
    assert request.summary is None


def test_submission_fixes_the_total_at_the_days_rates_and_moves_the_case(
    intake_team: Team, caseworkers: Team
) -> None:
    request = submitted_request(intake_team, caseworkers, AIRFARE)
    assert (request.status, request.total) == (FundingRequest.Status.SUBMITTED, Decimal("820.00"))
    assert Case.objects.get(pk=request.case_id).state == State.AWAITING_FUNDING
    assert AuditEntry.objects.get(action="funding.request.submitted").details["total"] == "820.00"


def test_a_missing_rate_stops_the_submission_with_nothing_changed(
    intake_team: Team, caseworkers: Team
) -> None:
    with pytest.raises(services.FundingRefusedError, match="No exchange rate from TZS"):
        submitted_request(intake_team, caseworkers, [("airfare", "TZS", "900000")])
    assert FundingRequest.objects.get().status == FundingRequest.Status.DRAFT


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [
        ("-5", "EUR", "more than zero"),
        ("0", "EUR", "more than zero"),
        ("5000000000", "EUR", "too large"),
        ("10", "EURO", "not a currency"),
    ],
)
def test_bad_amounts_are_refused(amount: str, currency: str, message: str) -> None:
    with pytest.raises(services.FundingRefusedError, match=message):
        services.check_amount(Decimal(amount), currency)


# --- The committee -----------------------------------------------------------------------------


def test_quorum_majority_and_recusal(
    intake_team: Team, caseworkers: Team, members: list[User], rubric: list[Criterion]
) -> None:
    request = submitted_request(intake_team, caseworkers, AIRFARE)
    fund = make_fund("General")
    deposit(fund, "5000")
    meeting = _meeting(members, request)
    item = _item(meeting, request)
    cleo, dara, emeka = members
    committee.declare_conflict(item, by=emeka)
    with pytest.raises(services.FundingRefusedError, match="conflict of interest"):
        committee.vote(item, "fund", by=emeka)
    with pytest.raises(services.FundingRefusedError, match="conflict of interest"):
        committee.score(item, {rubric[0]: 3}, by=emeka)
    _score_and_vote(item, [cleo, dara], rubric, "fund")
    # Two votes of the three needed: no quorum, nothing set aside.
    with pytest.raises(services.FundingRefusedError, match="No quorum: 2 of the 3"):
        committee.decide(item, Decision("fund"), by=cleo, key=_key(meeting, cleo))
    assert not Commitment.objects.exists()
    meeting.quorum = 2
    meeting.save()
    item.refresh_from_db()
    with pytest.raises(services.FundingRefusedError, match="majority"):
        committee.decide(item, Decision("defer"), by=cleo, key=_key(meeting, cleo))
    decided = committee.decide(
        item, Decision("fund", minutes="Urgent."), by=cleo, key=_key(meeting, cleo)
    )
    assert decided.outcome == "fund" and decided.granted == Decimal("820.00")
    entry = AuditEntry.objects.get(action="funding.item.decided")
    assert entry.details["votes"] == 2 and entry.details["recused"] == 1
    with pytest.raises(services.FundingRefusedError, match="decided already"):
        committee.vote(item, "decline", by=dara)


def test_funding_sets_money_aside_within_each_funds_restrictions(
    intake_team: Team, caseworkers: Team, members: list[User], rubric: list[Criterion]
) -> None:
    request = submitted_request(intake_team, caseworkers, AIRFARE)
    airfare_only = make_fund("Flights", currency="CAD", categories=["airfare"])
    kenya_only = make_fund("Kenya", countries=["KE"])
    general = make_fund("General")
    for fund in (airfare_only, kenya_only, general):
        deposit(fund, "2000")
    meeting = _meeting(members, request)
    item = _item(meeting, request)
    _score_and_vote(item, members, rubric, "fund")
    committee.decide(item, Decision("fund"), by=members[0], key=_key(meeting, members[0]))
    commitments = list(Commitment.objects.filter(request=request))
    assert {c.category for c in commitments} == {"airfare", "visa_fee"}
    for commitment in commitments:
        assert commitment.fund != kenya_only
        if commitment.fund == airfare_only:
            assert commitment.category == "airfare"
    assert sum(c.amount_reporting for c in commitments) == Decimal("820.00")
    assert Disbursement.objects.filter(request=request, status="approved").count() == len(
        commitments
    )
    assert Case.objects.get(pk=request.case_id).state == State.FUNDED
    assert (
        ledger.unbalanced_transactions()
        == ledger.drifted_accounts()
        == ledger.committed_mismatch()
        == []
    )


def test_another_fund_than_proposed_needs_a_reason_and_its_restrictions(
    intake_team: Team, caseworkers: Team, members: list[User], rubric: list[Criterion]
) -> None:
    request = submitted_request(intake_team, caseworkers, AIRFARE)
    general = make_fund("General")
    kenya_only = make_fund("Kenya", countries=["KE"])
    for fund in (general, kenya_only):
        deposit(fund, "2000")
    meeting = _meeting(members, request)
    item = _item(meeting, request)
    _score_and_vote(item, members, rubric, "fund")
    key = _key(meeting, members[0])
    with pytest.raises(services.FundingRefusedError, match="Say why"):
        committee.decide(item, Decision("fund", fund=str(general.pk)), by=members[0], key=key)
    with pytest.raises(services.FundingRefusedError, match="may not pay"):
        committee.decide(
            item,
            Decision("fund", fund=str(kenya_only.pk), override_reason="x"),
            by=members[0],
            key=key,
        )
    decided = committee.decide(
        item,
        Decision("fund", fund=str(general.pk), override_reason="Keep Flights for the surge."),
        by=members[0],
        key=key,
    )
    # Sealed under the meeting's keyring, like the minutes.
    assert b"Flights" not in bytes(decided.override_reason)
    assert decrypt_value(key, decided, "override_reason") == "Keep Flights for the surge."
    assert {c.fund for c in Commitment.objects.all()} == {general}


def test_funding_in_part_declining_and_deferring(
    intake_team: Team, caseworkers: Team, members: list[User], rubric: list[Criterion]
) -> None:
    first = submitted_request(intake_team, caseworkers, AIRFARE)
    second = submitted_request(intake_team, caseworkers, AIRFARE, name="Bo Li")
    third = submitted_request(intake_team, caseworkers, AIRFARE, name="Cy Ng")
    deposit(make_fund("General"), "5000")
    meeting = _meeting(members, first, second, third)
    key = _key(meeting, members[0])
    part = _item(meeting, first)
    _score_and_vote(part, members, rubric, "fund_partly")
    with pytest.raises(services.FundingRefusedError, match="some of the request's costs"):
        committee.decide(
            part,
            Decision("fund_partly", categories=["airfare", "visa_fee"]),
            by=members[0],
            key=key,
        )
    decided = committee.decide(
        part, Decision("fund_partly", categories=["visa_fee"]), by=members[0], key=key
    )
    assert decided.granted == Decimal("100.00")
    assert FundingRequest.objects.get(pk=first.pk).status == "funded_partly"
    declined = _item(meeting, second)
    _score_and_vote(declined, members, rubric, "decline")
    with pytest.raises(services.FundingRefusedError, match="reason"):
        committee.decide(declined, Decision("decline"), by=members[0], key=key)
    committee.decide(
        declined, Decision("decline", reason="outside_criteria"), by=members[0], key=key
    )
    deferred = _item(meeting, third)
    _score_and_vote(deferred, members, rubric, "defer")
    committee.decide(deferred, Decision("defer"), by=members[0], key=key)
    statuses = dict(FundingRequest.objects.values_list("pk", "status"))
    assert (statuses[second.pk], statuses[third.pk]) == ("declined", "deferred")


def test_a_reconsidered_decision_gives_its_money_back_first(
    intake_team: Team, caseworkers: Team, members: list[User], rubric: list[Criterion]
) -> None:
    request = submitted_request(intake_team, caseworkers, AIRFARE)
    fund = make_fund("General")
    deposit(fund, "1000")
    meeting = _meeting(members, request)
    item = _item(meeting, request)
    _score_and_vote(item, members, rubric, "fund")
    committee.decide(item, Decision("fund"), by=members[0], key=_key(meeting, members[0]))
    assert ledger.balances(fund)[ledger.Kind.COMMITTED] == Decimal("820.00")
    later = _meeting(members)
    again = committee.reconsider(item, later, by=members[0])
    _score_and_vote(again, members, rubric, "decline")
    committee.decide(
        again,
        Decision("decline", reason="funded_elsewhere"),
        by=members[0],
        key=_key(later, members[0]),
    )
    assert ledger.balances(fund)[ledger.Kind.COMMITTED] == 0
    assert ledger.balances(fund)[ledger.Kind.AVAILABLE] == Decimal("1000")
    assert set(Disbursement.objects.values_list("status", flat=True)) == {"cancelled"}


# --- Payments ----------------------------------------------------------------------------------


def test_a_payment_takes_two_finance_members_and_moves_the_money(
    intake_team: Team,
    caseworkers: Team,
    members: list[User],
    finance: list[User],
    rubric: list[Criterion],
) -> None:
    request, fund = _funded(
        intake_team, caseworkers, members, rubric, [("airfare", "EUR", "640")], "1000"
    )
    payment = Disbursement.objects.get()
    farid, gita = finance
    request_key = vault.open_keyring(request.keyring, keys_of(farid))
    payments.authorize(
        payment, channel="purchase", reference="PNR X7K2QL", version=1, by=farid, key=request_key
    )
    with pytest.raises(services.FundingRefusedError, match="different finance member"):
        payments.release(payment, version=2, by=farid)
    payments.release(payment, version=2, by=gita)
    assert ledger.balances(fund) == {
        "income": Decimal("-1000"),
        "available": Decimal("360.00"),
        "committed": Decimal("0"),
        "spent": Decimal("640.00"),
    }
    payment.refresh_from_db()
    assert b"X7K2QL" not in bytes(payment.reference)
    with pytest.raises(services.FundingRefusedError, match="Released"):
        payments.cancel(payment, version=None, by=gita)
    payments.confirm_received(payment, by=make_user(Role.CASEWORKER))
    # The database refuses one person in both roles, whatever writes the row.
    payment.refresh_from_db()
    with pytest.raises(IntegrityError), transaction.atomic():
        Disbursement.objects.filter(pk=payment.pk).update(released_by=farid)


def test_a_cancelled_payment_is_reissued_and_what_is_left_given_back(
    intake_team: Team,
    caseworkers: Team,
    members: list[User],
    finance: list[User],
    rubric: list[Criterion],
) -> None:
    _request, fund = _funded(
        intake_team, caseworkers, members, rubric, [("airfare", "EUR", "500")], "1000"
    )
    first = Disbursement.objects.get()
    payments.cancel(first, version=1, by=finance[0])
    again = payments.reissue(first, by=finance[0])
    with pytest.raises(services.FundingRefusedError, match="still waiting"):
        payments.give_back(first.commitment, by=finance[0])
    payments.cancel(again, version=1, by=finance[0])
    assert payments.give_back(first.commitment, by=finance[0]) == Decimal("500.00")
    assert ledger.balances(fund)[ledger.Kind.AVAILABLE] == Decimal("1000")
    assert (
        ledger.unbalanced_transactions()
        == ledger.drifted_accounts()
        == ledger.committed_mismatch()
        == []
    )


def test_a_fund_cannot_set_aside_more_than_it_has(
    intake_team: Team, caseworkers: Team, members: list[User], rubric: list[Criterion]
) -> None:
    request = submitted_request(intake_team, caseworkers, [("airfare", "EUR", "500")])
    small = make_fund("Small")
    deposit(small, "100")
    meeting = _meeting(members, request)
    item = _item(meeting, request)
    _score_and_vote(item, members, rubric, "fund")
    key = _key(meeting, members[0])
    with pytest.raises(services.FundingRefusedError, match="does not fund this request"):
        committee.decide(item, Decision("fund"), by=members[0], key=key)
    with pytest.raises(ledger.LedgerRefusedError, match="does not have that much"):
        committee.decide(
            item,
            Decision("fund", fund=str(small.pk), override_reason="try"),
            by=members[0],
            key=key,
        )
    assert not Commitment.objects.exists() and not Disbursement.objects.exists()
    services.allow_overdraft(
        small,
        Decimal("400"),
        reason="Donation pledged for next week",
        by=make_user(Role.COORDINATOR),
    )
    committee.decide(
        item,
        Decision("fund", fund=str(small.pk), override_reason="pledge"),
        by=members[0],
        key=key,
    )
    assert ledger.balances(small)[ledger.Kind.AVAILABLE] == Decimal("-400.00")

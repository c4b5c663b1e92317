"""The funding pages end to end through the test client: a caseworker's request with its
summary (refused while it names the person, keeping the text), the committee's meeting
from agenda to decision, two finance members paying, the caseworker confirming; and 404
for everyone else."""

from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from conftest import make_user, sign_in
from waystation.accounts.models import Role, Team, User
from waystation.audit.models import AuditEntry
from waystation.funding import ledger
from waystation.funding.models import (
    AgendaItem,
    Criterion,
    Disbursement,
    Fund,
    FundingRequest,
    Meeting,
)
from waystation.funding.reports import reconciliation
from waystation.verification.tests.conftest import member, unlocked

from .factories import deposit, make_fund, planned_case
from .test_committee import _score_and_vote

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rates")]


def _items(*rows: tuple[str, str, str]) -> dict[str, object]:
    data: dict[str, object] = {
        "item-TOTAL_FORMS": 3,
        "item-INITIAL_FORMS": 0,
        "item-MIN_NUM_FORMS": 0,
        "item-MAX_NUM_FORMS": 12,
    }
    for index, (category, currency, estimate) in enumerate(rows):
        data.update(
            {
                f"item-{index}-category": category,
                f"item-{index}-currency": currency,
                f"item-{index}-estimate": estimate,
            }
        )
    return data


def test_from_a_caseworkers_request_to_money_received(
    intake_team: Team,
    caseworkers: Team,
    members: list[User],
    finance: list[User],
    rubric: list[Criterion],
) -> None:
    case = planned_case(intake_team, caseworkers, name="Amani Okello", country="UG")
    fund = make_fund("General")
    deposit(fund, "3000")
    ana = unlocked(Client(), member(caseworkers))
    assert "Funding requests" in ana.get(f"/staff/cases/{case.pk}/").content.decode()
    opened = ana.post(f"/staff/funding/cases/{case.pk}/")
    assert opened.status_code == 302
    request = FundingRequest.objects.get(case=case)
    url = f"/staff/funding/requests/{request.pk}/"
    assert opened["Location"] == url
    bad = ana.post(f"{url}items/", _items(("airfare", "USD", "-3")))
    assert bad.status_code == 400
    assert (
        ana.post(
            f"{url}items/", _items(("airfare", "USD", "800"), ("visa_fee", "EUR", "90"))
        ).status_code
        == 302
    )
    named = ana.post(f"{url}summary/", {"summary": "Amani was attacked at home."})
    assert named.status_code == 400
    text = named.content.decode()
    assert "gives away who the person is" in text and "Amani was attacked at home." in text
    assert (
        ana.post(
            f"{url}summary/", {"summary": "Attacked at home twice; a partner vouches."}
        ).status_code
        == 302
    )
    assert ana.post(f"{url}submit/").status_code == 302
    request.refresh_from_db()
    assert (request.status, request.total) == ("submitted", Decimal("810.00"))

    chair = unlocked(Client(), members[0])
    created = chair.post(
        "/staff/funding/meetings/", {"held_on": timezone.localdate().isoformat(), "quorum": 3}
    )
    meeting = Meeting.objects.get()
    assert created["Location"] == f"/staff/funding/meetings/{meeting.pk}/"
    chair.post(f"/staff/funding/meetings/{meeting.pk}/agenda/", {"request": str(request.pk)})
    chair.post(f"/staff/funding/meetings/{meeting.pk}/status/", {"status": "open"})
    page = chair.get(f"/staff/funding/meetings/{meeting.pk}/").content.decode()
    assert "Attacked at home twice" in page and request.reference in page
    assert "Amani" not in page and case.reference not in page
    item = AgendaItem.objects.get()
    for person in members:
        client = unlocked(Client(), person) if person != members[0] else chair
        scored = client.post(
            f"/staff/funding/items/{item.pk}/scores/", {f"score-{c.pk}": "4" for c in rubric}
        )
        assert scored.status_code == 302
        assert (
            client.post(f"/staff/funding/items/{item.pk}/vote/", {"choice": "fund"}).status_code
            == 302
        )
    decided = chair.post(
        f"/staff/funding/items/{item.pk}/decision/", {"outcome": "fund", "minutes": "Agreed."}
    )
    assert decided.status_code == 302, decided.content.decode()[:2000]
    item.refresh_from_db()
    assert item.outcome == "fund" and item.granted == Decimal("810.00")
    assert ledger.balances(fund)[ledger.Kind.COMMITTED] == Decimal("810.00")

    farid, gita = (unlocked(Client(), person) for person in finance)
    for payment in Disbursement.objects.order_by("amount"):
        prefix = f"p-{payment.pk}"
        authorized = farid.post(
            f"/staff/funding/payments/{payment.pk}/authorize/",
            {
                f"{prefix}-channel": "purchase",
                f"{prefix}-reference": "PNR 7XK2",
                f"{prefix}-version": payment.version,
            },
        )
        assert authorized.status_code == 302
        refused = farid.post(f"/staff/funding/payments/{payment.pk}/release/", {"version": 2})
        assert refused.status_code == 400 and "different finance member" in refused.content.decode()
        assert (
            gita.post(f"/staff/funding/payments/{payment.pk}/release/", {"version": 2}).status_code
            == 302
        )
    assert ledger.balances(fund)[ledger.Kind.SPENT] == Decimal("810.00")
    payment = Disbursement.objects.first()
    assert payment is not None
    assert ana.post(f"/staff/funding/payments/{payment.pk}/received/").status_code == 302
    payment.refresh_from_db()
    assert payment.status == "received"
    assert AuditEntry.objects.filter(action="funding.payment.released").count() == 2


def test_a_decision_without_quorum_keeps_the_form(
    intake_team: Team, caseworkers: Team, members: list[User], rubric: list[Criterion]
) -> None:
    from .conftest import submitted_request

    request = submitted_request(intake_team, caseworkers, [("airfare", "EUR", "500")])
    deposit(make_fund("General"), "1000")
    chair = unlocked(Client(), members[0])
    chair.post(
        "/staff/funding/meetings/", {"held_on": timezone.localdate().isoformat(), "quorum": 3}
    )
    meeting = Meeting.objects.get()
    chair.post(f"/staff/funding/meetings/{meeting.pk}/agenda/", {"request": str(request.pk)})
    chair.post(f"/staff/funding/meetings/{meeting.pk}/status/", {"status": "open"})
    item = AgendaItem.objects.get()
    _score_and_vote(item, members[:1], rubric, "fund")
    sent = chair.post(
        f"/staff/funding/items/{item.pk}/decision/",
        {"outcome": "fund", "minutes": "KEEP-THESE-MINUTES"},
    )
    assert sent.status_code == 400
    text = sent.content.decode()
    assert "No quorum: 1 of the 3" in text and "KEEP-THESE-MINUTES" in text


def test_funds_rates_and_rubric_belong_to_finance_and_coordinators(
    members: list[User], finance: list[User]
) -> None:
    money = sign_in(Client(), finance[0])
    made = money.post(
        "/staff/funding/funds/",
        {
            "name": "Emergency",
            "source": "donations",
            "currency": "cad",
            "starts_on": "2026-01-01",
            "active": "on",
        },
    )
    assert made.status_code == 302
    fund = Fund.objects.get(name="Emergency")
    assert fund.currency == "CAD"
    # A deposit's note is not sealed (the ledger has no keyring): the form says so.
    assert (
        "This note is not sealed" in money.get(f"/staff/funding/funds/{fund.pk}/").content.decode()
    )
    bad = money.post(
        "/staff/funding/funds/",
        {"name": "X", "source": "donations", "currency": "ZZZ", "starts_on": "2026-01-01"},
    )
    assert bad.status_code == 400 and "ZZZ is not a currency code." in bad.content.decode()
    assert (
        money.post(f"/staff/funding/funds/{fund.pk}/deposits/", {"amount": "250"}).status_code
        == 302
    )
    assert (
        money.post(f"/staff/funding/funds/{fund.pk}/deposits/", {"amount": "-1"}).status_code == 400
    )
    assert (
        money.post(
            "/staff/funding/rates/", {"currency": "UGX", "on": "2026-02-01", "rate": "0.00026"}
        ).status_code
        == 302
    )
    coordinator = sign_in(Client(), make_user(Role.COORDINATOR))
    assert coordinator.get(f"/staff/funding/funds/{fund.pk}/").status_code == 200
    assert (
        coordinator.post(f"/staff/funding/funds/{fund.pk}/deposits/", {"amount": "5"}).status_code
        == 404
    )
    refused = coordinator.post(
        f"/staff/funding/funds/{fund.pk}/overdraft/", {"limit": "100", "reason": ""}
    )
    assert refused.status_code == 400 and "Say why" in refused.content.decode()
    assert (
        coordinator.post(
            f"/staff/funding/funds/{fund.pk}/overdraft/", {"limit": "100", "reason": "Pledge"}
        ).status_code
        == 302
    )
    rubric = coordinator.post(
        "/staff/funding/rubric/",
        {
            "criterion-TOTAL_FORMS": 1,
            "criterion-INITIAL_FORMS": 0,
            "criterion-MIN_NUM_FORMS": 0,
            "criterion-MAX_NUM_FORMS": 20,
            "criterion-0-name": "Vulnerability",
            "criterion-0-weight": "2",
            "criterion-0-scale": "5",
            "criterion-0-active": "on",
        },
    )
    assert rubric.status_code == 302 and Criterion.objects.filter(name="Vulnerability").exists()
    for person, url in (
        (members[0], "/staff/funding/funds/"),
        (members[0], "/staff/funding/payments/"),
        (finance[0], "/staff/funding/meetings/"),
    ):
        assert sign_in(Client(), person).get(url).status_code == 404


def test_outsiders_get_404(intake_team: Team, caseworkers: Team, members: list[User]) -> None:
    from .conftest import submitted_request

    request = submitted_request(intake_team, caseworkers, [("airfare", "EUR", "500")])
    for role in (Role.CASEWORKER, Role.INTAKE_VOLUNTEER, Role.COORDINATOR, Role.VERIFIER, None):
        client = sign_in(Client(), make_user(role))
        assert client.get(f"/staff/funding/requests/{request.pk}/").status_code == 404
        assert client.get(f"/staff/funding/cases/{request.case_id}/").status_code == 404
        assert client.get("/staff/funding/meetings/").status_code == 404


def test_the_request_page_reconciles_costs(
    intake_team: Team,
    caseworkers: Team,
    members: list[User],
    finance: list[User],
    rubric: list[Criterion],
) -> None:
    from waystation.funding import committee, payments
    from waystation.funding.models import LineItem
    from waystation.vault import services as vault

    from .conftest import keys_of, submitted_request
    from .test_committee import _key

    request = submitted_request(
        intake_team, caseworkers, [("airfare", "USD", "800"), ("visa_fee", "EUR", "90")]
    )
    deposit(make_fund("General"), "5000")
    meeting = committee.create_meeting(timezone.localdate(), quorum=3, by=members[0])
    committee.add_to_agenda(meeting, request, by=members[0])
    committee.set_meeting_status(meeting, Meeting.Status.OPEN, by=members[0])
    item = AgendaItem.objects.get()
    _score_and_vote(item, members, rubric, "fund")
    committee.decide(item, committee.Decision("fund"), by=members[0], key=_key(meeting, members[0]))
    airfare = Disbursement.objects.get(commitment__category="airfare")
    key = vault.open_keyring(request.keyring, keys_of(finance[0]))
    payments.authorize(airfare, channel="purchase", reference="", version=1, by=finance[0], key=key)
    payments.release(airfare, version=2, by=finance[1])
    visa = Disbursement.objects.get(commitment__category="visa_fee")
    payments.cancel(visa, version=1, by=finance[0])
    payments.give_back(visa.commitment, by=finance[0])
    payments.record_actual(LineItem.objects.get(category="airfare"), Decimal("760"), by=finance[0])
    ana = unlocked(Client(), member(caseworkers))
    page = ana.get(f"/staff/funding/requests/{request.pk}/").content.decode()
    assert "Reconciliation" in page
    rows = {row.category: row for row in reconciliation(request)}
    assert (rows["airfare"].estimate, rows["airfare"].granted, rows["airfare"].paid) == (
        Decimal("720.00"),
        Decimal("720.00"),
        Decimal("720.00"),
    )
    assert rows["airfare"].actual == Decimal("684.00")
    assert (rows["visa_fee"].paid, rows["visa_fee"].given_back, rows["visa_fee"].actual) == (
        Decimal("0"),
        Decimal("90.00"),
        None,
    )


def test_budgets_within_a_fund_and_reconsidering_from_the_page(
    intake_team: Team,
    caseworkers: Team,
    members: list[User],
    finance: list[User],
    rubric: list[Criterion],
) -> None:
    from waystation.funding import committee
    from waystation.funding.models import Envelope

    from .conftest import submitted_request
    from .test_committee import _key

    fund = make_fund("General")
    deposit(fund, "5000")
    money = sign_in(Client(), finance[0])
    bad = money.post(f"/staff/funding/funds/{fund.pk}/budgets/", {"name": "Asylum", "cap": "-5"})
    assert bad.status_code == 400 and not Envelope.objects.exists()
    made = money.post(
        f"/staff/funding/funds/{fund.pk}/budgets/",
        {"name": "Asylum", "cap": "300", "pathway": "inland_asylum"},
    )
    assert made.status_code == 302
    assert "Asylum" in money.get(f"/staff/funding/funds/{fund.pk}/").content.decode()
    # The budget caps what the fund gives to in-land asylum claims: 500 does not fit in 300.
    request = submitted_request(intake_team, caseworkers, [("airfare", "EUR", "500")])
    meeting = committee.create_meeting(timezone.localdate(), quorum=3, by=members[0])
    committee.add_to_agenda(meeting, request, by=members[0])
    committee.set_meeting_status(meeting, Meeting.Status.OPEN, by=members[0])
    item = AgendaItem.objects.get()
    _score_and_vote(item, members, rubric, "defer")
    assert committee.proposal(meeting).optimal.funded == []
    committee.decide(
        item, committee.Decision("defer"), by=members[0], key=_key(meeting, members[0])
    )
    later = committee.create_meeting(timezone.localdate(), quorum=3, by=members[0])
    chair = unlocked(Client(), members[0])
    assert (
        f'value="{later.pk}"'
        in chair.get(f"/staff/funding/meetings/{meeting.pk}/").content.decode()
    )
    again = chair.post(f"/staff/funding/items/{item.pk}/reconsider/", {"meeting": str(later.pk)})
    assert again["Location"] == f"/staff/funding/meetings/{later.pk}/"
    assert AgendaItem.objects.filter(meeting=later, reconsiders=item).exists()


def test_a_bad_actual_cost_keeps_what_was_typed(intake_team: Team, caseworkers: Team) -> None:
    from waystation.funding.models import LineItem

    from .conftest import submitted_request

    request = submitted_request(intake_team, caseworkers, [("airfare", "EUR", "500")])
    line = LineItem.objects.get(request=request)
    ana = unlocked(Client(), member(caseworkers))
    sent = ana.post(f"/staff/funding/costs/{line.pk}/actual/", {f"a-{line.pk}-actual": "-12.5"})
    assert sent.status_code == 400
    assert 'value="-12.5"' in sent.content.decode()
    line.refresh_from_db()
    assert line.actual is None
    done = ana.post(f"/staff/funding/costs/{line.pk}/actual/", {f"a-{line.pk}-actual": "480"})
    assert done.status_code == 302
    line.refresh_from_db()
    assert line.actual == Decimal("480.00")

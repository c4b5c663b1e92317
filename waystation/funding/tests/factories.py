"""Funds and money for tests, built through the services."""

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction

from waystation.funding import ledger
from waystation.funding.models import ExchangeRate, Fund


def make_fund(name: str = "General", currency: str = "EUR", **fields: Any) -> Fund:
    crises = fields.pop("crises", [])
    fund = Fund.objects.create(
        name=name,
        source=Fund.Source.DONATIONS,
        currency=currency,
        starts_on=date(2026, 1, 1),
        **fields,
    )
    if crises:
        fund.crises.set(crises)
    return fund


def deposit(fund: Fund, amount: str | Decimal, by: Any = None) -> None:
    with transaction.atomic():
        ledger.move(ledger.locked_fund(fund), ledger.Movement.DEPOSIT, Decimal(amount), by=by)


def rate(currency: str, value: str, on: date = date(2026, 1, 1)) -> ExchangeRate:
    return ExchangeRate.objects.create(currency=currency, on=on, rate=Decimal(value))


def team_of(role: str, *names: str) -> list[Any]:
    """A team of `role` whose members hold keys, and its team key."""
    from conftest import make_user
    from waystation.accounts.models import Membership, Team
    from waystation.vault import services as vault

    team = Team.objects.create(name=f"{role} team", role=role)
    people = []
    for name in names:
        person = make_user(None, keys=True, email=f"{name}@example.org")
        Membership.objects.create(team=team, user=person)
        people.append(person)
    vault.ensure_team_key(team)
    return people


def planned_case(
    intake_team: Any, caseworkers: Any, *, pathway: str = "inland_asylum", **answers: str
) -> Any:
    """A verified case of the caseworker team with a plan on `pathway`."""
    from waystation.cases.models import Case, State
    from waystation.planning.models import Plan
    from waystation.planning.tests.conftest import verified_case

    case = verified_case(intake_team, caseworkers, **answers)
    Plan.objects.create(case=case, keyring_id=case.keyring_id, pathway=pathway)
    Case.objects.filter(pk=case.pk).update(state=State.PLANNING)
    case.refresh_from_db()
    return case


def matrix_objects(case_own: Any, case_foreign: Any) -> dict[str, Any]:
    """What the funding rows of the permission matrix are about, built as rows (nothing
    sealed, no keys): a fund, a request with a cost on each case, a planned meeting with
    the own request on its agenda, a decision's commitment, its approved payment and a
    receipt of it (a stand-in file: opening it fails as a damaged one would), added by
    someone else than the user (so a caseworker may not remove it; finance may)."""
    import secrets

    from waystation.funding.models import (
        AgendaItem,
        Commitment,
        Disbursement,
        FundingRequest,
        LineItem,
        Meeting,
        Receipt,
    )
    from waystation.vault.models import EncryptedFile, Keyring

    fund = make_fund("Matrix fund")
    deposit(fund, "1000")
    found: dict[str, Any] = {"fund": fund}
    for variant, case in (("own", case_own), ("foreign", case_foreign)):
        request = FundingRequest.objects.create(
            reference=f"F-{secrets.token_hex(3)}",
            case=case,
            keyring=Keyring.objects.create(),
            country=case.country,
            pathway="inland_asylum",
            status=FundingRequest.Status.SUBMITTED,
            total=Decimal("100"),
        )
        found[f"request_{variant}"] = request
        found[f"line_{variant}"] = LineItem.objects.create(
            request=request, category="airfare", currency="EUR", estimate=Decimal("100")
        )
    meeting = Meeting.objects.create(
        held_on=date(2026, 1, 1), quorum=1, keyring=Keyring.objects.create()
    )
    item = AgendaItem.objects.create(
        meeting=meeting, request=found["request_own"], keyring_id=meeting.keyring_id
    )
    for variant in ("own", "foreign"):
        request = found[f"request_{variant}"]
        with transaction.atomic():
            ledger.move(
                ledger.locked_fund(fund), ledger.Movement.COMMITMENT, Decimal("100"), by=None
            )
        commitment = Commitment.objects.create(
            item=item,
            request=request,
            fund=fund,
            category="airfare",
            amount=Decimal("100"),
            amount_reporting=Decimal("100"),
            open_amount=Decimal("100"),
        )
        found[f"payment_{variant}"] = Disbursement.objects.create(
            commitment=commitment,
            request=request,
            keyring_id=request.keyring_id,
            amount=Decimal("100"),
        )
        found[f"receipt_{variant}"] = Receipt.objects.create(
            disbursement=found[f"payment_{variant}"],
            file=EncryptedFile.objects.create(
                keyring_id=request.keyring_id,
                storage_name=secrets.token_hex(16),
                sealed_meta=b"",
                stored_size=0,
            ),
            kind=Receipt.Kind.OTHER,
            uploaded_by=case_foreign.assigned_to,
        )
        found.setdefault("commitment", commitment)
    found.update(meeting=meeting, item=item, payment=found["payment_own"])
    return found

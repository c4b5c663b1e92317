"""The ledger: every movement balanced, balances where the rules allow them, nothing
half-written, nothing changed afterwards; as examples and as properties over any sequence
of movements."""

from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from waystation.audit.models import AppendOnlyError
from waystation.funding import ledger
from waystation.funding.models import Account, LedgerEntry, LedgerTransaction

from .factories import deposit, make_fund

Movement = ledger.Movement
Kind = Account.Kind


def _move(fund, kind: str, amount: str) -> None:  # type: ignore[no-untyped-def]
    with transaction.atomic():
        ledger.move(ledger.locked_fund(fund), kind, Decimal(amount), by=None)


@pytest.mark.django_db
def test_a_commitment_and_its_payment_move_money_between_accounts() -> None:
    fund = make_fund()
    deposit(fund, "1000")
    _move(fund, Movement.COMMITMENT, "640.50")
    _move(fund, Movement.PAYMENT, "600")
    _move(fund, Movement.UNCOMMITMENT, "40.50")
    assert ledger.balances(fund) == {
        Kind.INCOME: Decimal("-1000"),
        Kind.AVAILABLE: Decimal("400.00"),
        Kind.COMMITTED: Decimal("0"),
        Kind.SPENT: Decimal("600"),
    }
    assert ledger.unbalanced_transactions() == [] and ledger.drifted_accounts() == []
    assert LedgerTransaction.objects.count() == 4 and LedgerEntry.objects.count() == 8


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "amount", "message"),
    [
        (Movement.COMMITMENT, "100.01", "does not have that much available"),
        (Movement.PAYMENT, "1", "more than General has set aside"),
        (Movement.UNCOMMITMENT, "1", "more than General has set aside"),
        (Movement.WITHDRAWAL, "100.01", "does not have that much available"),
        (Movement.DEPOSIT, "0", "more than zero"),
        (Movement.DEPOSIT, "-5", "more than zero"),
    ],
)
def test_a_movement_against_the_rules_is_refused_and_writes_nothing(
    kind: str, amount: str, message: str
) -> None:
    fund = make_fund()
    deposit(fund, "100")
    before = LedgerEntry.objects.count()
    with pytest.raises(ledger.LedgerRefusedError, match=message):
        _move(fund, kind, amount)
    assert LedgerEntry.objects.count() == before


@pytest.mark.django_db
def test_an_overdraft_goes_only_as_far_as_allowed() -> None:
    fund = make_fund(overdraft_limit=Decimal("50"))
    deposit(fund, "100")
    _move(fund, Movement.COMMITMENT, "150")
    with pytest.raises(ledger.LedgerRefusedError, match="overdraft"):
        _move(fund, Movement.COMMITMENT, "0.01")
    assert ledger.balances(fund)[Kind.AVAILABLE] == Decimal("-50")


@pytest.mark.django_db
def test_amounts_are_rounded_to_the_funds_currency() -> None:
    yen = make_fund(name="Yen", currency="JPY")
    deposit(yen, "1000.5")
    assert ledger.balances(yen)[Kind.AVAILABLE] == Decimal("1001")


@pytest.mark.django_db
def test_ledger_records_are_never_changed_or_deleted() -> None:
    fund = make_fund()
    deposit(fund, "10")
    entry = LedgerEntry.objects.first()
    assert entry is not None
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.update(amount=Decimal("1"))
    with pytest.raises(AppendOnlyError):
        LedgerTransaction.objects.all().delete()


AMOUNTS = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2)
OPERATIONS = st.lists(st.tuples(st.sampled_from(list(ledger.MOVES)), AMOUNTS), max_size=25)


class LedgerProperties(TestCase):
    """Any sequence of movements, allowed or refused, keeps the books balanced and every
    balance where the rules allow it; a refused movement changes nothing."""

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        operations=OPERATIONS,
        overdraft=st.sampled_from([Decimal("0"), Decimal("250")]),
        currency=st.sampled_from(["EUR", "UGX", "BHD"]),
    )
    def test_any_sequence_keeps_the_books(
        self, operations: list[tuple[str, Decimal]], overdraft: Decimal, currency: str
    ) -> None:
        fund = make_fund(currency=currency, overdraft_limit=overdraft)
        for kind, amount in operations:
            before = ledger.balances(fund)
            try:
                _move(fund, kind, str(amount))
            except ledger.LedgerRefusedError:
                assert ledger.balances(fund) == before
            after = ledger.balances(fund)
            assert sum(after.values()) == 0
            assert after[Kind.AVAILABLE] >= -overdraft
            assert after[Kind.COMMITTED] >= 0
            assert after[Kind.SPENT] >= 0
            assert after[Kind.INCOME] <= 0
        assert ledger.unbalanced_transactions() == []
        assert ledger.drifted_accounts() == []
        # Every stored amount is in the fund's minor unit.
        for entry in LedgerEntry.objects.filter(account__fund=fund):
            assert entry.amount == entry.amount.quantize(
                Decimal(1).scaleb(-{"EUR": 2, "UGX": 0, "BHD": 3}[currency])
            )

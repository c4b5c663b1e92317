"""Money: rounding to each currency's minor unit, half away from zero, and conversion
through the reporting currency at the newest rate on or before the day."""

from datetime import date
from decimal import Decimal

import pytest

from waystation.funding.money import MissingRateError, is_currency, rates_on, round_to

from .factories import rate

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("10.005", "EUR", "10.01"),
        ("10.004", "EUR", "10.00"),
        ("-10.005", "EUR", "-10.01"),
        ("2500.5", "UGX", "2501"),
        ("1.2345", "BHD", "1.235"),
        ("99.5", "JPY", "100"),
    ],
)
def test_rounding_is_half_away_from_zero_to_the_minor_unit(
    amount: str, currency: str, expected: str
) -> None:
    assert round_to(Decimal(amount), currency) == Decimal(expected)


def test_conversion_uses_the_newest_rate_on_or_before_the_day(settings) -> None:  # type: ignore[no-untyped-def]
    settings.FUNDING_CURRENCY = "EUR"
    rate("UGX", "0.00025", on=date(2026, 1, 1))
    rate("UGX", "0.00024", on=date(2026, 3, 1))
    rate("CAD", "0.68", on=date(2026, 2, 1))
    rates = rates_on(date(2026, 2, 15))
    assert rates.to_reporting(Decimal("1000000"), "UGX") == Decimal("250.00")
    assert rates_on(date(2026, 3, 1)).to_reporting(Decimal("1000000"), "UGX") == Decimal("240.00")
    # Through the reporting currency: 1,000,000 UGX is 250.00 EUR, which is 367.65 CAD.
    assert rates.convert(Decimal("1000000"), "UGX", "CAD") == Decimal("367.65")
    assert rates.from_reporting(Decimal("100"), "UGX") == Decimal("400000")
    assert rates.to_reporting(Decimal("12.345"), "EUR") == Decimal("12.35")


def test_a_missing_rate_says_which(settings) -> None:  # type: ignore[no-untyped-def]
    settings.FUNDING_CURRENCY = "EUR"
    rate("KES", "0.007", on=date(2026, 5, 1))
    with pytest.raises(MissingRateError) as refused:
        rates_on(date(2026, 4, 30)).to_reporting(Decimal("10"), "KES")
    assert "No exchange rate from KES to EUR on or before" in refused.value.message


def test_only_real_currencies_are_money() -> None:
    assert is_currency("UGX") and is_currency("EUR") and is_currency("XOF")
    assert not is_currency("XXX") and not is_currency("XAU") and not is_currency("EURO")

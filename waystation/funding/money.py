"""Money as `Decimal` with its currency: rounding to a currency's minor unit and conversion
through the reporting currency (settings.FUNDING_CURRENCY) at dated exchange rates.

The rule, stated once: a converted amount is rounded half away from zero (0.005 → 0.01) to
the minor unit of the currency it is converted into, as CLDR gives it (2 digits for EUR and
USD, 0 for UGX and JPY, 3 for BHD). A conversion between two currencies that are not the
reporting currency goes through it: from A to the reporting currency at A's rate, then to
B at B's rate, each step rounded. Each uses the newest rate on or before the day asked.
"""

import functools
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import get_currency_precision, list_currencies
from django.conf import settings
from django.db.models import Max, Q
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from .models import ExchangeRate

# ISO 4217 codes for no currency, tests, metals and units of account: never money here.
NOT_MONEY = {"XXX", "XTS", "XAU", "XAG", "XPD", "XPT", "XDR", "XBA", "XBB", "XBC", "XBD"}
NOT_MONEY |= {"XSU", "XUA"}


class MissingRateError(Exception):
    """No exchange rate for a currency on or before a day; `message` says which."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def reporting_currency() -> str:
    return str(settings.FUNDING_CURRENCY)


@functools.cache
def currencies() -> frozenset[str]:
    """Every ISO 4217 code of a currency that is money (CLDR's list, less NOT_MONEY)."""
    return frozenset(code for code in list_currencies() if len(code) == 3 and code not in NOT_MONEY)


def is_currency(code: str) -> bool:
    return code in currencies()


def round_to(amount: Decimal, currency: str) -> Decimal:
    """`amount` rounded half away from zero to `currency`'s minor unit."""
    digits = get_currency_precision(currency)
    return amount.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Rates:
    """The rates in force on a day, read once for many conversions."""

    on: date
    # currency -> (rate to the reporting currency, the day it was set)
    known: dict[str, tuple[Decimal, date]]

    def to_reporting(self, amount: Decimal, currency: str) -> Decimal:
        """`amount` of `currency` in the reporting currency. Raises MissingRateError."""
        if currency == reporting_currency():
            return round_to(amount, currency)
        return round_to(amount * self._rate(currency), reporting_currency())

    def from_reporting(self, amount: Decimal, currency: str) -> Decimal:
        """`amount` of the reporting currency in `currency`. Raises MissingRateError."""
        if currency == reporting_currency():
            return round_to(amount, currency)
        return round_to(amount / self._rate(currency), currency)

    def convert(self, amount: Decimal, source: str, target: str) -> Decimal:
        """`amount` of `source` in `target`, through the reporting currency."""
        if source == target:
            return round_to(amount, target)
        return self.from_reporting(self.to_reporting(amount, source), target)

    def _rate(self, currency: str) -> Decimal:
        if currency not in self.known:
            raise MissingRateError(
                _(
                    "No exchange rate from %(currency)s to %(reporting)s on or before "
                    "%(date)s: enter one first."
                )
                % {
                    "currency": currency,
                    "reporting": reporting_currency(),
                    "date": date_format(self.on, "DATE_FORMAT"),
                }
            )
        return self.known[currency][0]


def rates_on(day: date, currencies: set[str] | None = None) -> Rates:
    """The newest rate of each currency (or of those named) on or before `day`: two queries,
    however long the history of rates."""
    rows = ExchangeRate.objects.filter(on__lte=day)
    if currencies is not None:
        rows = rows.filter(currency__in=currencies)
    newest = dict(
        rows.values("currency").annotate(newest=Max("on")).values_list("currency", "newest")
    )
    if not newest:
        return Rates(day, {})
    wanted = Q()
    for currency, on in newest.items():
        wanted |= Q(currency=currency, on=on)
    known = {
        currency: (rate, on)
        for currency, rate, on in ExchangeRate.objects.filter(wanted).values_list(
            "currency", "rate", "on"
        )
    }
    return Rates(day, known)

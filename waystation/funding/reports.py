"""Funding reports: what each fund holds, and what was paid and is still set aside by cost
category, by country and by crisis response, with their CSV exports. Reads only.

Figures come from the ledger's kept balances and from the entries of payments, summed here
in `Decimal`: SQLite sums decimals as floating point, so nothing is summed in the database.
Reporting-currency figures follow money.py's rule: a fund's balances and open commitments
at today's rates, each payment at the rates of the day it was released. An amount whose
currency has no rate is left out of the converted figures and counted, never guessed.
"""

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from waystation.planning.visa import country_names

from . import ledger
from .models import (
    Account,
    Category,
    Commitment,
    Disbursement,
    ExchangeRate,
    Fund,
    LedgerEntry,
)
from .money import MissingRateError, Rates, rates_on, reporting_currency, round_to

DIMENSIONS = ("category", "country", "crisis")
TABLES = ("balances", *DIMENSIONS)

# A text cell starting with one of these is a formula to a spreadsheet program (OWASP's
# list for CSV injection: = + - @, tab and carriage return).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Kind = Account.Kind


# --- Fund balances ------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """A fund's money in one currency. `income` is what it received (less what was taken
    back out); `available` may be below zero as far as the overdraft allows."""

    income: Decimal
    available: Decimal
    committed: Decimal
    spent: Decimal
    overdraft: Decimal


@dataclass(frozen=True)
class FundRow:
    """One fund's figures in its own currency and in the reporting currency; `reporting` is
    None when the fund's currency has no rate on or before the report's day."""

    fund_id: Any
    name: str
    active: bool
    currency: str
    own: Figures
    reporting: Figures | None

    @property
    def rate_missing(self) -> bool:
        return self.reporting is None


def fund_balances(today: date) -> list[FundRow]:
    """Every fund (active or not), by name, with its ledger balances and the same figures in
    the reporting currency at the rates of `today`. At most three queries whatever the
    number of funds: the funds, their accounts, the rates. Raises nothing for a missing
    rate: that fund's `reporting` is None."""
    funds = list(Fund.objects.order_by("name"))
    balances = ledger.balances_of(funds)
    rates = _rates_until({fund.currency for fund in funds}, today).on(today)
    rows = []
    for fund in funds:
        books = balances[fund.pk]
        # Stored with three decimals; every amount was rounded to the fund's minor unit
        # when written, so this only drops the trailing zeros of a two-decimal currency.
        own = Figures(
            # Income is credited on a deposit: its balance is what came in, negated (from
            # zero, so a fund that received nothing shows 0, not -0).
            income=round_to(Decimal(0) - books[Kind.INCOME], fund.currency),
            available=round_to(books[Kind.AVAILABLE], fund.currency),
            committed=round_to(books[Kind.COMMITTED], fund.currency),
            spent=round_to(books[Kind.SPENT], fund.currency),
            overdraft=round_to(fund.overdraft_limit, fund.currency),
        )
        rows.append(
            FundRow(
                fund_id=fund.pk,
                name=fund.name,
                active=fund.active,
                currency=fund.currency,
                own=own,
                reporting=_in_reporting(own, fund.currency, rates),
            )
        )
    return rows


def _in_reporting(own: Figures, currency: str, rates: Rates) -> Figures | None:
    try:
        return Figures(
            income=rates.to_reporting(own.income, currency),
            available=rates.to_reporting(own.available, currency),
            committed=rates.to_reporting(own.committed, currency),
            spent=rates.to_reporting(own.spent, currency),
            overdraft=rates.to_reporting(own.overdraft, currency),
        )
    except MissingRateError:
        return None


def balance_totals(rows: Iterable[FundRow]) -> Figures:
    """The reporting-currency figures of `rows` added up, funds without a rate left out."""
    converted = [row.reporting for row in rows if row.reporting is not None]
    return Figures(
        income=sum((f.income for f in converted), Decimal(0)),
        available=sum((f.available for f in converted), Decimal(0)),
        committed=sum((f.committed for f in converted), Decimal(0)),
        spent=sum((f.spent for f in converted), Decimal(0)),
        overdraft=sum((f.overdraft for f in converted), Decimal(0)),
    )


# --- Spend by category, country, crisis response ------------------------------------------


@dataclass
class SpendRow:
    """One category, country or crisis response: what was paid in the period and what is
    still set aside today, both in the reporting currency. `unconverted` counts payments and
    commitments left out of those amounts because their currency had no rate."""

    key: str
    label: str
    paid: Decimal = Decimal(0)
    payments: int = 0
    open: Decimal = Decimal(0)
    commitments: int = 0
    unconverted: int = 0


@dataclass
class _RatesByDay:
    """Per currency, its rates oldest first, and the `Rates` of each day asked, built once."""

    history: dict[str, list[tuple[date, Decimal]]]
    days: dict[date, Rates] = field(default_factory=dict)

    def on(self, day: date) -> Rates:
        """The rates `money.rates_on(day)` would give, without a query."""
        if day not in self.days:
            known: dict[str, tuple[Decimal, date]] = {}
            for currency, history in self.history.items():
                newest = bisect_right(history, day, key=lambda entry: entry[0])
                if newest:
                    on, rate = history[newest - 1]
                    known[currency] = (rate, on)
            self.days[day] = Rates(day, known)
        return self.days[day]


def _rates_until(currencies: set[str], until: date) -> _RatesByDay:
    # One query for every day of a report: `money.rates_on` per payment day would cost a
    # query per day paid on, so the report would slow down as payments spread out.
    history: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
    wanted = currencies - {reporting_currency()}
    if wanted:
        rows = ExchangeRate.objects.filter(currency__in=wanted, on__lte=until).order_by(
            "currency", "on"
        )
        for currency, on, rate in rows.values_list("currency", "on", "rate"):
            history[currency].append((on, rate))
    return _RatesByDay(dict(history))


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The period as aware datetimes in the site's time zone: from `start`'s midnight up to,
    not including, the midnight after `end`."""
    zone = timezone.get_current_timezone()
    return (
        timezone.make_aware(datetime.combine(start, time.min), zone),
        timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), zone),
    )


def _key(dimension: str, category: str, country: str | None, crisis_id: Any) -> str:
    if dimension == "category":
        return category or ""
    if dimension == "country":
        return country or ""
    return str(crisis_id) if crisis_id else ""


def _label(dimension: str, key: str, names: dict[str, str]) -> str:
    if dimension == "category":
        if key in Category.values:
            return str(Category(key).label)
        return key or _("No category")
    if dimension == "country":
        return names.get(key, key) if key else _("No country recorded")
    return names.get(key, "") if key else _("No crisis response")


def spend_by(
    dimension: str,
    start: date,
    end: date,
    *,
    today: date | None = None,
    language: str | None = None,
) -> list[SpendRow]:
    """Payments released from `start` to `end` (both days included, in the site's time
    zone) and commitments still open today, grouped by `dimension` ("category", "country"
    or "crisis"), in the reporting currency: each payment at the rates of its own day, open
    commitments at the rates of `today`. Largest amount paid first. Labels are in `language`
    (the active one by default). At most three queries whatever the number of payments. Raises
    ValueError for an unknown dimension or a period that ends before it starts."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"Unknown dimension {dimension!r}.")
    if end < start:
        raise ValueError("The period ends before it starts.")
    today = today or timezone.localdate()
    language = language or get_language() or settings.LANGUAGE_CODE
    since, until = _bounds(start, end)
    # A payment's amount is its debit on the fund's spent account: the transaction itself
    # carries no amount.
    payments = list(
        LedgerEntry.objects.filter(
            transaction__kind=ledger.Movement.PAYMENT,
            account__kind=Kind.SPENT,
            transaction__at__gte=since,
            transaction__at__lt=until,
        ).values_list(
            "amount",
            "transaction__at",
            "transaction__fund__currency",
            "transaction__category",
            "transaction__request__country",
            "transaction__request__crisis_id",
            "transaction__request__crisis__name",
        )
    )
    open_commitments = list(
        Commitment.objects.filter(open_amount__gt=0).values_list(
            "open_amount",
            "fund__currency",
            "category",
            "request__country",
            "request__crisis_id",
            "request__crisis__name",
        )
    )
    currencies = {row[2] for row in payments} | {row[1] for row in open_commitments}
    rates = _rates_until(currencies, max(end, today))
    names = _names(dimension, language, payments, open_commitments)

    rows: dict[str, SpendRow] = {}

    def row_for(key: str) -> SpendRow:
        if key not in rows:
            rows[key] = SpendRow(key=key, label=_label(dimension, key, names))
        return rows[key]

    for amount, at, currency, category, country, crisis_id, _name in payments:
        row = row_for(_key(dimension, category, country, crisis_id))
        row.payments += 1
        try:
            row.paid += rates.on(timezone.localdate(at)).to_reporting(amount, currency)
        except MissingRateError:
            row.unconverted += 1
    now_rates = rates.on(today)
    for amount, currency, category, country, crisis_id, _name in open_commitments:
        row = row_for(_key(dimension, category, country, crisis_id))
        row.commitments += 1
        try:
            row.open += now_rates.to_reporting(amount, currency)
        except MissingRateError:
            row.unconverted += 1
    return sorted(rows.values(), key=lambda r: (-r.paid, -r.open, r.label.casefold()))


def _names(
    dimension: str, language: str, payments: list[Any], open_commitments: list[Any]
) -> dict[str, str]:
    """Display names by key: country names in `language`, crisis responses' own names
    (already read with the payments, no further query)."""
    if dimension == "country":
        return dict(country_names(language))
    if dimension == "crisis":
        found = {str(p[5]): p[6] for p in payments if p[5]}
        found.update({str(c[4]): c[5] for c in open_commitments if c[4]})
        return found
    return {}


# --- CSV ----------------------------------------------------------------------------------


def safe_cell(value: object) -> str:
    """`value` as a CSV cell a spreadsheet program will not run as a formula.

    The rule: a number (`int` or a finite `Decimal`) is written as a plain number, a
    negative one included, so "-12.50" stays a number to add up. Anything else is text, and
    text whose first character, or first after leading white space, is `=`, `+`, `-`, `@`,
    a tab or a carriage return gets a leading apostrophe, which spreadsheet programs read as
    "this is text" (OWASP's advice on CSV injection). None is an empty cell; a date is
    written as YYYY-MM-DD. Raises nothing."""
    if value is None:
        return ""
    if isinstance(value, Decimal) and value.is_finite():
        return format(value, "f")
    # bool is an int to Python but a word here, so it takes the text path.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if text.startswith(FORMULA_STARTS) or text.lstrip().startswith(FORMULA_STARTS):
        return "'" + text
    return text


def csv_rows(
    table: str,
    *,
    start: date,
    end: date,
    today: date | None = None,
    language: str | None = None,
) -> list[list[str]]:
    """The rows of one report's CSV export, a header row first, every cell through
    `safe_cell`: "balances" (funds as of `today`) or "category", "country" and "crisis"
    (spend from `start` to `end`). Amounts are plain numbers, in the currency their column
    names. Raises ValueError for an unknown table or a period that ends before it starts."""
    today = today or timezone.localdate()
    reporting = reporting_currency()
    if table == "balances":
        raw = _balance_rows(fund_balances(today), reporting)
    elif table in DIMENSIONS:
        raw = _spend_rows(
            spend_by(table, start, end, today=today, language=language), table, reporting
        )
    else:
        raise ValueError(f"Unknown table {table!r}.")
    return [[safe_cell(cell) for cell in row] for row in raw]


def _yes_no(flag: bool) -> str:
    return _("yes") if flag else _("no")


def _balance_rows(funds: list[FundRow], reporting: str) -> list[list[object]]:
    in_reporting = {"currency": reporting}
    header: list[object] = [
        _("Fund"),
        _("Active"),
        _("Currency"),
        _("Income received"),
        _("Available"),
        _("Committed"),
        _("Spent"),
        _("Overdraft allowed"),
        _("Income received (%(currency)s)") % in_reporting,
        _("Available (%(currency)s)") % in_reporting,
        _("Committed (%(currency)s)") % in_reporting,
        _("Spent (%(currency)s)") % in_reporting,
        _("Overdraft allowed (%(currency)s)") % in_reporting,
        _("No exchange rate"),
    ]
    rows = [header]
    for fund in funds:
        own, converted = fund.own, fund.reporting
        rows.append(
            [
                fund.name,
                _yes_no(fund.active),
                fund.currency,
                own.income,
                own.available,
                own.committed,
                own.spent,
                own.overdraft,
                converted and converted.income,
                converted and converted.available,
                converted and converted.committed,
                converted and converted.spent,
                converted and converted.overdraft,
                _yes_no(fund.rate_missing),
            ]
        )
    return rows


def _spend_rows(spend: list[SpendRow], dimension: str, reporting: str) -> list[list[object]]:
    in_reporting = {"currency": reporting}
    what = {
        "category": _("Cost category"),
        "country": _("Country"),
        "crisis": _("Crisis response"),
    }[dimension]
    header: list[object] = [
        _("Code"),
        what,
        _("Paid (%(currency)s)") % in_reporting,
        _("Payments"),
        _("Still set aside (%(currency)s)") % in_reporting,
        _("Open commitments"),
        _("Left out: no exchange rate"),
    ]
    rows = [header]
    for row in spend:
        rows.append(
            [
                row.key,
                row.label,
                row.paid,
                row.payments,
                row.open,
                row.commitments,
                row.unconverted,
            ]
        )
    return rows


@dataclass(frozen=True)
class ReconciliationRow:
    """One cost category of a request, every figure in the reporting currency: what was
    estimated, granted, paid, given back, and what it actually came to (None until an
    actual cost is recorded for every line of the category)."""

    category: str
    label: str
    estimate: Decimal
    granted: Decimal
    paid: Decimal
    given_back: Decimal
    actual: Decimal | None


def reconciliation(request: Any) -> list[ReconciliationRow]:
    """The request's costs against its estimates: estimates and actuals converted at the
    rates the request was submitted at; grants, payments and what went back in the
    reporting amounts the decision fixed (a payment counts for its share of its
    commitment). Reads only."""
    rates = rates_on(request.rates_on or timezone.localdate())
    estimates: dict[str, Decimal] = defaultdict(Decimal)
    actuals: dict[str, Decimal | None] = {}
    for line in request.items.all():
        estimates[line.category] += rates.to_reporting(line.estimate, line.currency)
        if line.actual is None:
            actuals[line.category] = None
        elif actuals.get(line.category, Decimal(0)) is not None:
            actuals[line.category] = (
                actuals.get(line.category) or Decimal(0)
            ) + rates.to_reporting(line.actual, line.currency)
    granted: dict[str, Decimal] = defaultdict(Decimal)
    paid: dict[str, Decimal] = defaultdict(Decimal)
    back: dict[str, Decimal] = defaultdict(Decimal)
    paid_by_commitment: dict[Any, Decimal] = defaultdict(Decimal)
    for commitment_id, amount in Disbursement.objects.filter(
        request=request,
        status__in=[Disbursement.Status.RELEASED, Disbursement.Status.RECEIVED],
    ).values_list("commitment_id", "amount"):
        paid_by_commitment[commitment_id] += amount
    for commitment in Commitment.objects.filter(request=request):
        share = commitment.amount_reporting / commitment.amount
        granted[commitment.category] += commitment.amount_reporting
        paid[commitment.category] += round_to(
            share * paid_by_commitment[commitment.pk], reporting_currency()
        )
        back[commitment.category] += round_to(share * commitment.given_back, reporting_currency())
    return [
        ReconciliationRow(
            category=category,
            label=str(Category(category).label),
            estimate=estimates.get(category, Decimal(0)),
            granted=granted.get(category, Decimal(0)),
            paid=paid.get(category, Decimal(0)),
            given_back=back.get(category, Decimal(0)),
            actual=actuals.get(category),
        )
        for category in dict.fromkeys([*estimates, *granted])
    ]

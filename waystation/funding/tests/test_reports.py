"""Funding reports: fund balances and spend by category, country and crisis response, in
the reporting currency at the right day's rates; their page, charts and CSV exports."""

import csv
import io
import secrets
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import include, path
from django.utils import timezone

from config.urls import urlpatterns as site_urlpatterns
from conftest import make_user, same_cost, sign_in
from waystation.accounts.models import Role, User
from waystation.audit.models import AuditEntry
from waystation.cases.models import CrisisResponse
from waystation.cases.tests.factories import make_case
from waystation.funding import ledger, report_views, reports
from waystation.funding import urls as funding_urls
from waystation.funding.models import (
    AgendaItem,
    Category,
    Commitment,
    Fund,
    FundingRequest,
    LedgerTransaction,
    Meeting,
)
from waystation.vault.models import Keyring

from .factories import deposit, make_fund, rate

pytestmark = pytest.mark.django_db

# The report pages as funding's urls.py is to mount them, in the app's namespace with its
# other pages (which the staff menu links to), ahead of the site's own addresses: the first
# "funding" namespace is the one `{% url %}` reads.
urlpatterns = [
    path(
        "staff/funding/",
        include(
            (
                [
                    path("reports/", report_views.reports, name="reports"),
                    path("reports/csv/", report_views.report_csv, name="report_csv"),
                    *funding_urls.urlpatterns,
                ],
                "funding",
            )
        ),
    ),
    *site_urlpatterns,
]

PAGE = "/staff/funding/reports/"
CSV = "/staff/funding/reports/csv/"
TODAY = date(2026, 6, 1)
YEAR = (date(2026, 1, 1), date(2026, 12, 31))
Movement = ledger.Movement


@pytest.fixture(autouse=True)
def _report_urls_in_euros(settings: Any) -> None:
    settings.ROOT_URLCONF = __name__
    settings.FUNDING_CURRENCY = "EUR"


def _move(fund: Fund, kind: str, amount: str, **fields: Any) -> LedgerTransaction:
    with transaction.atomic():
        return ledger.move(ledger.locked_fund(fund), kind, Decimal(amount), by=None, **fields)


def _request(country: str = "UG", crisis: CrisisResponse | None = None) -> FundingRequest:
    return FundingRequest.objects.create(
        reference=secrets.token_hex(4).upper(),
        case=make_case(),
        keyring=Keyring.objects.create(),
        country=country,
        crisis=crisis,
    )


def _commit(fund: Fund, request: FundingRequest, category: str, amount: str) -> Commitment:
    """Money set aside for `request` the way a decision does: the ledger movement and its
    commitment."""
    _move(fund, Movement.COMMITMENT, amount, request=request, category=category)
    meeting = Meeting.objects.create(
        held_on=date(2026, 1, 5), quorum=1, keyring=Keyring.objects.create()
    )
    item = AgendaItem.objects.create(
        meeting=meeting, keyring=meeting.keyring, request=request, outcome="fund"
    )
    return Commitment.objects.create(
        item=item,
        request=request,
        fund=fund,
        category=category,
        amount=Decimal(amount),
        amount_reporting=Decimal(amount),
        open_amount=Decimal(amount),
    )


def _pay(commitment: Commitment, amount: str, on: date, at: time = time(12)) -> None:
    """A payment released from `commitment` on the day `on` at `at`, the site's time."""
    entry = _move(
        commitment.fund,
        Movement.PAYMENT,
        amount,
        request=commitment.request,
        category=commitment.category,
    )
    # The ledger's guard refuses changes through its own manager; a test moves the payment
    # to the day it is about, which a release can only do by happening then.
    when = timezone.make_aware(datetime.combine(on, at))
    LedgerTransaction._base_manager.filter(pk=entry.pk).update(at=when)
    commitment.open_amount -= Decimal(amount)
    commitment.save(update_fields=["open_amount"])


def _spend_fixture() -> dict[str, Any]:
    """A euro fund and a dollar fund whose rate changes on 1 March; payments on both sides
    of the change, one in 2025, and money still set aside."""
    rate("USD", "0.9", on=date(2026, 1, 1))
    rate("USD", "0.8", on=date(2026, 3, 1))
    euros, dollars = make_fund("Euros"), make_fund("Dollars", currency="USD")
    deposit(euros, "1000")
    deposit(dollars, "1000")
    floods = CrisisResponse.objects.create(name="Floods 2026", starts_on=date(2026, 1, 1))
    uganda, kenya = _request("UG", crisis=floods), _request("KE")
    flights = _commit(dollars, uganda, Category.AIRFARE, "300")
    _pay(flights, "100", date(2026, 2, 10))  # at 0.9: 90.00 EUR
    _pay(flights, "100", date(2026, 3, 5))  # at 0.8: 80.00 EUR
    visa = _commit(euros, kenya, Category.VISA_FEE, "60")
    _pay(visa, "50", date(2026, 4, 1))
    _pay(visa, "5", date(2025, 12, 31))  # before the period
    return {"floods": floods, "flights": flights, "visa": visa}


# --- Fund balances ------------------------------------------------------------------------


def test_fund_balances_per_fund_in_its_currency_and_in_the_reporting_currency() -> None:
    rate("USD", "0.9", on=date(2026, 1, 1))
    euros = make_fund("Euros", overdraft_limit=Decimal("100"))
    dollars = make_fund("Dollars", currency="USD", active=False)
    deposit(euros, "1000")
    deposit(dollars, "500")
    _move(euros, Movement.COMMITMENT, "300")
    _move(euros, Movement.PAYMENT, "200")
    _move(dollars, Movement.COMMITMENT, "100.55")

    rows = {row.name: row for row in reports.fund_balances(TODAY)}

    assert rows["Euros"].own == reports.Figures(
        income=Decimal("1000.00"),
        available=Decimal("700.00"),
        committed=Decimal("100.00"),
        spent=Decimal("200.00"),
        overdraft=Decimal("100.00"),
    )
    assert rows["Euros"].reporting == rows["Euros"].own
    assert not rows["Dollars"].active and rows["Dollars"].currency == "USD"
    assert rows["Dollars"].reporting == reports.Figures(
        income=Decimal("450.00"),
        available=Decimal("359.51"),  # 399.45 * 0.9 = 359.505, rounded half away from zero
        committed=Decimal("90.50"),  # 100.55 * 0.9 = 90.495
        spent=Decimal("0.00"),
        overdraft=Decimal("0.00"),
    )
    assert reports.balance_totals(rows.values()).income == Decimal("1450.00")


def test_a_fund_whose_currency_has_no_rate_is_flagged_not_an_error() -> None:
    shillings = make_fund("Shillings", currency="UGX")
    deposit(shillings, "2500000")
    deposit(make_fund("Euros"), "10")

    rows = {row.name: row for row in reports.fund_balances(TODAY)}

    assert rows["Shillings"].rate_missing and rows["Shillings"].reporting is None
    assert rows["Shillings"].own.income == Decimal("2500000")
    assert not rows["Euros"].rate_missing
    assert reports.balance_totals(rows.values()).income == Decimal("10.00")


def test_fund_balances_read_in_three_queries_whatever_the_number_of_funds(
    django_assert_num_queries: Any,
) -> None:
    rate("USD", "0.9")
    for number in range(10):
        fund = make_fund(f"Fund {number}", currency="USD" if number % 2 else "EUR")
        deposit(fund, "100")
    with django_assert_num_queries(3):
        assert len(reports.fund_balances(TODAY)) == 10


# --- Spend --------------------------------------------------------------------------------


def test_spend_by_category_converts_each_payment_at_the_rate_of_its_day() -> None:
    _spend_fixture()

    rows = reports.spend_by("category", *YEAR, today=TODAY, language="en")

    assert [(r.key, r.label, r.paid, r.payments) for r in rows] == [
        ("airfare", "Airfare", Decimal("170.00"), 2),
        ("visa_fee", "Visa fee", Decimal("50.00"), 1),
    ]
    # Still set aside today: 100 USD at today's 0.8, and 5 EUR.
    assert [(r.open, r.commitments) for r in rows] == [
        (Decimal("80.00"), 1),
        (Decimal("5.00"), 1),
    ]


def test_a_payment_counts_on_its_day_in_the_sites_time_zone(settings: Any) -> None:
    # 21:00 in New York on 28 February is already 1 March in UTC, when the rate changed.
    settings.TIME_ZONE = "America/New_York"
    rate("USD", "0.9", on=date(2026, 1, 1))
    rate("USD", "0.8", on=date(2026, 3, 1))
    dollars = make_fund("Dollars", currency="USD")
    deposit(dollars, "100")
    flights = _commit(dollars, _request(), Category.AIRFARE, "100")
    _pay(flights, "100", date(2026, 2, 28), at=time(21))

    [february] = reports.spend_by("category", date(2026, 2, 1), date(2026, 2, 28), today=TODAY)
    march = reports.spend_by("category", date(2026, 3, 1), date(2026, 3, 31), today=TODAY)

    assert (february.paid, february.payments) == (Decimal("90.00"), 1)
    assert march == []


def test_a_period_takes_only_its_own_payments() -> None:
    _spend_fixture()

    rows = reports.spend_by("category", date(2026, 3, 1), date(2026, 3, 31), today=TODAY)

    assert [(r.key, r.paid, r.payments) for r in rows] == [
        ("airfare", Decimal("80.00"), 1),
        ("visa_fee", Decimal("0"), 0),
    ]


def test_spend_by_country_names_countries_in_the_language_asked() -> None:
    _spend_fixture()

    english = reports.spend_by("country", *YEAR, today=TODAY, language="en")
    french = reports.spend_by("country", *YEAR, today=TODAY, language="fr")

    assert [(r.key, r.label, r.paid) for r in english] == [
        ("UG", "Uganda", Decimal("170.00")),
        ("KE", "Kenya", Decimal("50.00")),
    ]
    assert [r.label for r in french] == ["Ouganda", "Kenya"]


def test_spend_by_crisis_response_names_it_and_groups_the_rest() -> None:
    made = _spend_fixture()

    rows = reports.spend_by("crisis", *YEAR, today=TODAY, language="en")

    assert [(r.key, r.label, r.paid) for r in rows] == [
        (str(made["floods"].pk), "Floods 2026", Decimal("170.00")),
        ("", "No crisis response", Decimal("50.00")),
    ]


def test_a_payment_without_a_rate_on_its_day_is_counted_and_left_out() -> None:
    # The shilling's first rate comes after the payment: it cannot be converted.
    rate("UGX", "0.00025", on=date(2026, 5, 1))
    shillings = make_fund("Shillings", currency="UGX")
    deposit(shillings, "1000000")
    stipend = _commit(shillings, _request("UG"), Category.STIPEND, "400000")
    _pay(stipend, "100000", date(2026, 2, 1))
    _pay(stipend, "100000", date(2026, 5, 2))

    [row] = reports.spend_by("category", *YEAR, today=TODAY)

    assert row.payments == 2 and row.unconverted == 1
    assert row.paid == Decimal("25.00")
    assert row.open == Decimal("50.00")


def test_an_unknown_dimension_or_a_reversed_period_is_refused() -> None:
    with pytest.raises(ValueError, match="dimension"):
        reports.spend_by("fund", *YEAR)
    with pytest.raises(ValueError, match="ends before"):
        reports.spend_by("country", date(2026, 2, 1), date(2026, 1, 1))


def test_spend_reads_in_constant_queries_whatever_the_number_of_payments(
    django_assert_max_num_queries: Any,
) -> None:
    _spend_fixture()
    with django_assert_max_num_queries(10) as few:
        reports.spend_by("crisis", *YEAR, today=TODAY)
    dollars = Fund.objects.get(name="Dollars")
    for day in range(1, 11):
        crisis = CrisisResponse.objects.create(name=f"Crisis {day}", starts_on=date(2026, 1, 1))
        commitment = _commit(dollars, _request("KE", crisis=crisis), Category.STIPEND, "10")
        _pay(commitment, "5", date(2026, 4, day))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(reports.spend_by("crisis", *YEAR, today=TODAY)) == 12


# --- CSV cells ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (
            '=HYPERLINK("http://evil.example","Click")',
            '\'=HYPERLINK("http://evil.example","Click")',
        ),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("  =1+1", "'  =1+1"),
        (Decimal("-12.50"), "-12.50"),
        (-3, "-3"),
        (Decimal("1E+3"), "1000"),
        (Decimal("-Infinity"), "'-Infinity"),
        ("Airfare", "Airfare"),
        ("Floods - 2026", "Floods - 2026"),
        (None, ""),
        (date(2026, 3, 1), "2026-03-01"),
    ],
)
def test_safe_cell_keeps_formulas_out_and_numbers_in(value: object, cell: str) -> None:
    assert reports.safe_cell(value) == cell


def test_csv_rows_have_a_header_and_protected_cells() -> None:
    made = _spend_fixture()
    CrisisResponse.objects.filter(pk=made["floods"].pk).update(name="=cmd|' /C calc'!A0")

    rows = reports.csv_rows("crisis", start=YEAR[0], end=YEAR[1], today=TODAY, language="en")

    assert rows[0][:3] == ["Code", "Crisis response", "Paid (EUR)"]
    assert rows[1][1:4] == ["'=cmd|' /C calc'!A0", "170.00", "2"]
    with pytest.raises(ValueError, match="table"):
        reports.csv_rows("people", start=YEAR[0], end=YEAR[1])


# --- Pages --------------------------------------------------------------------------------


def _client(role: str) -> tuple[Client, User]:
    user = make_user(role)
    return sign_in(Client(), user), user


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.FINANCE, 200),
        (Role.COORDINATOR, 200),
        (Role.CASEWORKER, 404),
        (Role.COMMITTEE_MEMBER, 404),
        (Role.INTAKE_VOLUNTEER, 404),
        (None, 404),
    ],
)
def test_reports_are_for_finance_and_coordinators(role: str | None, status: int) -> None:
    client, _user = _client(role)  # type: ignore[arg-type]

    assert client.get(PAGE).status_code == status
    assert client.get(CSV, {"table": "country"}).status_code == status


def test_the_page_shows_each_report_for_the_current_year_by_default() -> None:
    _spend_fixture()
    client, _user = _client(Role.FINANCE)

    page = client.get(PAGE).content.decode()

    year = timezone.localdate().year
    assert f'value="{year}-01-01"' in page
    assert f'value="{timezone.localdate().isoformat()}"' in page
    for title in ("Fund balances", "Spend by cost category", "Spend by country", "Crisis"):
        assert title in page
    assert "?table=balances&amp;" in page


def test_the_page_draws_charts_without_inline_styles_or_scripts() -> None:
    _spend_fixture()
    client, _user = _client(Role.COORDINATOR)

    response = client.get(PAGE, {"from": "2026-01-01", "to": "2026-12-31"})

    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("<svg") == 3
    assert 'aria-label="Spend by country: chart of the largest amounts"' in page
    assert "<title>Spend by country: chart of the largest amounts</title>" in page
    assert "style=" not in page and "<script" not in page
    # The larger bar of each chart spans the whole bar space; the other is to scale.
    assert f'width="{report_views.CHART_BAR_SPACE:.1f}"' in page
    assert "Uganda" in page and "€170.00" in page


def test_right_to_left_charts_grow_from_the_right() -> None:
    _spend_fixture()
    client, _user = _client(Role.FINANCE)
    client.cookies["lang"] = "ar"

    page = client.get(PAGE, {"from": "2026-01-01", "to": "2026-12-31"}).content.decode()

    assert 'direction="rtl"' in page
    start = report_views.CHART_WIDTH - report_views.CHART_BAR_SPACE
    assert f'x="{start:.1f}" y="46" width="{report_views.CHART_BAR_SPACE:.1f}"' in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"from": "2026-13-45", "to": "2026-12-31"}, "Enter a date as year-month-day"),
        ({"from": "1st of May", "to": "2026-12-31"}, "Enter a date as year-month-day"),
        ({"from": "2026-05-01", "to": "2026-04-01"}, "The last day comes before the first day."),
        ({"from": "0999-05-01", "to": "2026-04-01"}, "Give a date between the years"),
    ],
)
def test_a_bad_period_is_400_with_the_typed_values_kept(
    query: dict[str, str], message: str
) -> None:
    client, _user = _client(Role.FINANCE)

    response = client.get(PAGE, query)

    page = response.content.decode()
    assert response.status_code == 400
    assert message in page
    assert f'value="{query["from"]}"' in page
    assert client.get(CSV, {"table": "country", **query}).status_code == 400


def test_the_page_costs_the_same_for_2_or_12_funds(django_assert_max_num_queries: Any) -> None:
    rate("USD", "0.9")
    floods = CrisisResponse.objects.create(name="Floods", starts_on=date(2026, 1, 1))
    client, _user = _client(Role.FINANCE)
    made = [0]

    def add_funds(count: int) -> None:
        for _ in range(count):
            number = made[0] = made[0] + 1
            fund = make_fund(f"Fund {number}", currency="USD" if number % 2 else "EUR")
            deposit(fund, "1000")
            request = _request("UG" if number % 3 else "KE", crisis=floods if number % 2 else None)
            commitment = _commit(fund, request, Category.values[number % 8], "100")
            _pay(commitment, "40", date(2026, 1 + number % 5, number))

    page = same_cost(
        client, f"{PAGE}?from=2026-01-01&to=2026-12-31", add_funds, django_assert_max_num_queries
    )

    assert page.count("Fund 12") == 2


# --- CSV export ---------------------------------------------------------------------------


def test_the_csv_export_is_a_protected_utf8_file_with_an_audit_entry() -> None:
    made = _spend_fixture()
    CrisisResponse.objects.filter(pk=made["floods"].pk).update(name='=HYPERLINK("x","y")')
    client, user = _client(Role.FINANCE)

    response = client.get(CSV, {"table": "crisis", "from": "2026-01-01", "to": "2026-12-31"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="funding-spend-by-crisis-response-2026-01-01-2026-12-31.csv"'
    )
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][1] == "Crisis response"
    assert rows[1][1:3] == ['\'=HYPERLINK("x","y")', "170.00"]
    entry = AuditEntry.objects.get(action="funding.report.exported")
    assert entry.actor_id == user.pk and entry.details == {"table": "crisis"}


def test_the_balances_export_is_named_for_today() -> None:
    deposit(make_fund("Euros"), "250")
    client, _user = _client(Role.COORDINATOR)

    response = client.get(CSV, {"table": "balances"})

    today = timezone.localdate().isoformat()
    assert f'filename="funding-fund-balances-{today}.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[1][:4] == ["Euros", "yes", "EUR", "250.00"]


def test_an_unknown_table_is_404_and_not_audited() -> None:
    client, _user = _client(Role.FINANCE)

    assert client.get(CSV, {"table": "people"}).status_code == 404
    assert client.get(CSV).status_code == 404
    assert not AuditEntry.objects.filter(action="funding.report.exported").exists()

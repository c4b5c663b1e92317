"""Staff pages of the funding reports, for finance and coordinators: fund balances and spend
by cost category, by country and by crisis response over a period, as tables with a bar
chart drawn here as inline SVG, and each table as a CSV file."""

import csv
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency
from django import forms
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language, get_language_bidi, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from waystation.accounts.access import role_required, staff_user
from waystation.accounts.models import Role
from waystation.audit.services import log_action

from . import reports as funding_reports
from .money import reporting_currency

TEMPLATE = "funding/reports.html"
SPEND_TITLES = {
    "category": gettext_lazy("Spend by cost category"),
    "country": gettext_lazy("Spend by country"),
    "crisis": gettext_lazy("Spend by crisis response"),
}
COLUMN_TITLES = {
    "category": gettext_lazy("Cost category"),
    "country": gettext_lazy("Country"),
    "crisis": gettext_lazy("Crisis response"),
}
FILE_NAMES = {
    "category": "spend-by-category",
    "country": "spend-by-country",
    "crisis": "spend-by-crisis-response",
}
# Dates a person could mean in a funding report; outside them a date is a typing error
# (and year 9999 would overflow the day after the period ends).
FIRST_YEAR, LAST_YEAR = 1900, 2999

# The chart's geometry in SVG user units; the SVG scales to the page's width.
CHART_WIDTH = 640
CHART_BAR_SPACE = 440  # the longest bar; the rest of the line holds its figure
CHART_LEGEND = 28
CHART_ROW = 52
CHART_ROWS = 12  # the largest ones; the table below lists them all
PAID_FILL = "#1f5fa8"
OPEN_FILL = "#9dbbe0"


class PeriodForm(forms.Form):
    """The period of the spend reports, read from the query string (`from`, `to`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Declared here: `from` is a Python keyword, so it cannot be a class attribute, and
        # the query string keeps the plain words people see in the address.
        for name, label in (("from", _("From")), ("to", _("To"))):
            self.fields[name] = forms.DateField(
                label=label,
                input_formats=["%Y-%m-%d"],
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                error_messages={
                    "invalid": _("Enter a date as year-month-day, for example 2026-03-31.")
                },
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in ("from", "to"):
            day = cleaned.get(name)
            if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
                self.add_error(
                    name,
                    _("Give a date between the years %(first)s and %(last)s.")
                    % {"first": FIRST_YEAR, "last": LAST_YEAR},
                )
        start, end = cleaned.get("from"), cleaned.get("to")
        if start and end and end < start and not self.has_error("to"):
            self.add_error("to", _("The last day comes before the first day."))
        return cleaned


def _period_form(query: QueryDict, today: date) -> PeriodForm:
    """The period asked for; a missing date is the current calendar year's first day or
    today, and a date typed wrong is kept as typed to be corrected."""
    return PeriodForm(
        {
            "from": query.get("from") or date(today.year, 1, 1).isoformat(),
            "to": query.get("to") or today.isoformat(),
        }
    )


def _locale() -> str:
    code = (get_language() or settings.LANGUAGE_CODE).replace("-", "_")
    try:
        Locale.parse(code)
    except (UnknownLocaleError, ValueError):
        return "en"
    return code


def _money(amount: Decimal | None, currency: str, locale: str) -> str:
    return "—" if amount is None else str(format_currency(amount, currency, locale=locale))


def _figures(figures: funding_reports.Figures | None, currency: str, locale: str) -> dict[str, str]:
    if figures is None:
        return {}
    return {
        name: _money(getattr(figures, name), currency, locale)
        for name in ("income", "available", "committed", "spent", "overdraft")
    }


def _chart(
    dimension: str, rows: list[funding_reports.SpendRow], currency: str, locale: str
) -> dict[str, Any]:
    """A horizontal bar chart of the largest rows, paid and still set aside, sized here in
    SVG attributes: the content security policy forbids inline styles and scripts. Every
    number is a string, so the template's localization never writes a decimal comma."""
    shown = rows[:CHART_ROWS]
    largest = max([row.paid for row in shown] + [row.open for row in shown] + [Decimal(0)])
    rtl = get_language_bidi()

    def x_of(x: float, width: float = 0) -> str:
        # Right to left, the bars grow from the right edge.
        return f"{CHART_WIDTH - x - width if rtl else x:.1f}"

    def bar(amount: Decimal, y: int, fill: str) -> dict[str, str]:
        length = float(amount / largest) * CHART_BAR_SPACE if largest > 0 else 0.0
        if amount > 0:
            # A payment too small to see against the largest still shows as a sliver.
            length = max(length, 1.0)
        return {
            "x": x_of(0, length),
            "y": str(y),
            "width": f"{length:.1f}",
            "fill": fill,
            "value": _money(amount, currency, locale),
            "value_x": x_of(length + 6),
            "value_y": str(y + 10),
        }

    lines = []
    for index, row in enumerate(shown):
        top = CHART_LEGEND + index * CHART_ROW
        lines.append(
            {
                "label": row.label,
                "label_x": x_of(0),
                "label_y": str(top + 13),
                "bars": [bar(row.paid, top + 18, PAID_FILL), bar(row.open, top + 33, OPEN_FILL)],
            }
        )
    return {
        "id": f"chart-{dimension}",
        "title": _("%(report)s: chart of the largest amounts")
        % {"report": SPEND_TITLES[dimension]},
        "width": str(CHART_WIDTH),
        "height": str(CHART_LEGEND + len(lines) * CHART_ROW + 4),
        "direction": "rtl" if rtl else "ltr",
        "legend": [
            {"x": x_of(0, 12), "text_x": x_of(18), "fill": PAID_FILL, "text": _("Paid")},
            {
                "x": x_of(200, 12),
                "text_x": x_of(218),
                "fill": OPEN_FILL,
                "text": _("Still set aside"),
            },
        ],
        "lines": lines,
        "shown": len(shown),
        "more": len(rows) > len(shown),
    }


def _spend_section(
    dimension: str, start: date, end: date, today: date, currency: str, locale: str
) -> dict[str, Any]:
    rows = funding_reports.spend_by(dimension, start, end, today=today)
    return {
        "dimension": dimension,
        "title": SPEND_TITLES[dimension],
        "what": COLUMN_TITLES[dimension],
        "rows": [
            {
                "label": row.label,
                "paid": _money(row.paid, currency, locale),
                "payments": row.payments,
                "open": _money(row.open, currency, locale),
                "commitments": row.commitments,
                "unconverted": row.unconverted,
            }
            for row in rows
        ],
        "total_paid": _money(sum((row.paid for row in rows), Decimal(0)), currency, locale),
        "total_payments": sum(row.payments for row in rows),
        "total_open": _money(sum((row.open for row in rows), Decimal(0)), currency, locale),
        "total_commitments": sum(row.commitments for row in rows),
        "unconverted": sum(row.unconverted for row in rows),
        "chart": _chart(dimension, rows, currency, locale) if rows else None,
        "csv_query": urlencode({"table": dimension, "from": start, "to": end}),
    }


@role_required(Role.FINANCE, Role.COORDINATOR)
@require_http_methods(["GET"])
def reports(request: HttpRequest) -> HttpResponse:
    """Fund balances today, and spend by category, country and crisis response over the
    period asked for (this calendar year so far by default); 400 for a period typed wrong."""
    staff_user(request)
    today = timezone.localdate()
    form = _period_form(request.GET, today)
    if not form.is_valid():
        return render(request, TEMPLATE, {"form": form}, status=400)
    start, end = form.cleaned_data["from"], form.cleaned_data["to"]
    currency, locale = reporting_currency(), _locale()
    funds = funding_reports.fund_balances(today)
    return render(
        request,
        TEMPLATE,
        {
            "form": form,
            "start": start,
            "end": end,
            "today": today,
            "currency": currency,
            "funds": [
                {
                    "name": row.name,
                    "active": row.active,
                    "currency": row.currency,
                    "own": _figures(row.own, row.currency, locale),
                    "reporting": _figures(row.reporting, currency, locale),
                    "rate_missing": row.rate_missing,
                }
                for row in funds
            ],
            "fund_totals": _figures(funding_reports.balance_totals(funds), currency, locale),
            "rates_missing": any(row.rate_missing for row in funds),
            "balances_query": urlencode({"table": "balances", "from": start, "to": end}),
            "sections": [
                _spend_section(dimension, start, end, today, currency, locale)
                for dimension in funding_reports.DIMENSIONS
            ],
        },
    )


@role_required(Role.FINANCE, Role.COORDINATOR)
@require_http_methods(["GET"])
def report_csv(request: HttpRequest) -> HttpResponse:
    """One report as a CSV file (UTF-8 with a byte order mark, which spreadsheet programs
    need to read it as UTF-8), audited with the table's code. An unknown table is 404."""
    user = staff_user(request)
    table = request.GET.get("table", "")
    if table not in funding_reports.TABLES:
        raise Http404
    today = timezone.localdate()
    form = _period_form(request.GET, today)
    if not form.is_valid():
        problems = [str(error) for errors in form.errors.values() for error in errors]
        return HttpResponseBadRequest("\n".join(problems), content_type="text/plain; charset=utf-8")
    start, end = form.cleaned_data["from"], form.cleaned_data["to"]
    rows = funding_reports.csv_rows(table, start=start, end=end, today=today)
    if table == "balances":
        name = f"funding-fund-balances-{today.isoformat()}.csv"
    else:
        name = f"funding-{FILE_NAMES[table]}-{start.isoformat()}-{end.isoformat()}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response.write("\ufeff")
    csv.writer(response).writerows(rows)
    log_action(user, "funding.report.exported", None, details={"table": table})
    return response

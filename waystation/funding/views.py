"""Staff pages for money: funds and their ledgers (finance keeps them; coordinators read
them and allow overdrafts), exchange rates, and the committee's scoring rubric."""

import uuid

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from waystation.accounts.access import coordinator_required, role_required, staff_user
from waystation.accounts.models import Role

from . import ledger, services
from .access import FINANCE_ROLES, FUND_READERS, get_fund_for_user
from .forms import CriterionFormSet, DepositForm, EnvelopeForm, FundForm, OverdraftForm, RateForm
from .models import Criterion, Envelope, ExchangeRate, Fund, LedgerTransaction
from .money import reporting_currency


@role_required(*FUND_READERS)
@require_http_methods(["GET", "POST"])
def funds(request: HttpRequest) -> HttpResponse:
    """Every fund with its balances; finance adds one."""
    user = staff_user(request)
    form = FundForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not user.has_role(*FINANCE_ROLES):
            raise Http404
        if form.is_valid():
            fund = form.apply()
            try:
                services.save_fund(fund, crises=list(form.cleaned_data["crises"]), by=user)
            except services.FundingRefusedError as refused:
                form.add_error(None, refused.message)
            else:
                messages.success(request, _("The fund is saved."))
                return redirect("funding:fund", pk=fund.pk)
    rows = list(Fund.objects.order_by("name"))
    balances = ledger.balances_of(rows)
    return render(
        request,
        "funding/fund_list.html",
        {
            "rows": [(fund, balances[fund.pk]) for fund in rows],
            "form": form,
            "writes": user.has_role(*FINANCE_ROLES),
        },
        status=400 if form.errors else 200,
    )


def _fund_page(
    request: HttpRequest, fund: Fund, *, status: int = 200, **forms: object
) -> HttpResponse:
    user = staff_user(request)
    return render(
        request,
        "funding/fund_detail.html",
        {
            "fund": fund,
            "balances": ledger.balances(fund),
            "movements": LedgerTransaction.objects.filter(fund=fund)
            .select_related("request", "by")
            .order_by("-at", "-pk")[:100],
            "form": forms.get("form") or FundForm(instance=fund),
            "deposit_form": forms.get("deposit") or DepositForm(),
            "envelope_form": forms.get("envelope") or EnvelopeForm(),
            "envelopes": fund.envelopes.select_related("crisis").order_by("name"),
            "overdraft_form": forms.get("overdraft")
            or OverdraftForm(
                initial={"limit": fund.overdraft_limit, "reason": fund.overdraft_reason}
            ),
            "writes": user.has_role(*FINANCE_ROLES),
            "coordinates": user.has_role(Role.COORDINATOR),
        },
        status=status,
    )


@role_required(*FUND_READERS)
@require_http_methods(["GET", "POST"])
def fund(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """A fund, its balances and movements; finance changes it."""
    user = staff_user(request)
    if request.method == "GET":
        return _fund_page(request, get_fund_for_user(user, pk))
    item = get_fund_for_user(user, pk, write=True)
    form = FundForm(request.POST, instance=item)
    if form.is_valid():
        try:
            services.save_fund(form.apply(), crises=list(form.cleaned_data["crises"]), by=user)
        except services.FundingRefusedError as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("The fund is saved."))
            return redirect("funding:fund", pk=item.pk)
    item.refresh_from_db()
    return _fund_page(request, item, status=400, form=form)


@role_required(*FINANCE_ROLES)
@require_POST
def fund_deposit(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    item = get_fund_for_user(user, pk, write=True)
    form = DepositForm(request.POST)
    if form.is_valid():
        try:
            services.deposit(
                item, form.cleaned_data["amount"], memo=form.cleaned_data["memo"], by=user
            )
        except services.FundingRefusedError as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("The money is recorded."))
            return redirect("funding:fund", pk=item.pk)
    return _fund_page(request, item, status=400, deposit=form)


@role_required(*FINANCE_ROLES)
@require_POST
def fund_envelope(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """A budget within the fund for a programme (a pathway) or a crisis response."""
    user = staff_user(request)
    item = get_fund_for_user(user, pk, write=True)
    form = EnvelopeForm(request.POST, instance=Envelope(fund=item))
    if form.is_valid():
        services.save_envelope(form.save(commit=False), by=user)
        messages.success(request, _("The budget is saved."))
        return redirect("funding:fund", pk=item.pk)
    return _fund_page(request, item, status=400, envelope=form)


@coordinator_required
@require_POST
def fund_overdraft(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    item = get_fund_for_user(user, pk)
    form = OverdraftForm(request.POST)
    if form.is_valid():
        try:
            services.allow_overdraft(
                item, form.cleaned_data["limit"], reason=form.cleaned_data["reason"], by=user
            )
        except services.FundingRefusedError as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("The overdraft is recorded."))
            return redirect("funding:fund", pk=item.pk)
    return _fund_page(request, item, status=400, overdraft=form)


@role_required(*FUND_READERS)
@require_http_methods(["GET", "POST"])
def rates(request: HttpRequest) -> HttpResponse:
    """The exchange rates entered, newest first; finance enters one."""
    user = staff_user(request)
    form = RateForm(
        request.POST if request.method == "POST" else None,
        initial={"on": timezone.localdate()},
    )
    if request.method == "POST":
        if not user.has_role(*FINANCE_ROLES):
            raise Http404
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.set_rate(
                    data["currency"], data["on"], data["rate"], source=data["source"], by=user
                )
            except services.FundingRefusedError as refused:
                form.add_error(None, refused.message)
            else:
                messages.success(request, _("The rate is saved."))
                return redirect("funding:rates")
    return render(
        request,
        "funding/rate_list.html",
        {
            "form": form,
            "rows": ExchangeRate.objects.order_by("-on", "currency")[:200],
            "reporting": reporting_currency(),
            "writes": user.has_role(*FINANCE_ROLES),
        },
        status=400 if form.errors else 200,
    )


@coordinator_required
@require_http_methods(["GET", "POST"])
def criteria(request: HttpRequest) -> HttpResponse:
    """The committee's scoring rubric: criteria, weights and scales."""
    formset = CriterionFormSet(
        request.POST if request.method == "POST" else None,
        queryset=Criterion.objects.all(),
        prefix="criterion",
    )
    if request.method == "POST" and formset.is_valid():
        services.save_rubric(formset, by=staff_user(request))
        messages.success(request, _("The rubric is saved."))
        return redirect("funding:criteria")
    return render(
        request,
        "funding/criteria.html",
        {"formset": formset},
        status=400 if request.method == "POST" else 200,
    )

"""A case's funding requests, for its caseworkers: open one, list the costs, write the
pseudonymized summary for the committee, submit or withdraw it; see its payments and their
receipts, confirm a payment received and record what costs actually came to."""

import uuid
from typing import Any

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from waystation.accounts.access import role_required, staff_user
from waystation.cases.workflow import TransitionRefusedError
from waystation.vault import crypto
from waystation.vault.access import NotUnlockedError, keyring_key
from waystation.vault.fields import decrypt_value
from waystation.vault.services import KeysUnavailableError

from . import payments, services
from .access import (
    CASEWORK_ROLES,
    get_case_for_funding,
    get_line_item_for_user,
    get_payment_for_caseworker,
    get_request_for_caseworker,
)
from .forms import ActualForm, ItemFormSet, SummaryForm
from .models import Disbursement, FundingRequest, LineItem, Receipt
from .money import MissingRateError, reporting_currency
from .receipts import receipt_rows
from .reports import ReconciliationRow, reconciliation

UNLOCK = gettext_lazy("Unlock your keys first: this is sealed.")


def _open(request: HttpRequest, keyring: Any) -> bytes | None:
    try:
        return keyring_key(request, keyring)
    except (NotUnlockedError, KeysUnavailableError):
        return None


@role_required(*CASEWORK_ROLES)
@require_http_methods(["GET", "POST"])
def case_requests(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """The case's funding requests; a POST opens a new draft."""
    user = staff_user(request)
    case = get_case_for_funding(user, pk)
    error = ""
    if request.method == "POST":
        try:
            made = services.create_request(case, by=user)
        except TransitionRefusedError as refused:
            error = refused.message
        else:
            messages.success(request, _("A draft request is open: list the costs."))
            return redirect("funding:request", pk=made.pk)
    return render(
        request,
        "funding/case_requests.html",
        {
            "case": case,
            "requests": FundingRequest.objects.filter(case=case).order_by("-created_at"),
            "error": error,
        },
        status=400 if error else 200,
    )


def _page(
    request: HttpRequest, item: FundingRequest, *, status: int = 200, **forms: Any
) -> HttpResponse:
    key = _open(request, item.keyring)
    summary = ""
    if key is not None and item.summary is not None:
        try:
            summary = str(decrypt_value(key, item, "summary") or "")
        except crypto.DecryptionError:
            summary = ""
    lines = list(item.items.all())
    failed_actual = forms.get("actual")
    return render(
        request,
        "funding/request_detail.html",
        {
            "item": item,
            "case": item.case,
            "lines": lines,
            "locked": key is None,
            "reporting": reporting_currency(),
            "items_formset": forms.get("items")
            or ItemFormSet(
                prefix="item",
                initial=[
                    {"category": li.category, "currency": li.currency, "estimate": li.estimate}
                    for li in lines
                ],
            ),
            "summary_form": forms.get("summary")
            or SummaryForm(initial={"summary": summary, "version": item.version}),
            "payments": [
                (payment, receipt_rows(payment.receipts.all(), key))
                for payment in Disbursement.objects.filter(request=item)
                .select_related("commitment", "commitment__fund")
                .prefetch_related(
                    Prefetch("receipts", Receipt.objects.select_related("file", "uploaded_by"))
                )
                .order_by("created_at")
            ],
            "actual_forms": [
                (
                    li,
                    failed_actual[1]
                    if failed_actual and failed_actual[0] == li.pk
                    else ActualForm(prefix=f"a-{li.pk}", initial={"actual": li.actual}),
                )
                for li in lines
            ],
            "error": forms.get("error", ""),
            "reconciliation": _reconciliation(item),
        },
        status=status,
    )


def _reconciliation(item: FundingRequest) -> list[ReconciliationRow]:
    if item.status == FundingRequest.Status.DRAFT:
        return []
    try:
        return reconciliation(item)
    except MissingRateError:
        return []


@role_required(*CASEWORK_ROLES)
@require_http_methods(["GET"])
def request_detail(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    return _page(request, get_request_for_caseworker(staff_user(request), pk))


@role_required(*CASEWORK_ROLES)
@require_POST
def request_items(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    item = get_request_for_caseworker(user, pk)
    formset = ItemFormSet(request.POST, prefix="item")
    if formset.is_valid():
        values = [
            services.ItemValues(d["category"], d["currency"], d["estimate"])
            for d in formset.cleaned_data
            if d.get("category")
        ]
        try:
            services.set_items(item, values, expected_version=None, by=user)
        except TransitionRefusedError as refused:
            return _page(request, item, status=400, items=formset, error=refused.message)
        messages.success(request, _("The costs are saved."))
        return redirect("funding:request", pk=item.pk)
    return _page(request, item, status=400, items=formset)


@role_required(*CASEWORK_ROLES)
@require_POST
def request_summary(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    item = get_request_for_caseworker(user, pk)
    form = SummaryForm(request.POST)
    case_key, request_key = _open(request, item.case.keyring), _open(request, item.keyring)
    if form.is_valid() and (case_key is None or request_key is None):
        form.add_error(None, UNLOCK)
    if form.is_valid() and case_key is not None and request_key is not None:
        try:
            services.write_summary(
                item,
                form.cleaned_data["summary"],
                expected_version=form.cleaned_data.get("version"),
                by=user,
                case_key=case_key,
                request_key=request_key,
            )
        except TransitionRefusedError as refused:
            form.add_error("summary", refused.message)
        else:
            messages.success(request, _("The summary is saved."))
            return redirect("funding:request", pk=item.pk)
    return _page(request, item, status=400, summary=form)


@role_required(*CASEWORK_ROLES)
@require_POST
def request_submit(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    item = get_request_for_caseworker(user, pk)
    try:
        services.submit_request(item, expected_version=None, by=user)
    except TransitionRefusedError as refused:
        item.refresh_from_db()
        return _page(request, item, status=400, error=refused.message)
    messages.success(request, _("The request is with the committee."))
    return redirect("funding:request", pk=item.pk)


@role_required(*CASEWORK_ROLES)
@require_POST
def request_withdraw(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    item = get_request_for_caseworker(user, pk)
    try:
        services.withdraw_request(item, by=user)
    except TransitionRefusedError as refused:
        return _page(request, item, status=400, error=refused.message)
    messages.success(request, _("The request is withdrawn."))
    return redirect("funding:request", pk=item.pk)


@role_required(*CASEWORK_ROLES)
@require_POST
def payment_received(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    payment = get_payment_for_caseworker(user, pk)
    try:
        payments.confirm_received(payment, by=user)
    except TransitionRefusedError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Recorded as received."))
    return redirect("funding:request", pk=payment.request_id)


@role_required(*CASEWORK_ROLES)
@require_POST
def line_actual(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    line: LineItem = get_line_item_for_user(user, pk)
    form = ActualForm(request.POST, prefix=f"a-{line.pk}")
    if form.is_valid():
        try:
            payments.record_actual(line, form.cleaned_data["actual"], by=user)
        except TransitionRefusedError as refused:
            form.add_error("actual", refused.message)
    if not form.is_valid():
        return _page(request, line.request, status=400, actual=(line.pk, form))
    messages.success(request, _("The actual cost is recorded."))
    return redirect("funding:request", pk=line.request_id)

"""Finance's payments: the decisions' approved payments to authorize, those authorized to
release (by someone else), cancellation, reissue, the payments made (to add their
receipts), and what is left of a commitment given back to its fund."""

import uuid
from collections.abc import Callable

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from waystation.accounts.access import role_required, staff_user
from waystation.cases.workflow import TransitionRefusedError
from waystation.vault.access import NotUnlockedError, keyring_key
from waystation.vault.services import KeysUnavailableError

from . import payments
from .access import FINANCE_ROLES, get_commitment_for_finance, get_payment_for_finance
from .forms import AuthorizeForm
from .models import Commitment, Disbursement

WAITING = (
    Disbursement.Status.APPROVED,
    Disbursement.Status.AUTHORIZED,
    Disbursement.Status.CANCELLED,
)
PAID = (Disbursement.Status.RELEASED, Disbursement.Status.RECEIVED)


def _page(
    request: HttpRequest,
    *,
    status: int = 200,
    failed: tuple[object, AuthorizeForm] | None = None,
    error: str = "",
) -> HttpResponse:
    rows = list(
        Disbursement.objects.filter(status__in=WAITING)
        .exclude(status=Disbursement.Status.CANCELLED, reissued_as__isnull=False)
        .select_related("commitment", "commitment__fund", "request", "authorized_by")
        .order_by("created_at")[:200]
    )
    forms = {
        row.pk: failed[1]
        if failed and failed[0] == row.pk
        else AuthorizeForm(prefix=f"p-{row.pk}", initial={"version": row.version})
        for row in rows
    }
    open_commitments = (
        Commitment.objects.filter(open_amount__gt=0)
        .exclude(
            disbursements__status__in=[Disbursement.Status.APPROVED, Disbursement.Status.AUTHORIZED]
        )
        .select_related("fund", "request")
        .order_by("created_at")[:200]
    )
    paid = (
        Disbursement.objects.filter(status__in=PAID)
        .select_related("commitment", "commitment__fund", "request")
        .annotate(receipt_count=Count("receipts"))
        .order_by("-released_at")[:200]
    )
    return render(
        request,
        "funding/payment_list.html",
        {
            "rows": [(row, forms[row.pk]) for row in rows],
            "paid": paid,
            "commitments": open_commitments,
            "user_id": staff_user(request).pk,
            "error": error,
        },
        status=status,
    )


@role_required(*FINANCE_ROLES)
@require_http_methods(["GET"])
def payment_list(request: HttpRequest) -> HttpResponse:
    return _page(request)


@role_required(*FINANCE_ROLES)
@require_POST
def payment_authorize(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    payment = get_payment_for_finance(user, pk)
    form = AuthorizeForm(request.POST, prefix=f"p-{payment.pk}")
    try:
        key = keyring_key(request, payment.keyring)
    except (NotUnlockedError, KeysUnavailableError):
        key = None
    if form.is_valid() and key is None:
        form.add_error(None, _("Unlock your keys first: the reference is sealed."))
    if form.is_valid() and key is not None:
        try:
            payments.authorize(
                payment,
                channel=form.cleaned_data["channel"],
                reference=form.cleaned_data["reference"],
                version=form.cleaned_data["version"],
                by=user,
                key=key,
            )
        except TransitionRefusedError as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("Authorized: a different finance member releases it."))
            return redirect("funding:payments")
    return _page(request, status=400, failed=(payment.pk, form))


def _version(request: HttpRequest) -> int | None:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return None


def _done(request: HttpRequest, act: Callable[[], object], success: str) -> HttpResponse:
    """Run one payment action: back to the list with `success`, or the list with the
    refusal's message (400)."""
    try:
        act()
    except TransitionRefusedError as refused:
        return _page(request, status=400, error=refused.message)
    messages.success(request, success)
    return redirect("funding:payments")


@role_required(*FINANCE_ROLES)
@require_POST
def payment_release(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    payment = get_payment_for_finance(user, pk)
    return _done(
        request,
        lambda: payments.release(payment, version=_version(request), by=user),
        _("Released: the money has left the fund."),
    )


@role_required(*FINANCE_ROLES)
@require_POST
def payment_cancel(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    payment = get_payment_for_finance(user, pk)
    return _done(
        request,
        lambda: payments.cancel(payment, version=_version(request), by=user),
        _("Cancelled: its money stays set aside until it is reissued or given back."),
    )


@role_required(*FINANCE_ROLES)
@require_POST
def payment_reissue(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    payment = get_payment_for_finance(user, pk)
    return _done(
        request,
        lambda: payments.reissue(payment, by=user),
        _("Reissued: the new payment waits for authorization."),
    )


@role_required(*FINANCE_ROLES)
@require_POST
def commitment_give_back(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    commitment = get_commitment_for_finance(user, pk)
    return _done(
        request,
        lambda: payments.give_back(commitment, by=user),
        _("What was left is back in the fund."),
    )

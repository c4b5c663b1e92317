"""A payment's page and its receipts, for finance and the caseworkers of its case: the
receipts listed (their formats and sizes with keys that open the request), one added, one
downloaded, one removed."""

import dataclasses
import uuid

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from waystation.accounts.access import role_required, staff_user
from waystation.audit.services import log_action
from waystation.intake import derivatives
from waystation.vault.access import NotUnlockedError, UnreadableError, keyring_key
from waystation.vault.services import KeysUnavailableError
from waystation.vault.uploads import EncryptingUploadHandler, csrf_protect

from . import payments
from .access import FINANCE_ROLES, PAYMENT_READERS, get_payment_for_user, get_receipt_for_user
from .forms import ReceiptForm, ReceiptRemovalForm
from .models import Disbursement, Receipt
from .receipts import attachment_response, open_receipt, receipt_rows


def _key(request: HttpRequest, payment: Disbursement) -> tuple[bytes | None, str]:
    """The payment's keyring key, or None and why not ("locked", "no_keys")."""
    try:
        return keyring_key(request, payment.keyring), ""
    except NotUnlockedError:
        return None, "locked"
    except KeysUnavailableError:
        return None, "no_keys"


def _page(
    request: HttpRequest,
    payment: Disbursement,
    *,
    status: int = 200,
    form: ReceiptForm | None = None,
    removal: tuple[uuid.UUID, ReceiptRemovalForm] | None = None,
) -> HttpResponse:
    """The payment's page; `removal` is a refused removal form and the receipt it was for."""
    user = staff_user(request)
    key, why_not = _key(request, payment)
    receipts = Receipt.objects.filter(disbursement=payment).select_related("file", "uploaded_by")
    rows = []
    for row in receipt_rows(receipts, key):
        if payments.receipt_removable(user, row.receipt, payment.status):
            removal_form = ReceiptRemovalForm(prefix=f"r-{row.receipt.pk}")
            if removal is not None and removal[0] == row.receipt.pk:
                removal_form = removal[1]
            row = dataclasses.replace(row, removal=removal_form)
        rows.append(row)
    return render(
        request,
        "funding/payment_detail.html",
        {
            "payment": payment,
            "why_not": why_not,
            "receipts": rows,
            "removal_errors": removal[1].non_field_errors() if removal else [],
            "form": form or ReceiptForm(),
            "may_attach": payment.status in payments.receipt_states(user),
            "finance": user.has_role(*FINANCE_ROLES),
            "max_mb": settings.EVIDENCE_MAX_BYTES // (1024 * 1024),
            "max_pages": derivatives.MAX_PDF_PAGES,
        },
        status=status,
    )


@role_required(*PAYMENT_READERS)
@require_http_methods(["GET"])
def payment_detail(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    return _page(request, get_payment_for_user(staff_user(request), pk))


# The upload is encrypted as it arrives (vault.uploads): the handler goes in before anything
# reads the body, so the CSRF check comes after it, in _receive_receipt.
@csrf_exempt
@role_required(*PAYMENT_READERS)
@require_POST
def receipt_add(request: HttpRequest, pk: uuid.UUID) -> HttpResponseBase:
    payment = get_payment_for_user(staff_user(request), pk)
    key, _why_not = _key(request, payment)
    handler = None
    if key is None:
        # Nothing can be sealed without the key: no handler, so the file is read and dropped.
        request.upload_handlers = []
    else:
        handler = EncryptingUploadHandler(
            payment.keyring, key, max_bytes=settings.EVIDENCE_MAX_BYTES
        )
        request.upload_handlers = [handler]
    return _receive_receipt(request, payment, handler, key)


@csrf_protect
def _receive_receipt(
    request: HttpRequest,
    payment: Disbursement,
    handler: EncryptingUploadHandler | None,
    key: bytes | None,
) -> HttpResponse:
    form = ReceiptForm(request.POST, request.FILES)
    if handler is None or key is None:
        form.refuse(_("Unlock your keys first: the receipt is sealed."), field=None)
        return _page(request, payment, status=400, form=form)
    if handler.too_large:
        form.refuse(
            _("This file is too large. Add files of at most %(mb)d MB.")
            % {"mb": settings.EVIDENCE_MAX_BYTES // (1024 * 1024)}
        )
        return _page(request, payment, status=413, form=form)
    if not form.is_valid():
        return _page(request, payment, status=400, form=form)
    try:
        payments.attach_receipt(
            payment,
            form.cleaned_data["file"].encrypted_file,
            kind=form.cleaned_data["kind"],
            by=staff_user(request),
            key=key,
        )
    except payments.ReceiptFileRefusedError as refused:
        form.refuse(refused.message)
        return _page(request, payment, status=400, form=form)
    except payments.FundingRefusedError as refused:
        form.refuse(refused.message, field=None)
        payment.refresh_from_db()
        return _page(request, payment, status=400, form=form)
    messages.success(request, _("The receipt is kept with the payment, sealed."))
    return redirect("funding:payment", pk=payment.pk)


@role_required(*PAYMENT_READERS)
@require_http_methods(["GET"])
def receipt_download(request: HttpRequest, pk: uuid.UUID) -> HttpResponseBase:
    """A receipt as a file to save; each download is audited."""
    user = staff_user(request)
    receipt = get_receipt_for_user(user, pk)
    payment = receipt.disbursement
    key, why_not = _key(request, payment)
    if key is not None:
        try:
            opened = open_receipt(receipt, key)
        except UnreadableError:
            why_not = "damaged"
        else:
            log_action(
                user, "funding.receipt.downloaded", receipt, details={"payment": str(payment.pk)}
            )
            return attachment_response(receipt, opened)
    return render(
        request, "funding/receipt_unavailable.html", {"payment": payment, "why_not": why_not}
    )


@role_required(*PAYMENT_READERS)
@require_POST
def receipt_remove(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """Remove a receipt added by mistake, with a reason from the list (audited)."""
    user = staff_user(request)
    receipt = get_receipt_for_user(user, pk)
    payment = receipt.disbursement
    form = ReceiptRemovalForm(request.POST, prefix=f"r-{receipt.pk}")
    if form.is_valid():
        try:
            payments.remove_receipt(receipt, reason=form.cleaned_data["reason"], by=user)
        except payments.FundingRefusedError as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("The receipt is removed and its file deleted."))
            return redirect("funding:payment", pk=payment.pk)
    payment.refresh_from_db()
    return _page(request, payment, status=400, removal=(receipt.pk, form))

"""Every write of payments: a decision's approved payments authorized by one finance member
and released by another (segregation of duties, in the service and as a database
constraint), confirmed received by a caseworker, cancelled and reissued; receipts kept for
it (a clean copy of each, never the upload) and removed when added by mistake; and what is
left of a commitment given back to its fund, with actual costs recorded for reconciliation.

A release moves the money from committed to spent in the ledger, under the fund's row lock.
References and receipt files are sealed under the request's keyring and must not name the
person.
"""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from waystation.accounts.models import Role, User
from waystation.audit.services import log_action
from waystation.intake import derivatives
from waystation.intake.services import sniff_type
from waystation.vault import files
from waystation.vault.models import EncryptedFile

from . import ledger
from .models import Commitment, Disbursement, LineItem, Receipt
from .money import round_to
from .services import FundingRefusedError, check_amount

PayStatus = Disbursement.Status


def _locked(
    disbursement: Disbursement, *, version: int | None, status: tuple[str, ...]
) -> Disbursement:
    current = Disbursement.objects.select_for_update().get(pk=disbursement.pk)
    if version is not None and current.version != version:
        raise FundingRefusedError(
            _("Someone else changed this while you were working on it. Look again.")
        )
    if current.status not in status:
        raise FundingRefusedError(
            _("This payment is %(status)s: that cannot be done now.")
            % {"status": PayStatus(current.status).label}
        )
    return current


def authorize(
    disbursement: Disbursement,
    *,
    channel: str,
    reference: str,
    version: int | None,
    by: User,
    key: bytes,
) -> Disbursement:
    """Finance authorizes an approved payment through a channel, with a sealed reference."""
    if channel not in Disbursement.Channel.values:
        raise FundingRefusedError(_("Choose how the money is sent."))
    with transaction.atomic():
        current = _locked(disbursement, version=version, status=(PayStatus.APPROVED,))
        current.channel = channel
        current.seal(key, reference=reference.strip())
        current.status = PayStatus.AUTHORIZED
        current.authorized_by = by
        current.authorized_at = timezone.now()
        current.version += 1
        current.save()
        log_action(by, "funding.payment.authorized", current, details={"channel": channel})
    return current


def release(disbursement: Disbursement, *, version: int | None, by: User) -> Disbursement:
    """A second finance member releases an authorized payment: the money leaves the fund
    (committed → spent). Refused for whoever authorized it."""
    with transaction.atomic():
        current = _locked(disbursement, version=version, status=(PayStatus.AUTHORIZED,))
        if current.authorized_by_id == by.pk:
            raise FundingRefusedError(
                _("You authorized this payment: a different finance member must release it.")
            )
        commitment = Commitment.objects.select_for_update().get(pk=current.commitment_id)
        fund = ledger.locked_fund(commitment.fund_id)
        if current.amount > commitment.open_amount:
            raise FundingRefusedError(_("That is more than is still set aside for it."))
        ledger.move(
            fund,
            ledger.Movement.PAYMENT,
            current.amount,
            by=by,
            request=current.request,
            category=commitment.category,
        )
        commitment.open_amount -= current.amount
        commitment.save(update_fields=["open_amount"])
        current.status = PayStatus.RELEASED
        current.released_by = by
        current.released_at = timezone.now()
        current.version += 1
        current.save()
        log_action(
            by,
            "funding.payment.released",
            current,
            details={"amount": str(current.amount), "fund": str(fund.pk)},
        )
    return current


def confirm_received(disbursement: Disbursement, *, by: User) -> Disbursement:
    """A caseworker confirms, from the person, that the money or tickets arrived."""
    with transaction.atomic():
        current = _locked(disbursement, version=None, status=(PayStatus.RELEASED,))
        current.status = PayStatus.RECEIVED
        current.confirmed_by = by
        current.confirmed_at = timezone.now()
        current.version += 1
        current.save()
        log_action(by, "funding.payment.received", current)
    return current


def cancel(disbursement: Disbursement, *, version: int | None, by: User) -> Disbursement:
    """Stop a payment not released yet (a wrong channel, a blocked transfer); its money stays
    set aside for a reissue or to be given back."""
    with transaction.atomic():
        current = _locked(
            disbursement, version=version, status=(PayStatus.APPROVED, PayStatus.AUTHORIZED)
        )
        current.status = PayStatus.CANCELLED
        current.cancelled_at = timezone.now()
        current.version += 1
        current.save()
        log_action(by, "funding.payment.cancelled", current)
    return current


def reissue(disbursement: Disbursement, *, by: User) -> Disbursement:
    """A new approved payment in place of a cancelled one, for the same commitment."""
    with transaction.atomic():
        current = _locked(disbursement, version=None, status=(PayStatus.CANCELLED,))
        if Disbursement.objects.filter(reissue_of=current).exists():
            raise FundingRefusedError(_("This payment was reissued already."))
        again = Disbursement.objects.create(
            commitment_id=current.commitment_id,
            request_id=current.request_id,
            keyring_id=current.keyring_id,
            amount=current.amount,
            approved_by=current.approved_by,
            reissue_of=current,
        )
        log_action(by, "funding.payment.reissued", again, details={"of": str(current.pk)})
    return again


# A payment's page lists them all: enough for a ticket, its changes and the fees around it.
MAX_RECEIPTS = 20


class ReceiptFileRefusedError(FundingRefusedError):
    """The file is not a photo (JPEG, PNG) or a PDF document, or cannot be read to make its
    clean copy (damaged, or a PDF locked with a password)."""


def receipt_states(user: User) -> tuple[str, ...]:
    """The states of a payment `user` may attach a receipt to: finance from its
    authorization on (a ticket is bought before the release is recorded), the case's
    caseworkers once it is released (what the person received)."""
    if user.has_role(Role.FINANCE):
        return (PayStatus.AUTHORIZED, PayStatus.RELEASED, PayStatus.RECEIVED)
    if user.has_role(Role.CASEWORKER):
        return (PayStatus.RELEASED, PayStatus.RECEIVED)
    return ()


def attach_receipt(
    disbursement: Disbursement, stored: EncryptedFile, *, kind: str, by: User, key: bytes
) -> Receipt:
    """Keep a receipt for a payment: only a clean copy of it, never the upload.

    `stored` is the upload, encrypted under the payment's keyring with `key` by the upload
    handler and not saved. It is read whole (at most the upload limit, as evidence is), its
    type checked from its first bytes (JPEG, PNG or PDF), and the copy made the way
    evidence's is (`intake.derivatives.clean_copy`: a photo re-encoded from its pixels, with
    no EXIF, GPS, XMP or comments; a PDF redrawn as one picture per page, at most
    MAX_PDF_PAGES, with no document info, text, scripts or attachments). The copy is stored
    under a neutral name; the upload's stored object is deleted before this returns, so
    neither its metadata nor its file name is kept.

    Raises ReceiptFileRefusedError for another type or a file no copy can be made of, and
    FundingRefusedError when the payment is cancelled, not in a state `receipt_states`
    allows for `by`, or holds as many receipts as it may. Nothing is stored when it raises.
    """
    try:
        if kind not in Receipt.Kind.values:
            raise FundingRefusedError(_("Choose what the receipt is."))
        content_type, clean = _clean_copy(stored, key)
    finally:
        # Whatever happens, the upload as it came is not kept: only its clean copy is.
        files.discard_unsaved(stored)
    copy: EncryptedFile | None = None
    try:
        with transaction.atomic():
            current = _locked(disbursement, version=None, status=tuple(PayStatus.values))
            if current.status == PayStatus.CANCELLED:
                raise FundingRefusedError(_("This payment is cancelled: it takes no receipt."))
            if current.status not in receipt_states(by):
                raise FundingRefusedError(
                    _("This payment is %(status)s: a receipt cannot be added to it yet.")
                    % {"status": PayStatus(current.status).label}
                )
            if Receipt.objects.filter(disbursement=current).count() >= MAX_RECEIPTS:
                raise FundingRefusedError(_("This payment holds as many receipts as it may."))
            copy = files.store_stream(
                current.keyring, key, iter([clean]), name="receipt", content_type=content_type
            )
            receipt = Receipt.objects.create(
                disbursement=current, file=copy, kind=kind, uploaded_by=by
            )
            log_action(
                by,
                "funding.receipt.added",
                receipt,
                details={"payment": str(current.pk), "kind": kind},
            )
    except BaseException:
        # The copy's row went with the rolled-back transaction: its stored object goes too.
        if copy is not None:
            files.discard_unsaved(copy)
        raise
    return receipt


def _clean_copy(stored: EncryptedFile, key: bytes) -> tuple[str, bytes]:
    """The upload's type and its copy holding only what it shows. Raises
    ReceiptFileRefusedError."""
    data = files.read_all(stored, key)
    content_type = sniff_type(data[:16])
    if content_type is None:
        raise ReceiptFileRefusedError(_("Only photos (JPEG, PNG) and PDF documents can be kept."))
    clean = derivatives.clean_copy(data, content_type)
    if clean is None:
        raise ReceiptFileRefusedError(
            _(
                "This file cannot be read, so no clean copy of it can be kept: it may be "
                "damaged, or a PDF locked with a password. Photograph or scan the receipt "
                "again."
            )
        )
    return content_type, clean


def receipt_removable(user: User, receipt: Receipt, payment_status: str) -> bool:
    """Whether `user` may remove `receipt` of a payment in `payment_status`: finance any
    receipt in any state (they keep the books); a caseworker only one they added, while the
    payment is released and not yet confirmed received (from then on the receipt is part of
    what finance reconciles, and finance removes it)."""
    if user.has_role(Role.FINANCE):
        return True
    return (
        user.has_role(Role.CASEWORKER)
        and receipt.uploaded_by_id == user.pk
        and payment_status == PayStatus.RELEASED
    )


def remove_receipt(receipt: Receipt, *, reason: str, by: User) -> None:
    """Remove a receipt added by mistake (one that shows who the person is, of another
    payment, unreadable, added twice): its row and its vault file are deleted, the stored
    object once the transaction commits (`vault.files.delete_file`; the file's key goes
    with its row, so an object a failed delete leaves behind cannot be read). The audit
    entry holds the payment, the receipt's kind and the reason's code, nothing of the file.
    No key is needed. Raises FundingRefusedError for a reason not in the list, a receipt
    already removed, or one `receipt_removable` does not let `by` remove."""
    if reason not in Receipt.RemovalReason.values:
        raise FundingRefusedError(_("Choose why the receipt is removed."))
    with transaction.atomic():
        # The payment first, as attach_receipt locks it: its state decides who may remove.
        payment = Disbursement.objects.select_for_update().get(pk=receipt.disbursement_id)
        current = (
            Receipt.objects.select_for_update().select_related("file").filter(pk=receipt.pk).first()
        )
        if current is None:
            raise FundingRefusedError(_("This receipt was removed already."))
        if not receipt_removable(by, current, payment.status):
            raise FundingRefusedError(
                _(
                    "Only finance can remove this receipt: you can remove the receipts you "
                    "added until the person has received the payment."
                )
            )
        log_action(
            by,
            "funding.receipt.removed",
            current,
            details={"payment": str(payment.pk), "kind": current.kind, "reason": reason},
        )
        stored = current.file
        current.delete()
        files.delete_file(stored)


def give_back(commitment: Commitment, *, by: User) -> Decimal:
    """Return what is left of a commitment to its fund (committed → available) once no
    payment of it is waiting. Returns the amount given back."""
    with transaction.atomic():
        current = Commitment.objects.select_for_update().get(pk=commitment.pk)
        if current.disbursements.filter(
            status__in=[PayStatus.APPROVED, PayStatus.AUTHORIZED]
        ).exists():
            raise FundingRefusedError(
                _("A payment of it is still waiting: release or cancel it first.")
            )
        amount = current.open_amount
        if amount <= 0:
            return Decimal(0)
        fund = ledger.locked_fund(current.fund_id)
        ledger.move(
            fund,
            ledger.Movement.UNCOMMITMENT,
            amount,
            by=by,
            request=current.request,
            category=current.category,
            memo="given back",
        )
        current.open_amount = Decimal(0)
        current.given_back += amount
        current.save(update_fields=["open_amount", "given_back"])
        log_action(by, "funding.commitment.given_back", current, details={"amount": str(amount)})
    return amount


def record_actual(item: LineItem, actual: Decimal, *, by: User) -> LineItem:
    """What a cost actually came to, in its own currency (reconciliation against the
    estimate; any difference in money moves through payments and `give_back`)."""
    if actual < 0:
        raise FundingRefusedError(_("An amount cannot be negative."))
    if actual:
        actual = check_amount(actual, item.currency)
    with transaction.atomic():
        current = LineItem.objects.select_for_update().get(pk=item.pk)
        current.actual = round_to(actual, current.currency)
        current.save(update_fields=["actual"])
        log_action(
            by,
            "funding.item.actual_recorded",
            current,
            details={"request": str(current.request_id), "actual": str(current.actual)},
        )
    return current

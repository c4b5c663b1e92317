"""Every write of payments: a decision's approved payments authorized by one finance member
and released by another (segregation of duties, in the service and as a database
constraint), confirmed received by a caseworker, cancelled and reissued; and what is left
of a commitment given back to its fund, with actual costs recorded for reconciliation.

A release moves the money from committed to spent in the ledger, under the fund's row lock.
References are sealed under the request's keyring and must not name the person.
"""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from waystation.accounts.models import User
from waystation.audit.services import log_action

from . import ledger
from .models import Commitment, Disbursement, LineItem
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

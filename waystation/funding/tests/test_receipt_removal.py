"""Removing a receipt added by mistake: finance any receipt, a caseworker the ones they
added until the person has received the payment; with a reason from the list, by a POST
with its CSRF token; the row, the vault file and its stored object go, one audit entry
stays (the reason's code, nothing of the file); everyone else gets 404."""

from pathlib import Path

import pytest
from django.test import Client

from conftest import make_user, sign_in
from waystation.accounts.models import Role, Team, User
from waystation.audit.models import AuditEntry
from waystation.funding import payments
from waystation.funding.models import Disbursement, Receipt
from waystation.vault.models import EncryptedFile
from waystation.verification.tests.conftest import member, png, unlocked

from .test_receipts import _released, _send, _stored, _url
from .test_receipts import payment as payment

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("rates", "vault_storage"),
]


def _remove(client: Client, receipt: Receipt, reason: str = "identifying"):  # type: ignore[no-untyped-def]
    return client.post(
        f"/staff/funding/receipts/{receipt.pk}/remove/", {f"r-{receipt.pk}-reason": reason}
    )


def _form_for(receipt: Receipt) -> str:
    return f'action="/staff/funding/receipts/{receipt.pk}/remove/"'


def _still_kept(receipt: Receipt, vault_storage: Path) -> None:
    assert Receipt.objects.filter(pk=receipt.pk).exists()
    assert EncryptedFile.objects.filter(pk=receipt.file_id).exists()
    assert Path(receipt.file.storage_name).name in {path.name for path in _stored(vault_storage)}
    assert not AuditEntry.objects.filter(
        action="funding.receipt.removed", object_id=receipt.pk
    ).exists()


def test_finance_removes_a_receipt_and_its_file_is_deleted(
    payment: Disbursement,
    finance: list[User],
    vault_storage: Path,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    farid = unlocked(Client(), finance[0])
    assert _send(farid, payment, png(), name="Amani Okello ticket.png").status_code == 302
    receipt = Receipt.objects.get()
    stored = Path(receipt.file.storage_name).name
    assert [path.name for path in _stored(vault_storage)] == [stored]
    page = farid.get(_url(payment)).content.decode()
    assert _form_for(receipt) in page and "or other identifying details" in page

    with django_capture_on_commit_callbacks(execute=True):
        removed = _remove(farid, receipt)
    assert removed.status_code == 302 and removed["Location"] == _url(payment)
    assert not Receipt.objects.exists() and not EncryptedFile.objects.exists()
    assert _stored(vault_storage) == []
    entry = AuditEntry.objects.get(action="funding.receipt.removed")
    assert entry.actor_id == finance[0].pk and entry.object_id == receipt.pk
    # The reason's code, never anything of the file (its name, type or size).
    assert entry.details == {"payment": str(payment.pk), "kind": "ticket", "reason": "identifying"}
    after = farid.get(_url(payment)).content.decode()
    assert "The receipt is removed and its file deleted." in after and "No receipt yet." in after
    # Gone, as if it had never been.
    assert _remove(farid, receipt).status_code == 404
    assert farid.get(f"/staff/funding/receipts/{receipt.pk}/").status_code == 404


def test_finance_removes_a_receipt_without_unlocked_keys(
    payment: Disbursement,
    finance: list[User],
    vault_storage: Path,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    _send(unlocked(Client(), finance[0]), payment, png())
    receipt = Receipt.objects.get()
    payments.cancel(payment, version=None, by=finance[1])
    locked = sign_in(Client(), finance[1])
    assert _form_for(receipt) in locked.get(_url(payment)).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert _remove(locked, receipt, "wrong_payment").status_code == 302
    assert not Receipt.objects.exists() and _stored(vault_storage) == []
    entry = AuditEntry.objects.get(action="funding.receipt.removed")
    assert entry.actor_id == finance[1].pk and entry.details["reason"] == "wrong_payment"


def test_the_caseworker_removes_what_they_added_until_the_person_received_it(
    payment: Disbursement,
    finance: list[User],
    caseworkers: Team,
    vault_storage: Path,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    _released(payment, finance)
    ana = unlocked(Client(), member(caseworkers))
    _send(ana, payment, png("red"), kind="other")
    first = Receipt.objects.get()
    assert _form_for(first) in ana.get(_url(payment)).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert _remove(ana, first, "duplicate").status_code == 302
    assert not Receipt.objects.exists() and _stored(vault_storage) == []
    entry = AuditEntry.objects.get(action="funding.receipt.removed")
    assert entry.actor_id == member(caseworkers).pk
    assert entry.details == {"payment": str(payment.pk), "kind": "other", "reason": "duplicate"}

    _send(ana, payment, png("green"), kind="transfer")
    second = Receipt.objects.get()
    assert ana.post(_url(payment, "received/")).status_code == 302
    # Received: the receipt is finance's to reconcile now.
    assert _form_for(second) not in ana.get(_url(payment)).content.decode()
    refused = _remove(ana, second, "unreadable")
    assert refused.status_code == 400
    assert "Only finance can remove this receipt" in refused.content.decode()
    _still_kept(second, vault_storage)
    farid = unlocked(Client(), finance[0])
    assert _form_for(second) in farid.get(_url(payment)).content.decode()
    assert _remove(farid, second, "unreadable").status_code == 302


def test_a_caseworker_cannot_remove_a_receipt_someone_else_added(
    payment: Disbursement,
    finance: list[User],
    caseworkers: Team,
    vault_storage: Path,
) -> None:
    _released(payment, finance)
    _send(unlocked(Client(), finance[0]), payment, png())
    receipt = Receipt.objects.get()
    ana = unlocked(Client(), member(caseworkers))
    page = ana.get(_url(payment)).content.decode()
    assert f"/staff/funding/receipts/{receipt.pk}/" in page and _form_for(receipt) not in page
    refused = _remove(ana, receipt)
    assert refused.status_code == 400
    assert "Only finance can remove this receipt" in refused.content.decode()
    _still_kept(receipt, vault_storage)


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", "Choose why the receipt is removed."),
        ("it shows Amani", "Select a valid choice."),
    ],
    ids=["none", "not in the list"],
)
def test_removal_needs_a_reason_from_the_list(
    payment: Disbursement,
    finance: list[User],
    vault_storage: Path,
    reason: str,
    message: str,
) -> None:
    farid = unlocked(Client(), finance[0])
    _send(farid, payment, png())
    receipt = Receipt.objects.get()
    refused = _remove(farid, receipt, reason)
    assert refused.status_code == 400
    assert message in refused.content.decode()
    _still_kept(receipt, vault_storage)


def test_removal_is_a_post_with_its_csrf_token(
    payment: Disbursement,
    finance: list[User],
    vault_storage: Path,
) -> None:
    _send(unlocked(Client(), finance[0]), payment, png())
    receipt = Receipt.objects.get()
    client = unlocked(Client(enforce_csrf_checks=True), finance[0])
    assert _remove(client, receipt).status_code == 403
    assert client.get(f"/staff/funding/receipts/{receipt.pk}/remove/").status_code == 405
    _still_kept(receipt, vault_storage)


def test_everyone_else_gets_404(
    payment: Disbursement,
    finance: list[User],
    vault_storage: Path,
) -> None:
    _released(payment, finance)
    _send(unlocked(Client(), finance[0]), payment, png())
    receipt = Receipt.objects.get()
    # Every role but finance, a caseworker of another team, someone without a role.
    others = [make_user(role) for role in (*Role.values, None) if role != Role.FINANCE]
    for person in others:
        assert _remove(sign_in(Client(), person), receipt).status_code == 404, person
    _still_kept(receipt, vault_storage)

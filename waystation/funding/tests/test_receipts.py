"""Receipts of payments through the pages: finance adds them from authorization on, the
case's caseworkers once the money is released; only a clean copy of each is kept (no EXIF,
GPS, XMP, PDF document info, text or attachments, not the file's name), sealed under the
request's keyring, listed with its format and size only for keys that open it, downloaded as
an attachment (audited); bad or damaged files, a cancelled payment and locked keys are
refused with what was chosen kept and nothing stored; everyone else gets 404."""

import io
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image
from pytest_django.fixtures import DjangoAssertNumQueries

from conftest import make_user, same_cost, sign_in
from waystation.accounts.models import Role, Team, User
from waystation.audit.models import AuditEntry
from waystation.funding import payments
from waystation.funding.models import Criterion, Disbursement, Receipt
from waystation.intake.tests.test_derivatives import (
    INFO_CANARIES,
    _pdf_with_text_and_extras,
    _pillow_pdf,
    _read,
)
from waystation.vault import files
from waystation.vault import services as vault
from waystation.vault.models import EncryptedFile
from waystation.verification.tests.conftest import member, png, unlocked

from .conftest import keys_of
from .test_committee import _funded

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("rates", "vault_storage"),
]

PDF = _pillow_pdf(2)
# What a phone's camera writes into a photo besides its pixels.
CAMERA = {"make": "CANARY-MAKE", "model": "CANARY-MODEL", "taken": "2026:03:14 09:26:53"}


def _photo_with_metadata() -> bytes:
    """A JPEG photo of a ticket as a phone takes it: camera, time and GPS position in its
    EXIF data, an XMP packet and a comment."""
    exif = Image.Exif()
    exif[0x010F] = CAMERA["make"]
    exif[0x0110] = CAMERA["model"]
    exif[0x0132] = CAMERA["taken"]
    # GPS 0.347° N 32.582° E: where the photo was taken.
    exif.get_ifd(0x8825).update({1: "N", 2: (0.0, 20.0, 49.2), 3: "E", 4: (32.0, 34.0, 55.2)})
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(
        out,
        format="JPEG",
        exif=exif.tobytes(),
        xmp=b"<x:xmpmeta><dc:creator>CANARY-XMP</dc:creator></x:xmpmeta>",
        comment=b"CANARY-COMMENT",
    )
    return out.getvalue()


@pytest.fixture
def payment(
    intake_team: Team,
    caseworkers: Team,
    members: list[User],
    finance: list[User],
    rubric: list[Criterion],
) -> Disbursement:
    """The airfare payment of a funded request, authorized by the first finance member."""
    request, _fund = _funded(
        intake_team, caseworkers, members, rubric, [("airfare", "EUR", "640")], "1000"
    )
    approved = Disbursement.objects.get(request=request)
    key = vault.open_keyring(request.keyring, keys_of(finance[0]))
    return payments.authorize(
        approved, channel="purchase", reference="PNR 7XK2", version=1, by=finance[0], key=key
    )


def _released(payment: Disbursement, finance: list[User]) -> Disbursement:
    return payments.release(payment, version=payment.version, by=finance[1])


def _url(payment: Disbursement, rest: str = "") -> str:
    return f"/staff/funding/payments/{payment.pk}/{rest}"


def _send(
    client: Client, payment: Disbursement, data: bytes, name: str = "ticket.png", kind="ticket"
):  # type: ignore[no-untyped-def]
    upload = SimpleUploadedFile(name, data, content_type="image/png")
    return client.post(_url(payment, "receipts/"), {"kind": kind, "file": upload})


def _downloaded(client: Client, receipt: Receipt) -> bytes:
    download = client.get(f"/staff/funding/receipts/{receipt.pk}/")
    assert download.status_code == 200
    return b"".join(download.streaming_content)  # type: ignore[attr-defined]


def _stored(vault_storage: Path) -> list[Path]:
    return [path for path in vault_storage.rglob("*") if path.is_file()]


def _nothing_kept(vault_storage: Path) -> None:
    assert not Receipt.objects.exists() and not EncryptedFile.objects.exists()
    assert not _stored(vault_storage)
    assert not AuditEntry.objects.filter(action="funding.receipt.added").exists()


def test_finance_adds_a_receipt_and_the_caseworker_downloads_it(
    payment: Disbursement, caseworkers: Team, finance: list[User]
) -> None:
    farid = unlocked(Client(), finance[0])
    page = farid.get(_url(payment)).content.decode()
    assert "Add a receipt" in page and "never a receipt that shows the person" in page.lower()
    sent = _send(farid, payment, png("green"), name="PNR-7XK2 ticket.png")
    assert sent.status_code == 302 and sent["Location"] == _url(payment)
    receipt = Receipt.objects.get()
    assert (receipt.disbursement_id, receipt.kind, receipt.uploaded_by_id) == (
        payment.pk,
        "ticket",
        finance[0].pk,
    )
    # Under the request's keyring; the upload's name is not kept, not even sealed.
    assert receipt.file.keyring_id == payment.keyring_id == payment.request.keyring_id
    key = vault.open_keyring(payment.keyring, keys_of(finance[0]))
    meta = files.read_meta(receipt.file, key)
    assert (meta.name, meta.content_type) == ("receipt", "image/png")
    entry = AuditEntry.objects.get(action="funding.receipt.added")
    assert entry.actor_id == finance[0].pk and entry.object_id == receipt.pk
    assert entry.details == {"payment": str(payment.pk), "kind": "ticket"}
    page = farid.get(_url(payment)).content.decode()
    assert "PNR-7XK2" not in page and f"PNG · {meta.size}" in page.replace("\xa0", " ")

    _released(payment, finance)
    ana = unlocked(Client(), member(caseworkers))
    request_page = ana.get(f"/staff/funding/requests/{payment.request_id}/").content.decode()
    assert "PNR-7XK2" not in request_page and f"/receipts/{receipt.pk}/" in request_page
    download = ana.get(f"/staff/funding/receipts/{receipt.pk}/")
    assert download.status_code == 200
    body = b"".join(download.streaming_content)  # type: ignore[attr-defined]
    # The clean copy: the same picture, re-encoded.
    with Image.open(io.BytesIO(body)) as copy:
        assert (copy.format, copy.size, copy.getpixel((5, 5))) == (
            "PNG",
            (10, 10),
            (0, 128, 0, 255),
        )
    assert download["Content-Type"] == "image/png"
    assert download["Content-Disposition"] == (
        f'attachment; filename="receipt-{str(receipt.pk)[:8]}.png"'
    )
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in download["Cache-Control"]
    read = AuditEntry.objects.get(action="funding.receipt.downloaded")
    assert read.actor_id == member(caseworkers).pk and read.object_id == receipt.pk
    assert read.details == {"payment": str(payment.pk)}


def test_the_caseworker_adds_a_receipt_once_the_payment_is_released(
    payment: Disbursement, caseworkers: Team, finance: list[User]
) -> None:
    ana = unlocked(Client(), member(caseworkers))
    assert "Add a receipt" not in ana.get(_url(payment)).content.decode()
    early = _send(ana, payment, PDF, name="slip.pdf", kind="transfer")
    assert early.status_code == 400
    assert "a receipt cannot be added to it yet" in early.content.decode()
    assert not Receipt.objects.exists()
    _released(payment, finance)
    assert "Add a receipt" in ana.get(_url(payment)).content.decode()
    assert _send(ana, payment, PDF, name="slip.pdf", kind="transfer").status_code == 302
    assert ana.post(_url(payment, "received/")).status_code == 302
    assert _send(ana, payment, png(), name="photo.png", kind="other").status_code == 302
    assert list(Receipt.objects.values_list("kind", flat=True)) == ["transfer", "other"]
    pdf = Receipt.objects.get(kind="transfer")
    download = unlocked(Client(), finance[1]).get(f"/staff/funding/receipts/{pdf.pk}/")
    assert download["Content-Type"] == "application/pdf"
    body = b"".join(download.streaming_content)  # type: ignore[attr-defined]
    # The pages redrawn as pictures in a new PDF.
    assert body != PDF and _read(body).pages == 2


def test_a_photo_is_kept_without_its_camera_time_and_position(
    payment: Disbursement, finance: list[User], vault_storage: Path
) -> None:
    photo = _photo_with_metadata()
    with Image.open(io.BytesIO(photo)) as original:
        exif = original.getexif()
        assert exif[0x010F] == CAMERA["make"] and exif.get_ifd(0x8825)[1] == "N"
        assert "xmp" in original.info and "comment" in original.info
    farid = unlocked(Client(), finance[0])
    sent = farid.post(
        _url(payment, "receipts/"),
        {"kind": "ticket", "file": SimpleUploadedFile("IMG_20260314_092653.jpg", photo)},
    )
    assert sent.status_code == 302
    body = _downloaded(farid, Receipt.objects.get())
    with Image.open(io.BytesIO(body)) as copy:
        assert copy.format == "JPEG" and copy.size == (40, 30)
        assert len(copy.getexif()) == 0
        assert not {"exif", "xmp", "comment", "icc_profile"} & set(copy.info)
        red, green, blue = copy.getpixel((20, 15))  # type: ignore[misc]
        assert red > 180 and green < 60 and blue < 60
    assert b"Exif" not in body and b"CANARY" not in body and b"2026:03:14" not in body
    # Only the clean copy is stored: one file, one stored object.
    assert EncryptedFile.objects.count() == len(_stored(vault_storage)) == 1


def test_a_pdf_is_kept_as_a_clean_pdf(payment: Disbursement, finance: list[User]) -> None:
    original = _pdf_with_text_and_extras()
    assert _read(original).text and _read(original).attachments == 1
    farid = unlocked(Client(), finance[0])
    assert _send(farid, payment, original, name="invoice.pdf", kind="fee").status_code == 302
    body = _downloaded(farid, Receipt.objects.get())
    rendered = _read(body)
    assert body.startswith(b"%PDF-") and rendered.pages == 1
    assert rendered.text == "" and rendered.attachments == 0 and rendered.metadata == {}
    assert b"CANARY" not in body
    for absent in (b"/JavaScript", b"/OpenAction", b"/EmbeddedFiles", b"/Metadata"):
        assert absent not in body


def test_a_pdfs_document_info_is_not_kept(payment: Disbursement, finance: list[User]) -> None:
    farid = unlocked(Client(), finance[0])
    assert _send(farid, payment, _pillow_pdf(1, **INFO_CANARIES), name="x.pdf").status_code == 302
    body = _downloaded(farid, Receipt.objects.get())
    assert _read(body).metadata == {}
    assert not any(marker.encode("utf-16-be") in body for marker in INFO_CANARIES.values())


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4, id="jpeg"),
        pytest.param(png()[:40], id="png-cut-off"),
        pytest.param(b"%PDF-1.4\n" + bytes(range(256)) * 8, id="pdf"),
    ],
)
def test_a_file_that_cannot_be_cleaned_is_refused_and_nothing_is_kept(
    payment: Disbursement, finance: list[User], vault_storage: Path, data: bytes
) -> None:
    sent = _send(unlocked(Client(), finance[0]), payment, data, kind="fee")
    assert sent.status_code == 400
    text = sent.content.decode()
    assert "This file cannot be read, so no clean copy of it can be kept" in text
    assert '<option value="fee" selected>' in text
    _nothing_kept(vault_storage)


def test_a_cancelled_payment_takes_no_receipt(
    payment: Disbursement, finance: list[User], vault_storage: Path
) -> None:
    farid = unlocked(Client(), finance[0])
    # The page was drawn while the payment was authorized; it is cancelled meanwhile.
    assert "Add a receipt" in farid.get(_url(payment)).content.decode()
    payments.cancel(payment, version=None, by=finance[1])
    sent = _send(farid, payment, png())
    assert sent.status_code == 400
    text = sent.content.decode()
    assert "This payment is cancelled: it takes no receipt." in text
    _nothing_kept(vault_storage)


@pytest.mark.parametrize(
    ("upload", "status", "message"),
    [
        (None, 400, "Choose the receipt&#x27;s file."),
        (
            SimpleUploadedFile("notes.png", b"<script>alert(1)</script>", "image/png"),
            400,
            "Only photos (JPEG, PNG) and PDF documents can be kept.",
        ),
        (
            SimpleUploadedFile("big.png", png() + b"0" * 100, "image/png"),
            413,
            "This file is too large. Add files of at most",
        ),
    ],
    ids=["no file", "wrong type", "too large"],
)
def test_a_bad_file_is_refused_keeping_the_choice_and_nothing_is_kept(
    payment: Disbursement,
    finance: list[User],
    vault_storage: Path,
    settings,  # type: ignore[no-untyped-def]
    upload: SimpleUploadedFile | None,
    status: int,
    message: str,
) -> None:
    settings.EVIDENCE_MAX_BYTES = 120
    farid = unlocked(Client(), finance[0])
    data: dict[str, object] = {"kind": "fee"}
    if upload is not None:
        data["file"] = upload
    sent = farid.post(_url(payment, "receipts/"), data)
    assert sent.status_code == status
    text = sent.content.decode()
    assert message in text
    assert '<option value="fee" selected>' in text
    _nothing_kept(vault_storage)


def test_locked_keys_store_nothing(
    payment: Disbursement, finance: list[User], vault_storage: Path
) -> None:
    client = sign_in(Client(), finance[0])
    page = client.get(_url(payment)).content.decode()
    assert "Unlock your keys to see the receipts and add one." in page
    sent = _send(client, payment, png(), kind="fee")
    assert sent.status_code == 400
    text = sent.content.decode()
    assert "Unlock your keys first: the receipt is sealed." in text
    assert '<option value="fee" selected>' in text
    _nothing_kept(vault_storage)


def test_an_upload_needs_the_csrf_token(
    payment: Disbursement, finance: list[User], vault_storage: Path
) -> None:
    client = Client(enforce_csrf_checks=True)
    unlocked(client, finance[0])
    assert _send(client, payment, png()).status_code == 403
    _nothing_kept(vault_storage)


def test_a_damaged_receipt_is_named_so_and_not_sent(
    payment: Disbursement, finance: list[User]
) -> None:
    farid = unlocked(Client(), finance[0])
    _send(farid, payment, png())
    receipt = Receipt.objects.get()
    EncryptedFile.objects.filter(pk=receipt.file_id).update(
        sealed_meta=bytes(receipt.file.sealed_meta)[:-1] + b"\x00"
    )
    assert "This file is damaged" in farid.get(_url(payment)).content.decode()
    refused = farid.get(f"/staff/funding/receipts/{receipt.pk}/")
    assert refused.status_code == 200 and "This file is damaged" in refused.content.decode()
    assert not AuditEntry.objects.filter(action="funding.receipt.downloaded").exists()


def test_only_finance_and_the_cases_caseworkers_reach_receipts(
    payment: Disbursement, finance: list[User], caseworkers: Team
) -> None:
    _released(payment, finance)
    _send(unlocked(Client(), finance[0]), payment, png())
    receipt = Receipt.objects.get()
    others = [make_user(role) for role in (*Role.values, None) if role != Role.FINANCE]
    for person in others:
        client = sign_in(Client(), person)
        assert client.get(_url(payment)).status_code == 404, person
        assert _send(client, payment, png()).status_code == 404, person
        assert client.get(f"/staff/funding/receipts/{receipt.pk}/").status_code == 404, person
    assert Receipt.objects.count() == 1
    assert not AuditEntry.objects.filter(action="funding.receipt.downloaded").exists()
    # Without keys that open the request, the case's caseworker sees no name, gets no file.
    locked = sign_in(Client(), member(caseworkers))
    assert locked.get(_url(payment)).status_code == 200
    unavailable = locked.get(f"/staff/funding/receipts/{receipt.pk}/")
    assert "Unlock your keys to download this receipt." in unavailable.content.decode()


def _add_receipts(payment: Disbursement, by: User, count: int) -> None:
    key = vault.open_keyring(payment.keyring, keys_of(by))
    for number in range(count):
        writer = files.FileWriter(
            payment.keyring, key, name=f"receipt {number}.png", content_type="image/png"
        )
        writer.write(png())
        payments.attach_receipt(payment, writer.close(), kind="other", by=by, key=key)


def _upload(payment: Disbursement, key: bytes, data: bytes) -> EncryptedFile:
    """A file as the upload handler leaves it: stored, its row not saved."""
    writer = files.FileWriter(payment.keyring, key, name="IMG_0001.png", content_type="image/png")
    writer.write(data)
    return writer.close()


def test_the_upload_itself_is_never_kept(
    payment: Disbursement, finance: list[User], vault_storage: Path
) -> None:
    key = vault.open_keyring(payment.keyring, keys_of(finance[0]))
    upload = _upload(payment, key, png())
    receipt = payments.attach_receipt(payment, upload, kind="ticket", by=finance[0], key=key)
    # Without the end of a request to clean up: the service removed the upload's object.
    assert receipt.file_id != upload.pk
    assert not EncryptedFile.objects.filter(pk=upload.pk).exists()
    assert [path.name for path in _stored(vault_storage)] == [Path(receipt.file.storage_name).name]
    refused = _upload(payment, key, png())
    payments.cancel(payment, version=None, by=finance[1])
    with pytest.raises(payments.FundingRefusedError):
        payments.attach_receipt(payment, refused, kind="ticket", by=finance[0], key=key)
    assert len(_stored(vault_storage)) == 1


def test_a_failure_after_the_copy_is_stored_leaves_nothing(
    payment: Disbursement,
    finance: list[User],
    vault_storage: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the audit log is unavailable")

    monkeypatch.setattr(payments, "log_action", fail)
    key = vault.open_keyring(payment.keyring, keys_of(finance[0]))
    with pytest.raises(RuntimeError):
        payments.attach_receipt(
            payment, _upload(payment, key, png()), kind="ticket", by=finance[0], key=key
        )
    assert not Receipt.objects.exists() and not EncryptedFile.objects.exists()
    assert not _stored(vault_storage)


def test_a_payment_holds_a_bounded_number_of_receipts(
    payment: Disbursement,
    finance: list[User],
    vault_storage: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(payments, "MAX_RECEIPTS", 2)
    _add_receipts(payment, finance[0], 2)
    sent = _send(unlocked(Client(), finance[0]), payment, png(), kind="fee")
    assert sent.status_code == 400
    text = sent.content.decode()
    assert "This payment holds as many receipts as it may." in text
    assert '<option value="fee" selected>' in text
    assert (
        Receipt.objects.count() == EncryptedFile.objects.count() == len(_stored(vault_storage)) == 2
    )


def test_the_payment_page_costs_the_same_however_many_receipts(
    payment: Disbursement,
    finance: list[User],
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    client = unlocked(Client(), finance[0])
    page = same_cost(
        client,
        _url(payment),
        lambda count: _add_receipts(payment, finance[0], count),
        django_assert_max_num_queries,
    )
    assert len(re.findall(r'/staff/funding/receipts/[0-9a-f-]{36}/"', page)) == 12


def test_the_request_page_costs_the_same_however_many_receipts(
    payment: Disbursement,
    finance: list[User],
    caseworkers: Team,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    _released(payment, finance)
    client = unlocked(Client(), member(caseworkers))
    page = same_cost(
        client,
        f"/staff/funding/requests/{payment.request_id}/",
        lambda count: _add_receipts(payment, finance[0], count),
        django_assert_max_num_queries,
        ceiling=40,
    )
    assert len(re.findall(r'/staff/funding/receipts/[0-9a-f-]{36}/"', page)) == 12

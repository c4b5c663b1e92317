"""The files the person sent, on the case page: derivatives listed and shown to a reader who
holds the case key, with safe headers and an audit entry per look; originals never."""

import io
import json

import pytest
from django.test import Client
from PIL import Image

from conftest import PASSWORD, make_user, sign_in
from waystation.accounts.models import Role, Team, User
from waystation.audit.models import AuditEntry
from waystation.cases.models import Case
from waystation.intake import services as intake
from waystation.intake.models import Evidence
from waystation.vault import crypto, files
from waystation.vault import services as vault

from .conftest import ask, send_file

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("vault_storage")]


def _jpeg_with_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "CanaryCameraMaker"
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def _pdf() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 80), "white").save(out, format="PDF", author="CanaryAuthor")
    return out.getvalue()


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (10, 10), "blue").save(out, format="PNG")
    return out.getvalue()


def _reader(client: Client, intake_team: Team) -> User:
    """The intake team's member, signed in with their keys unlocked."""
    member = intake_team.memberships.get().user
    sign_in(client, member)
    client.post("/staff/unlock/", {"password": PASSWORD})
    return member


def _url(evidence: Evidence, case: Case | None = None) -> str:
    return f"/staff/cases/{(case or evidence.request.case).pk}/evidence/{evidence.pk}/"


def _keys(evidence: Evidence, member: User) -> dict[str, bytes]:
    request = evidence.request
    key = vault.open_keyring(request.keyring, vault.unlock_with_password(member, PASSWORD))
    sealed = crypto.unseal(intake.inbox_key(request, key), bytes(evidence.sealed_keys))
    return {which: bytes.fromhex(hex_key) for which, hex_key in json.loads(sealed).items()}


def _looks() -> int:
    return AuditEntry.objects.filter(action="cases.evidence.read").count()


def test_the_case_page_lists_each_file_with_kind_size_or_no_preview(
    client: Client, intake_team: Team
) -> None:
    request = ask()
    photo = send_file(request, _jpeg_with_exif(), name="IMG_home_street.jpg")
    statement = send_file(request, _pdf())
    kept = send_file(request, b"%PDF-1.7 damaged beyond reading")
    assert kept.derivative is None
    _reader(client, intake_team)
    page = client.get(f"/staff/cases/{request.case.pk}/").content.decode()
    assert "Files the person sent" in page
    assert _url(photo) in page and _url(statement) in page and _url(kept) not in page
    assert "image" in page and "PDF document" in page and "kept, no preview" in page
    assert "IMG_home_street" not in page
    assert _looks() == 0  # listing opens no file


def test_locked_keys_list_no_file(client: Client, intake_team: Team) -> None:
    request = ask()
    photo = send_file(request, _png())
    sign_in(client, intake_team.memberships.get().user)
    page = client.get(f"/staff/cases/{request.case.pk}/").content.decode()
    assert "Unlock your keys" in page and _url(photo) not in page


def test_a_derivative_is_shown_inline_with_safe_headers_and_each_look_audited(
    client: Client, intake_team: Team
) -> None:
    request = ask()
    photo = send_file(request, _jpeg_with_exif(), name="IMG_home_street.jpg")
    member = _reader(client, intake_team)
    response = client.get(_url(photo))
    assert response.status_code == 200
    shown = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    keys = _keys(photo, member)
    assert photo.derivative is not None
    assert shown == files.read_all(photo.derivative, keys["derivative"])
    assert shown != files.read_all(photo.original, keys["original"])
    assert b"CanaryCameraMaker" not in shown
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Length"] == str(len(shown))
    assert response["X-Content-Type-Options"] == "nosniff"
    csp = response["Content-Security-Policy"]
    assert "sandbox" in csp and "default-src 'none'" in csp and "unsafe" not in csp
    assert "no-store" in response["Cache-Control"]
    disposition = response["Content-Disposition"]
    assert disposition == f'inline; filename="evidence-{str(photo.pk)[:8]}.jpg"'
    client.get(_url(photo))
    looks = AuditEntry.objects.filter(action="cases.evidence.read")
    assert looks.count() == 2
    assert {(entry.object_id, entry.actor_id) for entry in looks} == {(photo.pk, member.pk)}
    assert looks.first().details == {"case": str(request.case.pk)}  # type: ignore[union-attr]


def test_a_pdf_derivative_is_shown_as_a_pdf(client: Client, intake_team: Team) -> None:
    request = ask()
    statement = send_file(request, _pdf())
    _reader(client, intake_team)
    response = client.get(_url(statement))
    shown = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert response["Content-Type"] == "application/pdf" and shown.startswith(b"%PDF-")
    assert b"CanaryAuthor" not in shown
    assert response["Content-Disposition"].startswith("inline;")
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert _looks() == 1


def test_a_file_of_another_case_or_none_is_404(client: Client, intake_team: Team) -> None:
    mine, other = ask(), ask()
    photo = send_file(other, _png())
    _reader(client, intake_team)
    assert client.get(_url(photo, case=mine.case)).status_code == 404
    assert client.get(_url(photo).replace(str(photo.pk), str(mine.pk))).status_code == 404
    assert client.get(_url(photo)).status_code == 200  # the right case's URL opens it
    assert _looks() == 1


def test_people_who_may_not_see_the_case_get_404(client: Client, intake_team: Team) -> None:
    request = ask()
    photo = send_file(request, _png())
    Case.objects.filter(pk=request.case.pk).update(state="triaged")  # out of the intake queue
    _reader(client, intake_team)
    assert client.get(_url(photo)).status_code == 404
    for role in (Role.CASEWORKER, Role.COORDINATOR, None):
        other = Client()
        sign_in(other, make_user(role, keys=True))
        assert other.get(_url(photo)).status_code == 404
    assert _looks() == 0


def test_locked_keys_get_a_clear_page(client: Client, intake_team: Team) -> None:
    request = ask()
    photo = send_file(request, _png())
    sign_in(client, intake_team.memberships.get().user)
    response = client.get(_url(photo))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "Unlock your keys to see this file." in page
    assert f'href="/staff/unlock/?next={_url(photo)}"' in page
    assert _looks() == 0


def test_keys_that_do_not_open_the_case_get_a_clear_page(client: Client, intake_team: Team) -> None:
    request = ask()
    photo = send_file(request, _png())
    caseworker = make_user(Role.CASEWORKER, keys=True)
    Case.objects.filter(pk=request.case.pk).update(assigned_to=caseworker)  # no grant
    sign_in(client, caseworker)
    client.post("/staff/unlock/", {"password": PASSWORD})
    response = client.get(_url(photo))
    assert response.status_code == 200
    assert "Your keys do not open this case." in response.content.decode()
    assert _looks() == 0


def test_a_file_kept_without_a_derivative_is_never_shown(client: Client, intake_team: Team) -> None:
    request = ask()
    kept = send_file(request, b"%PDF-1.7 damaged beyond reading")
    _reader(client, intake_team)
    response = client.get(_url(kept))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert "there is no preview of it" in response.content.decode()
    assert b"damaged beyond reading" not in response.content
    assert _looks() == 0


def test_a_damaged_or_missing_stored_derivative_gets_a_clear_page(
    client: Client, intake_team: Team, vault_storage
) -> None:  # type: ignore[no-untyped-def]
    request = ask()
    altered, missing = send_file(request, _png()), send_file(request, _png())
    assert altered.derivative is not None and missing.derivative is not None
    stored = vault_storage / altered.derivative.storage_name
    data = bytearray(stored.read_bytes())
    data[-20] ^= 1
    stored.write_bytes(bytes(data))
    (vault_storage / missing.derivative.storage_name).unlink()
    _reader(client, intake_team)
    for evidence in (altered, missing):
        response = client.get(_url(evidence))
        assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
        assert "This file is damaged and cannot be shown." in response.content.decode()
    assert _looks() == 0


def test_damaged_sealed_keys_mark_that_file_only(client: Client, intake_team: Team) -> None:
    request = ask()
    damaged, fine = send_file(request, _png()), send_file(request, _png())
    Evidence.objects.filter(pk=damaged.pk).update(sealed_keys=b"\x00" * 80)
    _reader(client, intake_team)
    page = client.get(f"/staff/cases/{request.case.pk}/").content.decode()
    assert "This file is damaged and cannot be shown." in page and _url(fine) in page
    assert "This file is damaged" in client.get(_url(damaged)).content.decode()

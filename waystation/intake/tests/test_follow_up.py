"""Follow-up with the code: staff messages only, replies and evidence one way."""

import io

import pytest
from django.test import Client
from PIL import Image

from conftest import PASSWORD
from waystation.audit.models import AuditEntry
from waystation.intake import services
from waystation.intake.models import Evidence, HelpRequest, Message
from waystation.vault import files
from waystation.vault import services as vault

from .conftest import ANSWERS

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(intake_team):  # type: ignore[no-untyped-def]
    answers = services.Answers(
        country="NG",
        region="Lagos",
        nationalities="Nigerian",
        narrative=ANSWERS["narrative"],
        risk="now",
        organization="",
        documents=["none"],
        name="Ada",
    )
    request, code = services.submit_request(answers, language="en", form_token="t1")
    member = intake_team.memberships.get().user
    return request, code, member


def _open(client: Client, code: str):  # type: ignore[no-untyped-def]
    return client.post("/follow-up/", {"action": "login", "code": code})


def test_code_opens_staff_messages_not_the_request(client: Client, sent) -> None:  # type: ignore[no-untyped-def]
    request, code, member = sent
    services.staff_reply(request, "We read your request. Are you safe tonight?", by=member)
    page = _open(client, code).content.decode()
    assert "Are you safe tonight?" in page
    assert ANSWERS["narrative"] not in page and "Lagos" not in page


@pytest.mark.parametrize("typed", ["1234", "not a code", "١٢٣٤" * 7, "0000 " * 7, ""])
def test_wrong_and_malformed_codes_answer_alike(client: Client, sent, typed: str) -> None:  # type: ignore[no-untyped-def]
    response = _open(client, typed)
    assert response.status_code == 400
    content = response.content.decode()
    assert "This code does not open anything" in content or "This field is required" in content


def test_code_in_other_scripts_works(client: Client, sent) -> None:  # type: ignore[no-untyped-def]
    _request, code, _ = sent
    arabic = code.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert "Messages" in _open(client, arabic).content.decode()


def test_replies_are_sealed_for_staff_and_never_shown_back(client: Client, sent) -> None:  # type: ignore[no-untyped-def]
    request, code, member = sent
    _open(client, code)
    response = client.post("/follow-up/", {"action": "reply", "text": "I moved to my aunt."})
    assert "Your message was sent." in response.content.decode()
    assert "I moved to my aunt." not in response.content.decode()
    keys = vault.unlock_with_password(member, PASSWORD)
    thread = services.thread_for_staff(request, vault.open_keyring(request.keyring, keys))
    assert [text for _, text in thread] == ["I moved to my aunt."]
    assert AuditEntry.objects.filter(action="intake.message.received").exists()


def test_person_deletes_a_staff_message(client: Client, sent) -> None:  # type: ignore[no-untyped-def]
    request, code, member = sent
    message = services.staff_reply(request, "Delete me", by=member)
    _open(client, code)
    page = client.post("/follow-up/", {"action": "delete", "message": str(message.pk)})
    assert "Delete me" not in page.content.decode()
    message.refresh_from_db()
    assert message.deleted_by_person_at and message.for_person is None


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (40, 30), "red")
    exif = Image.Exif()
    exif[0x010F] = "CanaryCameraMaker"
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes(), comment=b"CanaryComment")
    return out.getvalue()


def test_evidence_is_kept_and_a_clean_derivative_made(client: Client, sent) -> None:  # type: ignore[no-untyped-def]
    request, code, member = sent
    _open(client, code)
    upload = io.BytesIO(_jpeg_with_gps())
    upload.name = "IMG_2024_home.jpg"
    response = client.post("/follow-up/files/", {"file": upload})
    assert response.status_code == 200 and "Your file was received." in response.content.decode()
    evidence = Evidence.objects.get()
    import json

    from waystation.intake.services import inbox_key
    from waystation.vault import crypto

    keyring_key = vault.open_keyring(request.keyring, vault.unlock_with_password(member, PASSWORD))
    keys = json.loads(crypto.unseal(inbox_key(request, keyring_key), bytes(evidence.sealed_keys)))
    original = files.read_all(evidence.original, bytes.fromhex(keys["original"]))
    clean = files.read_all(evidence.derivative, bytes.fromhex(keys["derivative"]))
    assert b"CanaryCameraMaker" in original and b"CanaryComment" in original
    assert b"CanaryCameraMaker" not in clean and b"CanaryComment" not in clean
    assert b"Exif" not in clean
    assert (
        files.read_meta(evidence.original, bytes.fromhex(keys["original"])).name
        == "IMG_2024_home.jpg"
    )


def test_other_file_types_are_refused_with_a_message(client: Client, sent) -> None:  # type: ignore[no-untyped-def]
    _request, code, _ = sent
    _open(client, code)
    upload = io.BytesIO(b"MZ\x90\x00 not a photo")
    upload.name = "photo.jpg"
    response = client.post("/follow-up/files/", {"file": upload})
    assert response.status_code == 400
    assert "We can only receive photos" in response.content.decode()
    assert not Evidence.objects.exists()


def test_too_large_file_answers_413(client: Client, sent, settings) -> None:  # type: ignore[no-untyped-def]
    settings.EVIDENCE_MAX_BYTES = 1024
    _request, code, _ = sent
    _open(client, code)
    upload = io.BytesIO(b"%PDF-" + b"x" * 5000)
    upload.name = "big.pdf"
    response = client.post("/follow-up/files/", {"file": upload})
    assert response.status_code == 413 and "too large" in response.content.decode()


def test_quick_exit_ends_the_session_and_clears_the_site(client: Client, sent) -> None:  # type: ignore[no-untyped-def]
    _request, code, _ = sent
    _open(client, code)
    response = client.post("/exit/")
    assert response.status_code == 302 and response["Clear-Site-Data"]
    assert "Messages" not in client.get("/follow-up/").content.decode()


def test_expired_code_does_not_open(client: Client, sent, settings) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from django.utils import timezone

    request, code, _ = sent
    HelpRequest.objects.filter(pk=request.pk).update(
        follow_up_used_at=timezone.now() - timedelta(days=settings.FOLLOW_UP_VALID_DAYS + 1)
    )
    assert _open(client, code).status_code == 400


def test_follow_up_session_is_cookie_bound(client: Client, sent) -> None:  # type: ignore[no-untyped-def]
    _request, code, _ = sent
    _open(client, code)
    assert client.cookies["fk"]["httponly"] and not client.cookies["fk"]["max-age"]
    del client.cookies["fk"]
    assert "Messages" not in client.get("/follow-up/").content.decode()
    assert Message.objects.count() == 0


def test_lookup_fits_its_column() -> None:
    from waystation.intake import codes
    from waystation.intake.models import HelpRequest

    lookup = codes.lookup_id("1" * codes.DIGITS)
    assert len(lookup) == HelpRequest._meta.get_field("follow_up_lookup").max_length == 64
    int(lookup, 16)


def test_evidence_can_be_added_right_after_asking(client: Client, intake_team) -> None:  # type: ignore[no-untyped-def]
    import re as regex

    page = client.get("/ask/").content.decode()
    token = regex.search(r'name="form_token" value="([^"]+)"', page).group(1)
    received = client.post("/ask/", {**ANSWERS, "form_token": token})
    assert 'action="/follow-up/files/"' in received.content.decode()
    upload = io.BytesIO(_jpeg_with_gps())
    upload.name = "first.jpg"
    response = client.post("/follow-up/files/", {"file": upload})
    assert "Your file was received." in response.content.decode()
    assert Evidence.objects.get().request == HelpRequest.objects.get()

"""The public intake stores the blind-index tokens staff signals read: narrative bands at
submission (computed before the write transaction), a keyed hash of each evidence file."""

import hashlib
import io
import re

import pytest
from django.db import connection
from django.test import Client
from PIL import Image

from waystation.intake import services
from waystation.intake.models import HelpRequest
from waystation.vault import blind
from waystation.vault.models import BlindIndexToken

from .conftest import ANSWERS

pytestmark = pytest.mark.django_db

NARRATIVE = (
    "My neighbours found out and the police came to my house twice. They took my phone and "
    "read my messages, and my father says I cannot come home again."
)


def _ask(client: Client, **answers: str) -> HelpRequest:
    page = client.get("/ask/").content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    response = client.post("/ask/", {**ANSWERS, "form_token": token, **answers})
    assert response.status_code == 200
    return HelpRequest.objects.order_by("received_at").last()  # type: ignore[return-value]


def _kinds(request: HelpRequest, kind: str) -> set[str]:
    return set(
        BlindIndexToken.objects.filter(keyring=request.keyring, kind=kind).values_list(
            "token", flat=True
        )
    )


def _png() -> bytes:
    image = io.BytesIO()
    Image.new("RGB", (8, 8), "purple").save(image, format="PNG")
    return image.getvalue()


def _send(client: Client, data: bytes) -> None:
    upload = io.BytesIO(data)
    upload.name = "photo.png"
    assert client.post("/follow-up/files/", {"file": upload}).status_code == 200


def test_a_request_stores_its_narrative_bands(intake_team) -> None:  # type: ignore[no-untyped-def]
    request = _ask(Client(), narrative=NARRATIVE)
    bands = _kinds(request, "narrative")
    assert len(bands) == blind.NARRATIVE_BANDS
    assert bands == {token for _kind, token in blind.narrative_tokens(NARRATIVE)}
    # The phone and name tokens are still there, and still link the same person.
    assert _kinds(request, "phone") and _kinds(request, "name")


def test_a_short_narrative_stores_no_bands(intake_team) -> None:  # type: ignore[no-untyped-def]
    request = _ask(Client(), narrative="They will kill me, please help.")
    assert _kinds(request, "narrative") == set()


def test_narrative_bands_are_computed_before_the_write_transaction(  # type: ignore[no-untyped-def]
    intake_team, monkeypatch
) -> None:
    # The submission holds SQLite's single writer only to insert rows.
    outside = len(connection.atomic_blocks)
    depths = []
    computed = blind.narrative_tokens

    def narrative_tokens(text: str) -> set[tuple[str, str]]:
        depths.append(len(connection.atomic_blocks))
        return computed(text)

    monkeypatch.setattr(blind, "narrative_tokens", narrative_tokens)
    answers = services.Answers(
        country="NG",
        region="Lagos",
        nationalities="",
        narrative=NARRATIVE,
        risk="now",
        organization="",
        documents=["none"],
    )
    request, _code = services.submit_request(answers, language="en", form_token="before")
    assert depths == [outside]
    assert len(_kinds(request, "narrative")) == blind.NARRATIVE_BANDS


def test_evidence_stores_a_keyed_hash_of_the_original(intake_team) -> None:  # type: ignore[no-untyped-def]
    first, second = Client(), Client()
    one, other = _ask(first), _ask(second)
    _send(first, _png())
    _send(first, _png())  # the same file again: one token
    _send(second, _png())
    [token] = _kinds(one, "evidence")
    assert _kinds(other, "evidence") == {token}
    sha256 = hashlib.sha256(_png()).hexdigest()
    assert (blind.Kind.EVIDENCE.value, token) == blind.evidence_token(sha256)
    assert token not in sha256
    assert not BlindIndexToken.objects.filter(token__in=[sha256, sha256[:32]]).exists()


def test_a_refused_file_stores_no_token(intake_team) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    request = _ask(client)
    upload = io.BytesIO(b"MZ\x90\x00 not a photo")
    upload.name = "photo.png"
    assert client.post("/follow-up/files/", {"file": upload}).status_code == 400
    assert _kinds(request, "evidence") == set()

"""Proof of work, the no-JavaScript wait, hourly caps, and the in-form language switch."""

import hashlib
import re

import pytest
from django.core.cache import cache
from django.test import Client

from waystation.intake import abuse
from waystation.intake.models import HelpRequest

from .conftest import ANSWERS

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache.clear()


def solve(form_token: str, bits: int) -> str:
    nonce = 0
    while True:
        digest = hashlib.sha256(f"{form_token}:{nonce}".encode()).digest()
        if int.from_bytes(digest, "big") >> (256 - bits) == 0:
            return str(nonce)
        nonce += 1


def _form(client: Client) -> dict[str, object]:
    page = client.get("/ask/").content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    return {**ANSWERS, "form_token": token}


def test_proof_of_work_is_checked(settings) -> None:  # type: ignore[no-untyped-def]
    settings.INTAKE_PROOF_BITS = 12
    token = abuse.new_form_token()
    nonce = solve(token, 12)
    assert abuse.proof_is_valid(token, nonce)
    assert not abuse.proof_is_valid(token, "not-a-number")
    assert not abuse.proof_is_valid(token, "")


def test_form_sent_at_once_without_proof_is_asked_to_send_again(
    client: Client,
    intake_team,  # type: ignore[no-untyped-def]
    settings,
) -> None:
    settings.INTAKE_MIN_SECONDS_WITHOUT_PROOF = 60
    response = client.post("/ask/", _form(client))
    assert response.status_code == 429
    assert "Please check your answers" in response.content.decode()
    assert 'value="Lagos"' in response.content.decode()
    assert not HelpRequest.objects.exists()


def test_form_with_proof_goes_through_at_once(client: Client, intake_team, settings) -> None:  # type: ignore[no-untyped-def]
    settings.INTAKE_MIN_SECONDS_WITHOUT_PROOF = 60
    settings.INTAKE_PROOF_BITS = 10
    data = _form(client)
    data["proof"] = solve(str(data["form_token"]), 10)
    assert client.post("/ask/", data).status_code == 200
    assert HelpRequest.objects.count() == 1


def test_forged_token_is_refused_and_answers_kept(client: Client, intake_team) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/ask/", {**_form(client), "form_token": "forged"})
    assert response.status_code == 429
    content = response.content.decode()
    assert "Please send it again" in content and "+234 803 123 4567" in content


def test_per_source_cap_keeps_answers_and_stores_no_address(
    client: Client,
    intake_team,  # type: ignore[no-untyped-def]
    settings,
) -> None:
    settings.INTAKE_MAX_PER_SOURCE_HOUR = 2
    statuses = [
        client.post("/ask/", _form(client), REMOTE_ADDR="198.51.100.23").status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
    assert HelpRequest.objects.count() == 2
    assert "198.51.100.23" not in repr(dict(getattr(cache, "_cache", {})))


def test_shared_addresses_have_no_per_source_cap(client: Client, intake_team, settings) -> None:  # type: ignore[no-untyped-def]
    settings.INTAKE_MAX_PER_SOURCE_HOUR = 1
    statuses = [
        client.post("/ask/", _form(client), REMOTE_ADDR="127.0.0.1").status_code for _ in range(3)
    ]
    assert statuses == [200, 200, 200]


def test_global_cap(client: Client, intake_team, settings) -> None:  # type: ignore[no-untyped-def]
    settings.INTAKE_MAX_PER_HOUR = 1
    assert client.post("/ask/", _form(client)).status_code == 200
    response = client.post("/ask/", _form(client))
    assert response.status_code == 429 and "Many requests are arriving" in response.content.decode()


def test_language_switch_keeps_everything_typed(client: Client, intake_team) -> None:  # type: ignore[no-untyped-def]
    data = {**_form(client), "switch_language": "ar", "narrative": "Typed before switching"}
    response = client.post("/ask/", data)
    content = response.content.decode()
    assert response.status_code == 200 and 'dir="rtl"' in content
    assert "Typed before switching" in content and 'value="Lagos"' in content
    assert 'value="national_id" id="id_documents_1" checked' in content or "checked" in content
    assert "errorlist" not in content
    assert response.cookies["lang"].value == "ar"
    assert not HelpRequest.objects.exists()

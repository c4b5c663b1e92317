"""Proof of work, the no-JavaScript wait, hourly caps, the in-form language switch, and the
budgets of wrong follow-up codes."""

import hashlib
import re

import pytest
from django.core.cache import cache
from django.http import HttpResponse
from django.test import Client

from waystation.intake import abuse, codes, services
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


# --- Follow-up code logins ----------------------------------------------------------------

ATTACKER = "198.51.100.23"
NEIGHBOUR = "203.0.113.7"


class Clock:
    """abuse.py's time: frozen at the start of a window, so counts never straddle two."""

    def __init__(self) -> None:
        self.now = float(abuse.CODE_SOURCE_WINDOW * 2_000_000)

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    frozen = Clock()
    monkeypatch.setattr(abuse, "time", frozen)
    return frozen


@pytest.fixture
def code(intake_team, clock: Clock) -> str:  # type: ignore[no-untyped-def]
    answers = services.Answers(
        country="NG",
        region="Lagos",
        nationalities="Nigerian",
        narrative=str(ANSWERS["narrative"]),
        risk="now",
        organization="",
        documents=["none"],
        name="Ada",
    )
    _request, follow_up_code = services.submit_request(answers, language="en", form_token="t1")
    return follow_up_code


def _try(client: Client, typed: str, address: str) -> HttpResponse:
    return client.post("/follow-up/", {"action": "login", "code": typed}, REMOTE_ADDR=address)


def _refusal(response: HttpResponse) -> str:
    """The page without what differs by design: the CSRF token and the typed code."""
    content = response.content.decode()
    content = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", content)
    return re.sub(r'name="code" value="[^"]*"', "", content)


def test_source_out_of_code_budget_is_refused_even_the_right_code(
    client: Client,
    code: str,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    settings.FOLLOW_UP_FAILURES_PER_SOURCE = 2
    used_at = HelpRequest.objects.get().follow_up_used_at
    wrong = _try(client, "0000 " * 7, ATTACKER)
    _try(client, "not a code", ATTACKER)
    refused = _try(client, code, ATTACKER)
    assert refused.status_code == wrong.status_code == 400
    assert "This code does not open anything" in refused.content.decode()
    assert _refusal(refused) == _refusal(wrong)
    assert "fk" not in refused.cookies
    assert HelpRequest.objects.get().follow_up_used_at == used_at


def test_throttled_attempt_spends_a_lookup(
    client: Client,
    code: str,
    settings,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.FOLLOW_UP_FAILURES_PER_SOURCE = 1
    _try(client, "0000 " * 7, ATTACKER)
    lookups: list[str] = []
    real = codes.lookup_id
    monkeypatch.setattr(codes, "lookup_id", lambda typed: lookups.append(typed) or real(typed))
    assert _try(client, code, ATTACKER).status_code == 400
    assert len(lookups) == 1


def test_other_source_still_opens_its_code(client: Client, code: str, settings) -> None:  # type: ignore[no-untyped-def]
    settings.FOLLOW_UP_FAILURES_PER_SOURCE = 1
    _try(client, "0000 " * 7, ATTACKER)
    assert _try(client, code, ATTACKER).status_code == 400
    response = _try(client, code, NEIGHBOUR)
    assert response.status_code == 200 and "Messages" in response.content.decode()


def test_shared_address_meets_only_the_global_code_budget(
    client: Client,
    code: str,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    settings.FOLLOW_UP_FAILURES_PER_SOURCE = 1
    settings.FOLLOW_UP_FAILURES_PER_MINUTE = 4
    statuses = [_try(client, "0000 " * 7, "127.0.0.1").status_code for _ in range(3)]
    assert statuses == [400, 400, 400]
    assert _try(client, code, "127.0.0.1").status_code == 200


def test_code_budget_returns_after_the_window(
    client: Client,
    code: str,
    clock: Clock,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    settings.FOLLOW_UP_FAILURES_PER_SOURCE = 1
    _try(client, "0000 " * 7, ATTACKER)
    assert _try(client, code, ATTACKER).status_code == 400
    clock.now += abuse.CODE_SOURCE_WINDOW
    assert _try(client, code, ATTACKER).status_code == 200


def test_global_code_budget_refuses_every_source(
    client: Client,
    code: str,
    clock: Clock,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    settings.FOLLOW_UP_FAILURES_PER_MINUTE = 2
    _try(client, "0000 " * 7, ATTACKER)
    _try(client, "0000 " * 7, "127.0.0.1")
    assert _try(client, code, NEIGHBOUR).status_code == 400
    assert _try(client, code, "127.0.0.1").status_code == 400
    clock.now += abuse.MINUTE
    assert _try(client, code, NEIGHBOUR).status_code == 200


def test_code_counters_hold_no_address(client: Client, code: str, settings) -> None:  # type: ignore[no-untyped-def]
    settings.FOLLOW_UP_FAILURES_PER_SOURCE = 1
    for _ in range(3):
        _try(client, "0000 " * 7, ATTACKER)
    _try(client, code, NEIGHBOUR)
    held = repr(dict(getattr(cache, "_cache", {})))
    assert "intake:cap:code:source:" in held
    assert ATTACKER not in held and NEIGHBOUR not in held

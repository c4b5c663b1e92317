"""The canary test for intake: markers in every answer, message, file and file name, and in
the sender's address and browser, must not appear in the database, files, sessions, cache
or logs. The follow-up code must not appear either."""

import io
import logging

import pytest
from django.test import Client
from PIL import Image

from waystation.vault.tests.markers import MARKERS, assert_no_traces, seized_places

from .conftest import ANSWERS

ADDRESS = "203.0.113.199"
BROWSER = "CanaryAgentZebra/7.1"


def _ask(client: Client, marker: str) -> str:
    import re

    page = client.get("/ask/", REMOTE_ADDR=ADDRESS, HTTP_USER_AGENT=BROWSER).content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    answers = {
        # Country and region stay plaintext (operational: triage sorts and filters by them).
        **ANSWERS,
        "form_token": token,
        "nationalities": f"{marker} nation",
        "narrative": f"{marker} what happened to me " * 3,
        "organization": f"{marker} group",
        "partner": f"{marker} partner",
        "name": f"{marker} name",
        "channel": "email",
        "handle": f"{marker.lower()}@canary.example",
        "safe_times": f"{marker} evenings",
    }
    response = client.post(
        "/ask/", answers, REMOTE_ADDR=ADDRESS, HTTP_USER_AGENT=BROWSER, HTTP_X_FORWARDED_FOR=ADDRESS
    )
    assert response.status_code == 200
    return re.search(r'follow-up-code">([\d ]+)<', response.content.decode()).group(1)


@pytest.mark.django_db(transaction=True)
def test_nothing_sent_leaks_anywhere(intake_team, vault_storage, caplog, capfd, settings) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    # A partner chosen from the configured list is sealed like the rest (the list itself
    # is public configuration, so it is not searched for).
    settings.INTAKE_PARTNERS = [f"{marker} partner" for marker in MARKERS.values()]
    codes = []
    for marker in MARKERS.values():
        client = Client()
        code = _ask(client, marker)
        codes.append(code)
        client.post(
            "/follow-up/",
            {"action": "login", "code": code},
            REMOTE_ADDR=ADDRESS,
            HTTP_USER_AGENT=BROWSER,
        )
        client.post(
            "/follow-up/",
            {"action": "reply", "text": f"{marker} reply"},
            REMOTE_ADDR=ADDRESS,
            HTTP_USER_AGENT=BROWSER,
        )
        image = io.BytesIO()
        Image.new("RGB", (8, 8), "blue").save(image, format="PNG")
        upload = io.BytesIO(image.getvalue() + marker.encode())
        upload.name = f"{marker}.png"
        assert (
            client.post(
                "/follow-up/files/", {"file": upload}, REMOTE_ADDR=ADDRESS, HTTP_USER_AGENT=BROWSER
            ).status_code
            == 200
        )
    places = seized_places(vault_storage, caplog, capfd)
    assert_no_traces(places, {**MARKERS, "address": ADDRESS, "browser": BROWSER})
    for place, content in places.items():
        for code in codes:
            digits = code.replace(" ", "")
            assert digits.encode() not in content and code.encode() not in content, place

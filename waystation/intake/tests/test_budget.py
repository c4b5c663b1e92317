"""Every public page stays under 30 KB transferred: HTML, CSS and JavaScript together."""

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from waystation.intake import services

BUDGET = 30 * 1024
PAGES = ["/", "/ask/", "/follow-up/", "/safety/"]

pytestmark = pytest.mark.django_db


def _assets(html: str) -> int:
    total = 0
    for url in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        path = finders.find(url.removeprefix("/static/"))
        assert path, url
        total += Path(path).stat().st_size
    return total


@pytest.mark.parametrize("language", ["en", "ar", "sw"])
@pytest.mark.parametrize("url", PAGES)
def test_public_page_fits_the_budget(client: Client, url: str, language: str, capsys) -> None:  # type: ignore[no-untyped-def]
    client.cookies["lang"] = language
    html = client.get(url).content.decode()
    size = len(html.encode()) + _assets(html)
    with capsys.disabled():
        print(f"\n{url} [{language}]: {size:,} bytes (HTML {len(html.encode()):,})", end="")
    assert size < BUDGET


def test_follow_up_page_with_messages_fits_the_budget(client: Client, intake_team) -> None:  # type: ignore[no-untyped-def]
    request, code = services.submit_request(
        services.Answers(
            country="KE",
            region="Nairobi",
            nationalities="",
            narrative="x" * 40,
            risk="weeks",
            organization="",
            documents=["none"],
        ),
        language="en",
        form_token="budget",
    )
    member = intake_team.memberships.get().user
    for _ in range(5):
        services.staff_reply(request, "A reply of ordinary length. " * 10, by=member)
    html = client.post("/follow-up/", {"action": "login", "code": code}).content.decode()
    assert len(html.encode()) + _assets(html) < BUDGET


@pytest.mark.parametrize("language", ["en", "ar", "fa", "ru"])
def test_form_with_every_error_fits_the_budget(client: Client, language: str, capsys) -> None:  # type: ignore[no-untyped-def]
    client.cookies["lang"] = language
    html = client.post("/ask/", {"form_token": "x"}).content.decode()
    size = len(html.encode()) + _assets(html)
    with capsys.disabled():
        print(f"\n/ask/ with errors [{language}]: {size:,} bytes", end="")
    assert size < BUDGET

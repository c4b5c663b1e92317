"""Security headers on every response, for anonymous visitors and signed-in staff alike."""

import pytest
from django.test import Client

from conftest import make_user, sign_in
from waystation.accounts.models import Agreement, Role
from waystation.cases.tests.factories import make_case

from .matrix import parse_matrix, url_for

GET_ROWS = [row for row in parse_matrix() if row.method == "GET"]


def _assert_headers(response) -> None:  # type: ignore[no-untyped-def]
    csp = response["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'none'" in csp
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    policy = response["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "usb=()", "payment=()"):
        assert feature in policy
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
@pytest.mark.parametrize("signed_in", [False, True])
@pytest.mark.parametrize(
    "row", GET_ROWS, ids=[f"{r.name}{f' {r.variant}' if r.variant else ''}" for r in GET_ROWS]
)
def test_headers_on_every_url(client: Client, row, signed_in: bool) -> None:  # type: ignore[no-untyped-def]
    coordinator = make_user(Role.COORDINATOR)
    if signed_in:
        sign_in(client, coordinator)
    objects = {
        "person": coordinator,
        "agreement": Agreement.objects.first(),
        **{f"case_{variant}": make_case() for variant in ("own", "foreign", "missing")},
    }
    _assert_headers(client.get(url_for(row.name, objects, row.variant)))


@pytest.mark.django_db
def test_headers_on_not_found_and_forms_with_errors(client: Client) -> None:
    _assert_headers(client.get("/no-such-page/"))
    _assert_headers(client.post("/staff/sign-in/", {"email": "x"}))


@pytest.mark.django_db
def test_pages_load_nothing_from_another_origin(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    import re

    for url in ("/", "/ask/", "/follow-up/", "/safety/", "/staff/sign-in/"):
        content = client.get(url).content.decode()
        resources = re.findall(r'(?:src|action)="([^"]*)"', content) + re.findall(
            r'<link[^>]+href="([^"]*)"', content
        )
        assert resources and all(r.startswith("/") and not r.startswith("//") for r in resources)
        links = set(re.findall(r'<a [^>]*href="([^"]*)"', content))
        assert {link for link in links if not link.startswith(("/", "#"))} <= {
            settings.QUICK_EXIT_URL
        }, url


@pytest.mark.django_db
def test_pages_are_compacted_but_typed_text_is_kept(client: Client) -> None:
    typed = "line one\n\n   indented line\n"
    response = client.post("/ask/", {"narrative": typed, "region": "  spaced  "})
    content = response.content.decode()
    assert ">\n\n" not in content
    assert "line one\n\n   indented line" in content

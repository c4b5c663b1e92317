"""The permission matrix: every URL for every role, as written in docs/permissions.md."""

import pytest
from django.test import Client

from conftest import make_user, sign_in
from waystation.accounts.models import Agreement

from .matrix import parse_matrix, url_for, url_names

ROWS = parse_matrix()


def test_every_url_has_a_row_in_the_matrix() -> None:
    documented = {row.name for row in ROWS}
    assert url_names() - documented == set(), "add these URLs to docs/permissions.md"
    assert documented - url_names() == set(), "these documented URLs no longer exist"


def _outcome(response) -> str:  # type: ignore[no-untyped-def]
    if response.status_code == 302:
        return "login" if response["Location"].startswith("/staff/sign-in/") else "done"
    if response.status_code == 200:
        return "ok"
    return str(response.status_code)


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.method} {r.name}" for r in ROWS])
@pytest.mark.parametrize("role", list(ROWS[0].expected))
def test_matrix(db: None, client: Client, role: str, row) -> None:  # type: ignore[no-untyped-def]
    objects = {
        "person": make_user(None, email="target@example.org"),
        "agreement": Agreement.objects.first(),
    }
    if role != "anonymous":
        sign_in(client, make_user(None if role == "outsider" else role))
    url = url_for(row.name, objects)
    response = client.get(url) if row.method == "GET" else client.post(url, {})
    assert _outcome(response) == row.expected[role], f"{row.method} {url} as {role}"

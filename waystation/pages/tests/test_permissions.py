"""The permission matrix: every URL for every role, as written in docs/permissions.md."""

import uuid

import pytest
from django.test import Client

from conftest import make_user, sign_in
from waystation.accounts.models import Agreement
from waystation.cases.models import Case
from waystation.cases.tests.factories import make_case, make_evidence
from waystation.partners.tests.factories import matrix_objects as partner_objects

from .matrix import objects_about, parse_matrix, post_data, url_for, url_names

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


@pytest.mark.parametrize(
    "row", ROWS, ids=[f"{r.method} {r.name}{f' {r.variant}' if r.variant else ''}" for r in ROWS]
)
@pytest.mark.parametrize("role", list(ROWS[0].expected))
def test_matrix(db: None, client: Client, role: str, row) -> None:  # type: ignore[no-untyped-def]
    user = None if role == "anonymous" else make_user(None if role == "outsider" else role)
    someone_else = make_user(None, email="target@example.org")
    objects = {
        "person": someone_else,
        "agreement": Agreement.objects.first(),
        "case_own": make_case(state="triaged", assigned_to=user),
        "case_foreign": make_case(state="triaged", assigned_to=someone_else),
        "case_missing": Case(pk=uuid.uuid4()),
    }
    # A file of each case, for the URLs about one (the user holds no keys to open it).
    objects["evidence_own"] = make_evidence(objects["case_own"])  # type: ignore[arg-type]
    objects["evidence_foreign"] = make_evidence(objects["case_foreign"])  # type: ignore[arg-type]
    # A partner in the registry, and referrals of the user's own partner and of another.
    objects.update(partner_objects(user))
    # A crisis response, template, verifier, task or attestation request, for URLs about one.
    objects.update(objects_about(row.name, user, objects))
    if user is not None:
        sign_in(client, user)
    url = url_for(row.name, objects, row.variant)
    data = post_data(row.name, objects, row.variant)
    response = client.get(url) if row.method == "GET" else client.post(url, data)
    assert _outcome(response) == row.expected[role], f"{row.method} {url} as {role}"

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _post(client: Client, **headers: str):  # type: ignore[no-untyped-def]
    client.get("/staff/sign-in/")
    token = client.cookies["csrftoken"].value
    return client.post(
        "/staff/sign-in/",
        {"email": "a@example.org", "password": "x", "csrfmiddlewaretoken": token},
        **headers,
    )


def test_null_origin_from_same_site_is_accepted() -> None:
    client = Client(enforce_csrf_checks=True)
    response = _post(client, HTTP_ORIGIN="null", HTTP_SEC_FETCH_SITE="same-origin")
    assert response.status_code == 200


@pytest.mark.parametrize("site", ["cross-site", "same-site", "none", ""])
def test_null_origin_from_elsewhere_is_refused(site: str) -> None:
    client = Client(enforce_csrf_checks=True)
    response = _post(client, HTTP_ORIGIN="null", HTTP_SEC_FETCH_SITE=site)
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()


def test_foreign_origin_is_refused_even_when_it_claims_same_origin() -> None:
    client = Client(enforce_csrf_checks=True)
    response = _post(client, HTTP_ORIGIN="https://evil.example", HTTP_SEC_FETCH_SITE="same-origin")
    assert response.status_code == 403


def test_missing_token_is_refused_with_null_origin() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/staff/sign-in/",
        {"email": "a@example.org"},
        HTTP_ORIGIN="null",
        HTTP_SEC_FETCH_SITE="same-origin",
    )
    assert response.status_code == 403

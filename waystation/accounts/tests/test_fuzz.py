"""Random input to every sign-in, enrolment and agreement form never causes a server error."""

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import make_user, sign_in
from waystation.accounts.models import Role

pytestmark = pytest.mark.django_db

text = st.text(max_size=300) | st.sampled_from(["", " ", "0" * 6, "\x00", "١٢٣٤٥٦", "a" * 5000])
fields = st.dictionaries(
    st.sampled_from(
        [
            "email",
            "password",
            "code",
            "accept",
            "next",
            "old_password",
            "new_password1",
            "new_password2",
            "title",
            "body",
            "role",
            "x",
        ]
    ),
    text,
    max_size=6,
)
FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _no_server_error(client: Client, url: str, data: dict[str, str]) -> None:
    clean = {key: value.replace("\x00", "") for key, value in data.items()}
    response = client.post(url, clean)
    assert response.status_code < 500, (url, data)


@FUZZ
@given(data=fields)
def test_sign_in_form(client: Client, data: dict[str, str]) -> None:
    _no_server_error(client, "/staff/sign-in/", data)


@FUZZ
@given(data=fields)
def test_code_and_enrolment_forms(client: Client, data: dict[str, str]) -> None:
    user = make_user(Role.CASEWORKER, enrolled=False)
    client.force_login(user)
    _no_server_error(client, "/staff/account/second-factor/", data)
    _no_server_error(client, "/staff/sign-in/code/", data)


@FUZZ
@given(data=fields)
def test_agreement_and_password_forms(client: Client, data: dict[str, str]) -> None:
    sign_in(client, make_user(Role.COORDINATOR, accepted=False))
    _no_server_error(client, "/staff/agreement/", data)
    _no_server_error(client, "/staff/account/password/", data)
    _no_server_error(client, "/staff/account/confirm/", data)


@FUZZ
@given(data=fields)
def test_coordinator_forms(client: Client, data: dict[str, str]) -> None:
    sign_in(client, make_user(Role.COORDINATOR))
    _no_server_error(client, "/staff/agreements/new/", data)
    _no_server_error(client, "/staff/people/new/", data)

"""Sessions: idle timeout, absolute lifetime, revocation everywhere, re-authentication."""

import time

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import PASSWORD, make_user, next_totp_token, sign_in
from waystation.accounts import services
from waystation.accounts.access import SESSION_AUTH_AT, SESSION_REAUTH_AT, SESSION_SEEN_AT
from waystation.accounts.models import Role
from waystation.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def _age_session(client: Client, key: str, seconds: float) -> None:
    session = client.session
    session[key] = time.time() - seconds
    session.save()


def test_idle_session_ends(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, make_user(Role.CASEWORKER))
    _age_session(client, SESSION_SEEN_AT, settings.SESSION_IDLE_TIMEOUT.total_seconds() + 1)
    response = client.get("/staff/")
    assert response["Location"].startswith("/staff/sign-in/")
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(
        action="accounts.session.ended", details__reason="timeout"
    ).exists()


def test_active_session_stays(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, make_user(Role.CASEWORKER))
    _age_session(client, SESSION_SEEN_AT, settings.SESSION_IDLE_TIMEOUT.total_seconds() - 60)
    assert client.get("/staff/").status_code == 200
    assert time.time() - client.session[SESSION_SEEN_AT] < 5


def test_session_ends_after_absolute_lifetime(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, make_user(Role.CASEWORKER))
    _age_session(client, SESSION_AUTH_AT, settings.SESSION_MAX_AGE.total_seconds() + 1)
    assert client.get("/staff/")["Location"].startswith("/staff/sign-in/")


def _two_sessions(user) -> tuple[Client, Client]:  # type: ignore[no-untyped-def]
    first, second = sign_in(Client(), user), sign_in(Client(), user)
    assert first.get("/staff/").status_code == second.get("/staff/").status_code == 200
    return first, second


def test_password_change_ends_other_sessions() -> None:
    user = make_user(Role.CASEWORKER)
    first, second = _two_sessions(user)
    response = first.post(
        "/staff/account/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "quiet river under seven bridges",
            "new_password2": "quiet river under seven bridges",
        },
    )
    assert response.status_code == 302
    assert first.get("/staff/").status_code == 200
    assert second.get("/staff/")["Location"].startswith("/staff/sign-in/")


def test_second_factor_change_ends_other_sessions() -> None:
    user = make_user(Role.CASEWORKER)
    first, second = _two_sessions(user)
    assert first.get("/staff/account/second-factor/").status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert (
        first.post(
            "/staff/account/second-factor/",
            {"code": next_totp_token(device), "password": PASSWORD},
        ).status_code
        == 200
    )
    assert TOTPDevice.objects.filter(user=user).count() == 1
    assert first.get("/staff/").status_code == 200
    assert second.get("/staff/")["Location"].startswith("/staff/sign-in/")


def test_deactivation_ends_sessions(coordinator) -> None:  # type: ignore[no-untyped-def]
    user = make_user(Role.CASEWORKER)
    _first, second = _two_sessions(user)
    services.deactivate_user(user, by=coordinator)
    assert second.get("/staff/")["Location"].startswith("/staff/sign-in/")


def test_sign_out_ends_session_and_clears_site_data(client: Client) -> None:
    sign_in(client, make_user(Role.CASEWORKER))
    response = client.post("/staff/sign-out/")
    assert response["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    assert client.get("/staff/")["Location"].startswith("/staff/sign-in/")


def test_sensitive_action_asks_to_confirm_identity(client: Client) -> None:
    user = make_user(Role.CASEWORKER)
    sign_in(client, user)
    _age_session(client, SESSION_REAUTH_AT, 3600)
    response = client.post("/staff/account/recovery-codes/", {"return_to": "/staff/account/"})
    assert response["Location"] == "/staff/account/confirm/?next=%2Fstaff%2Faccount%2F"
    device = TOTPDevice.objects.get(user=user)
    wrong = client.post(
        "/staff/account/confirm/",
        {
            "password": "not my password at all",
            "code": next_totp_token(device),
            "next": "/staff/account/",
        },
    )
    assert wrong.status_code == 200
    assert "not correct" in wrong.content.decode()
    response = client.post(
        "/staff/account/confirm/",
        {
            "password": PASSWORD,
            "code": next_totp_token(device),
            "next": "/staff/account/",
        },
    )
    assert response["Location"] == "/staff/account/"
    assert client.post("/staff/account/recovery-codes/", {}).status_code == 200


def test_reauth_decorator_keeps_get_target(client: Client) -> None:
    sign_in(client, make_user(Role.COORDINATOR))
    _age_session(client, SESSION_REAUTH_AT, 3600)
    response = client.get("/staff/people/new/")
    assert response["Location"] == "/staff/account/confirm/?next=%2Fstaff%2Fpeople%2Fnew%2F"

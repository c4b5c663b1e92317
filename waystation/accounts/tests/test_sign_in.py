"""Signing in: password, then a second factor that cannot be skipped; throttling without
telling known from unknown addresses."""

import re

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import PASSWORD, make_user, next_totp_token, sign_in, totp_token
from waystation.accounts.models import LoginThrottle, RecoveryCodeDevice, Role, User
from waystation.audit.models import AuditEntry
from waystation.pages.tests.matrix import url_for, url_names

pytestmark = pytest.mark.django_db
CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')


def post_password(client: Client, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/staff/sign-in/", {"email": email, "password": password})


def test_new_account_enrols_then_accepts_agreement_then_works(client: Client) -> None:
    user = make_user(Role.CASEWORKER, enrolled=False, accepted=False)
    response = post_password(client, user.email)
    assert response["Location"].startswith("/staff/account/second-factor/")
    page = client.get(response["Location"])
    assert b"<svg" in page.content
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(
        "/staff/account/second-factor/", {"code": totp_token(device), "password": PASSWORD}
    )
    assert response.status_code == 200
    assert re.search(
        r'class="secret recovery-key">([A-Z2-7]{4}-){12}[A-Z2-7]{4}<', response.content.decode()
    )
    codes = re.findall(r"<li>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</li>", response.content.decode())
    assert len(codes) == 10
    assert RecoveryCodeDevice.objects.get(user=user).remaining == 10
    response = client.get("/staff/")
    assert response["Location"].startswith("/staff/agreement/")
    response = client.post("/staff/agreement/", {"accept": "on", "next": "/staff/"})
    assert response["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200
    actions = set(AuditEntry.objects.filter(actor_id=user.pk).values_list("action", flat=True))
    assert {
        "accounts.login.password_accepted",
        "accounts.user.second_factor_enrolled",
        "accounts.session.started",
        "accounts.agreement.accepted",
    } <= actions


def test_returning_user_signs_in_with_code(client: Client) -> None:
    user = make_user(Role.INTAKE_VOLUNTEER)
    response = post_password(client, user.email)
    assert response["Location"].startswith("/staff/sign-in/code/")
    device = TOTPDevice.objects.get(user=user)
    response = client.post("/staff/sign-in/code/", {"code": totp_token(device), "next": "/staff/"})
    assert response["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200


def test_second_factor_cannot_be_skipped_by_url(client: Client) -> None:
    user = make_user(Role.COORDINATOR)
    post_password(client, user.email)
    open_before_second_factor = {
        "accounts:login",
        "accounts:verify",
        "accounts:logout",
        "accounts:lock",
        "intake:home",
        "set_language",
    }
    objects = {"person": user, "agreement": None}
    for name in sorted(url_names() - open_before_second_factor):
        if name.startswith("accounts:agreement_"):
            continue
        url = url_for(name, objects)
        if not url.startswith("/staff/"):
            continue
        response = client.get(url)
        assert response.status_code == 302, name
        assert response["Location"].startswith("/staff/sign-in/code/"), name


def test_enrolling_a_new_device_needs_the_current_one(client: Client) -> None:
    user = make_user(Role.CASEWORKER)
    post_password(client, user.email)
    response = client.get("/staff/account/second-factor/")
    assert response["Location"].startswith("/staff/sign-in/code/")
    response = client.post("/staff/account/second-factor/", {"code": "123456"})
    assert response["Location"].startswith("/staff/sign-in/code/")
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_totp_code_cannot_be_replayed(client: Client) -> None:
    user = make_user(Role.CASEWORKER)
    device = TOTPDevice.objects.get(user=user)
    code = totp_token(device)
    post_password(client, user.email)
    assert client.post("/staff/sign-in/code/", {"code": code})["Location"] == "/staff/"
    other = Client()
    post_password(other, user.email)
    response = other.post("/staff/sign-in/code/", {"code": code})
    assert response.status_code == 200
    assert "already used" in response.content.decode()
    assert AuditEntry.objects.filter(action="accounts.login.failed", details__factor="otp").exists()


def test_recovery_code_works_once(client: Client) -> None:
    user = make_user(Role.CASEWORKER)
    sign_in(client, user)
    page = client.post("/staff/account/recovery-codes/", {}).content.decode()
    code = re.findall(r"<li>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</li>", page)[0]
    for attempt in range(2):
        other = Client()
        post_password(other, user.email)
        response = other.post("/staff/sign-in/code/", {"code": code.upper()})
        if attempt == 0:
            assert response["Location"] == "/staff/"
        else:
            assert response.status_code == 200
    assert RecoveryCodeDevice.objects.get(user=user).remaining == 9


def _without_csrf(content: bytes) -> bytes:
    return CSRF.sub(b"", content)


def test_unknown_address_and_wrong_password_look_the_same(client: Client) -> None:
    user = make_user(Role.CASEWORKER)
    wrong_password = post_password(client, user.email, "not the password at all")
    unknown = post_password(Client(), "nobody@example.org", "not the password at all")
    assert wrong_password.status_code == unknown.status_code == 200
    assert _without_csrf(wrong_password.content).replace(
        user.email.encode(), b"EMAIL"
    ) == _without_csrf(unknown.content).replace(b"nobody@example.org", b"EMAIL")
    assert AuditEntry.objects.filter(action="accounts.login.failed").count() == 2


def test_typed_address_is_kept_and_password_is_not(client: Client) -> None:
    response = post_password(client, "someone@example.org", "a wrong password 123")
    content = response.content.decode()
    assert 'value="someone@example.org"' in content
    assert "a wrong password 123" not in content


def _wait_out_delays() -> None:
    LoginThrottle.objects.update(blocked_until=None)


@pytest.mark.parametrize("known", [True, False])
def test_five_failures_a_minute_lock_the_address(client: Client, known: bool) -> None:
    user = make_user(Role.CASEWORKER)
    email = user.email if known else "nobody@example.org"
    for _ in range(5):
        _wait_out_delays()
        response = post_password(client, email, "wrong password guess 1")
        assert "not correct" in response.content.decode()
    response = post_password(client, email, PASSWORD)
    assert "Too many attempts" in response.content.decode()
    assert not response.wsgi_request.user.is_authenticated
    assert AuditEntry.objects.filter(action="accounts.login.throttled").count() == 1


def test_delay_grows_with_each_failure(client: Client) -> None:
    user = make_user(Role.CASEWORKER)
    waits = []
    for _ in range(4):
        _wait_out_delays()
        post_password(client, user.email, "wrong password guess 1")
        throttle = LoginThrottle.objects.get()
        waits.append((throttle.blocked_until - timezone.now()).total_seconds())
    assert waits[0] <= 0 < waits[2] < waits[3]
    response = post_password(client, user.email, PASSWORD)
    assert "Too many attempts" in response.content.decode()


def test_success_clears_the_count(client: Client) -> None:
    user = make_user(Role.CASEWORKER)
    post_password(client, user.email, "wrong password guess 1")
    _wait_out_delays()
    assert post_password(client, user.email)["Location"].startswith("/staff/sign-in/code/")
    assert not LoginThrottle.objects.exists()


def test_deactivated_account_cannot_sign_in(client: Client) -> None:
    user = make_user(Role.CASEWORKER, is_active=False)
    response = post_password(client, user.email)
    assert "not correct" in response.content.decode()


def test_locked_account_is_told_only_after_the_right_password(client: Client) -> None:
    user = make_user(Role.CASEWORKER, locked_at=timezone.now())
    assert (
        "not correct" in post_password(client, user.email, "wrong password guess").content.decode()
    )
    _wait_out_delays()
    assert "locked" in post_password(client, user.email).content.decode()


def test_next_must_stay_on_this_site(client: Client) -> None:
    user = make_user(Role.CASEWORKER)
    device = TOTPDevice.objects.get(user=user)
    post_password(client, user.email)
    response = client.post(
        "/staff/sign-in/code/", {"code": next_totp_token(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == "/staff/"


def test_argon2_is_the_configured_hasher() -> None:
    from config import settings as project_settings

    assert project_settings.PASSWORD_HASHERS == ["django.contrib.auth.hashers.Argon2PasswordHasher"]


def test_user_model_has_uuid_and_email_login() -> None:
    user = make_user(Role.HOST, email="Host@Example.org")
    assert user.email == "host@example.org"
    assert len(str(user.pk)) == 36
    assert User.USERNAME_FIELD == "email"

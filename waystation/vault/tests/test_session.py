"""Unlocked keys live only in the session, under a secret only the browser's cookie holds."""

import base64
import time

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import PASSWORD, make_user, next_totp_token, sign_in
from waystation.accounts import services as accounts
from waystation.accounts.access import SESSION_SEEN_AT
from waystation.accounts.models import Membership, Role, Team
from waystation.audit.models import AuditEntry
from waystation.vault import crypto
from waystation.vault import services as vault
from waystation.vault.models import UserKey
from waystation.vault.session import COOKIE, SESSION_KEY

pytestmark = pytest.mark.django_db


def _sign_in_for_real(client: Client, user) -> None:  # type: ignore[no-untyped-def]
    client.post("/staff/sign-in/", {"email": user.email, "password": PASSWORD})
    device = TOTPDevice.objects.get(user=user)
    response = client.post("/staff/sign-in/code/", {"code": next_totp_token(device)})
    assert response.status_code == 302


def _unlock_page(client: Client):  # type: ignore[no-untyped-def]
    return client.get("/staff/unlock/?next=/staff/account/")


def test_sign_in_unlocks_keys_for_the_session(client: Client) -> None:
    user = make_user(Role.CASEWORKER, keys=True)
    _sign_in_for_real(client, user)
    assert _unlock_page(client)["Location"] == "/staff/account/"
    assert client.cookies[COOKIE]["httponly"] and client.cookies[COOKIE]["samesite"] == "Strict"
    assert not client.cookies[COOKIE]["max-age"]


def test_session_store_alone_opens_nothing(client: Client) -> None:
    user = make_user(Role.CASEWORKER, keys=True)
    _sign_in_for_real(client, user)
    private = vault.unlock_with_password(user, PASSWORD).private_key
    rows = b"".join(s.session_data.encode() for s in Session.objects.all())
    assert private not in rows and base64.b64encode(private) not in rows
    sealed = client.session[SESSION_KEY]
    for guess in (b"\x00" * 32, crypto.derive_key(b"x" * 32, b"y")):
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt(guess, base64.b64decode(sealed), f"session-keys:{user.pk}".encode())
    # Without the cookie the same session is locked.
    del client.cookies[COOKIE]
    assert _unlock_page(client).status_code == 200


@pytest.mark.parametrize("ending", ["sign_out", "lock", "idle"])
def test_keys_end_with_the_session(client: Client, ending: str, settings) -> None:  # type: ignore[no-untyped-def]
    user = make_user(Role.CASEWORKER, keys=True)
    _sign_in_for_real(client, user)
    stolen_cookie = client.cookies[COOKIE].value
    if ending == "sign_out":
        response = client.post("/staff/sign-out/")
        assert response.cookies[COOKIE].value == ""
    elif ending == "lock":
        client.post("/staff/lock/")
    else:
        session = client.session
        session[SESSION_SEEN_AT] = time.time() - settings.SESSION_IDLE_TIMEOUT.total_seconds() - 5
        session.save()
        client.get("/staff/")
    assert all(SESSION_KEY not in s.get_decoded() for s in Session.objects.all())
    assert stolen_cookie


def test_user_without_unlocked_keys_is_sent_to_unlock_and_back(client: Client) -> None:
    user = make_user(Role.CASEWORKER, keys=True)
    sign_in(client, user)
    page = _unlock_page(client)
    assert page.status_code == 200
    wrong = client.post(
        "/staff/unlock/", {"password": "wrong password here", "next": "/staff/account/"}
    )
    assert wrong.status_code == 400
    assert "The password or the recovery key is not correct." in wrong.content.decode()
    right = client.post("/staff/unlock/", {"password": PASSWORD, "next": "/staff/account/"})
    assert right["Location"] == "/staff/account/"
    assert _unlock_page(client)["Location"] == "/staff/account/"


def test_recovery_after_a_password_reset(client: Client) -> None:
    coordinator = make_user(Role.COORDINATOR)
    user = make_user(Role.CASEWORKER)
    recovery, _keys = vault.create_user_key(user, PASSWORD)
    one_time = accounts.reset_password(user, by=coordinator)
    user.must_change_password = False
    user.save()
    sign_in(client, user)
    bad = client.post(
        "/staff/unlock/", {"password": one_time, "recovery_key": "ABCD-" * 12 + "ABCD"}
    )
    assert "The password or the recovery key is not correct." in bad.content.decode()
    assert AuditEntry.objects.filter(
        action="accounts.login.failed", details__factor="recovery_key"
    ).exists()
    good = client.post(
        "/staff/unlock/", {"password": one_time, "recovery_key": recovery, "next": "/staff/"}
    )
    assert good["Location"] == "/staff/"
    assert vault.unlock_with_password(user, one_time)


def test_start_over_with_new_keys(client: Client) -> None:
    user = make_user(Role.CASEWORKER, keys=True)
    old_public = bytes(user.vault_key.public_key)
    sign_in(client, user)
    response = client.post("/staff/unlock/", {"password": PASSWORD, "start_over": "on"})
    assert response.status_code == 200 and "recovery-key" in response.content.decode()
    assert bytes(UserKey.objects.get(user=user).public_key) != old_public
    assert AuditEntry.objects.filter(action="vault.user_key.replaced").exists()


def test_signing_in_shares_team_keys_with_new_colleagues(client: Client) -> None:
    team = Team.objects.create(name="Intake", role=Role.INTAKE_VOLUNTEER)
    alice = make_user(None, keys=True)
    Membership.objects.create(team=team, user=alice)
    keyring, key = vault.create_keyring(teams=[team], by=None)
    bob = make_user(None, keys=True)
    Membership.objects.create(team=team, user=bob)
    _sign_in_for_real(client, alice)
    assert vault.open_keyring(keyring, vault.unlock_with_password(bob, PASSWORD)) == key
    assert AuditEntry.objects.filter(action="vault.team_key.shared", actor_id=alice.pk).exists()


def test_unlock_page_needs_the_full_sign_in(client: Client) -> None:
    user = make_user(Role.CASEWORKER, keys=True)
    client.post("/staff/sign-in/", {"email": user.email, "password": PASSWORD})
    assert client.get("/staff/unlock/")["Location"].startswith("/staff/sign-in/code/")

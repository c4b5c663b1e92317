"""Accounts with an end date (surge volunteers): no sign-in after it, sessions end at their
next request, and the account's copies of team keys are taken back."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from conftest import PASSWORD, make_user, sign_in
from waystation.accounts import services
from waystation.accounts.models import Membership, Role, Team, User
from waystation.audit.models import AuditEntry
from waystation.vault import services as vault
from waystation.vault.models import TeamKey, TeamKeyCopy

pytestmark = pytest.mark.django_db


def _ended(minutes: int = 1) -> object:
    return timezone.now() - timedelta(minutes=minutes)


def test_expired_account_cannot_sign_in(client: Client) -> None:
    user = make_user(Role.SURGE_VOLUNTEER, expires_at=_ended())
    response = client.post("/staff/sign-in/", {"email": user.email, "password": PASSWORD})
    content = response.content.decode()
    assert response.status_code == 200 and "This account has expired." in content
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(
        action="accounts.login.refused_expired", object_id=user.pk
    ).exists()


def test_a_wrong_password_does_not_tell_the_account_expired(client: Client) -> None:
    user = make_user(Role.SURGE_VOLUNTEER, expires_at=_ended())
    response = client.post("/staff/sign-in/", {"email": user.email, "password": "wrong guess 1"})
    content = response.content.decode()
    assert "The e-mail address or the password is not correct." in content
    assert "expired" not in content


def test_an_account_signs_in_until_its_end(client: Client) -> None:
    user = make_user(Role.SURGE_VOLUNTEER, expires_at=timezone.now() + timedelta(days=1))
    response = client.post("/staff/sign-in/", {"email": user.email, "password": PASSWORD})
    assert response["Location"].startswith("/staff/sign-in/code/")


def test_sessions_end_at_their_first_request_after_the_end() -> None:
    user = make_user(Role.SURGE_VOLUNTEER, expires_at=timezone.now() + timedelta(hours=1))
    first, second = sign_in(Client(), user), sign_in(Client(), user)
    assert first.get("/staff/").status_code == 200
    User.objects.filter(pk=user.pk).update(expires_at=_ended())
    response = first.get("/staff/", follow=True)
    assert response.redirect_chain[0][0].startswith("/staff/sign-in/")
    assert "This account has expired, so you were signed out." in response.content.decode()
    assert "_auth_user_id" not in first.session
    assert second.get("/staff/")["Location"].startswith("/staff/sign-in/")
    assert AuditEntry.objects.filter(
        action="accounts.session.ended", details__reason="expired", object_id=user.pk
    ).exists()


def _team_with_two_holders() -> tuple[Team, User, User]:
    team = Team.objects.create(name="Surge team", role=Role.SURGE_VOLUNTEER)
    staying = make_user(None, keys=True, expires_at=timezone.now() + timedelta(days=5))
    leaving = make_user(None, keys=True, expires_at=timezone.now() + timedelta(days=5))
    for member in (staying, leaving):
        Membership.objects.create(team=team, user=member)
    vault.ensure_team_key(team)
    assert TeamKeyCopy.objects.filter(team_key__team=team).count() == 2
    return team, staying, leaving


def test_expired_accounts_lose_their_team_keys_and_the_team_key_rotates() -> None:
    team, staying, leaving = _team_with_two_holders()
    User.objects.filter(pk=leaving.pk).update(expires_at=_ended())
    assert services.end_expired_accounts() == 1
    assert not TeamKeyCopy.objects.filter(user=leaving).exists()
    current = vault.current_team_key(team)
    assert current is not None and current.version == 2
    assert list(current.copies.values_list("user_id", flat=True)) == [staying.pk]
    entry = AuditEntry.objects.get(action="accounts.user.expired")
    assert entry.object_id == leaving.pk and entry.actor_id is None
    assert services.end_expired_accounts() == 0


def test_the_daily_command_ends_expired_accounts(capsys) -> None:  # type: ignore[no-untyped-def]
    _team, _staying, leaving = _team_with_two_holders()
    User.objects.filter(pk=leaving.pk).update(expires_at=_ended())
    call_command("end_expired_accounts")
    assert "accounts ended: 1" in capsys.readouterr().out


def test_a_sign_in_after_the_end_takes_the_keys_back_at_once(client: Client) -> None:
    _team, _staying, leaving = _team_with_two_holders()
    User.objects.filter(pk=leaving.pk).update(expires_at=_ended())
    client.post("/staff/sign-in/", {"email": leaving.email, "password": PASSWORD})
    assert not TeamKeyCopy.objects.filter(user=leaving).exists()


def test_colleagues_share_no_team_key_with_an_expired_account() -> None:
    team, staying, leaving = _team_with_two_holders()
    TeamKeyCopy.objects.filter(user=leaving).delete()
    User.objects.filter(pk=leaving.pk).update(expires_at=_ended())
    assert vault.share_team_keys(vault.unlock_with_password(staying, PASSWORD), by=staying) == 0
    assert not TeamKeyCopy.objects.filter(user=leaving).exists()
    assert TeamKey.objects.filter(team=team).count() == 1


def test_ending_an_account_early_ends_its_sessions(coordinator: User) -> None:
    _team, _staying, leaving = _team_with_two_holders()
    session = sign_in(Client(), leaving)
    assert services.end_account(leaving, by=coordinator)
    leaving.refresh_from_db()
    assert leaving.has_expired()
    assert session.get("/staff/")["Location"].startswith("/staff/sign-in/")
    assert not TeamKeyCopy.objects.filter(user=leaving).exists()
    entry = AuditEntry.objects.get(action="accounts.user.ended")
    assert entry.actor_id == coordinator.pk and entry.object_id == leaving.pk

"""'Lock me out now': every session ends at once, coordinators get a content-free alert."""

import pytest
from django.core import mail
from django.test import Client

from conftest import PASSWORD, make_user, sign_in
from waystation.accounts.models import Role
from waystation.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_lock_ends_every_session_and_alerts_coordinators(
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    coordinator = make_user(Role.COORDINATOR)
    user = make_user(Role.CASEWORKER, email="sam.caseworker@example.org")
    first, second = sign_in(Client(), user), sign_in(Client(), user)
    with django_capture_on_commit_callbacks(execute=True):
        response = first.post("/staff/lock/")
    assert response.status_code == 200
    assert response["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    user.refresh_from_db()
    assert user.locked_at is not None
    for client in (first, second):
        assert client.get("/staff/")["Location"].startswith("/staff/sign-in/")
    assert len(mail.outbox) == 1
    alert = mail.outbox[0]
    assert alert.to == [coordinator.email]
    assert "sam" not in (alert.subject + alert.body).lower()
    assert user.email not in alert.body
    assert AuditEntry.objects.filter(action="accounts.user.locked", object_id=user.pk).exists()


def test_lock_button_is_on_every_staff_page(client: Client) -> None:
    sign_in(client, make_user(Role.COORDINATOR))
    for url in ("/staff/", "/staff/account/", "/staff/people/", "/staff/audit/"):
        assert b'action="/staff/lock/"' in client.get(url).content, url


def test_locked_user_stays_out_until_unlocked(client: Client) -> None:
    coordinator = make_user(Role.COORDINATOR)
    user = make_user(Role.CASEWORKER)
    sign_in(client, user).post("/staff/lock/")
    response = client.post("/staff/sign-in/", {"email": user.email, "password": PASSWORD})
    assert "locked" in response.content.decode()
    admin = sign_in(Client(), coordinator)
    assert admin.post(f"/staff/people/{user.pk}/unlock/")["Location"] == f"/staff/people/{user.pk}/"
    response = client.post("/staff/sign-in/", {"email": user.email, "password": PASSWORD})
    assert response["Location"].startswith("/staff/sign-in/code/")
    assert AuditEntry.objects.filter(
        action="accounts.user.unlocked", actor_id=coordinator.pk
    ).exists()


def test_lock_works_before_the_second_factor(client: Client) -> None:
    user = make_user(Role.CASEWORKER)
    client.post("/staff/sign-in/", {"email": user.email, "password": PASSWORD})
    assert client.post("/staff/lock/").status_code == 200
    user.refresh_from_db()
    assert user.locked_at is not None

"""Coordinators manage accounts; every change is audited and nobody else can reach it."""

import re

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import make_user, sign_in
from waystation.accounts.models import Membership, Role, Team, User
from waystation.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_coordinator_creates_an_account_with_a_one_time_password(
    coordinator_client: Client,
) -> None:
    team = Team.objects.create(name="Intake", role=Role.INTAKE_VOLUNTEER)
    response = coordinator_client.post(
        "/staff/people/new/",
        {
            "email": "New.Person@Example.org",
            "display_name": "Noor",
            "teams": [str(team.pk)],
        },
    )
    assert response.status_code == 200
    password = re.search(r'<p class="secret">([^<]+)</p>', response.content.decode()).group(1)
    person = User.objects.get(email="new.person@example.org")
    assert person.must_change_password and person.check_password(password)
    assert person.roles == {Role.INTAKE_VOLUNTEER}
    assert AuditEntry.objects.filter(action="accounts.user.created", object_id=person.pk).exists()

    client = Client()
    client.post("/staff/sign-in/", {"email": person.email, "password": password})
    assert client.get("/staff/")["Location"].startswith("/staff/account/second-factor/")


def test_duplicate_address_is_refused_and_typed_values_kept(coordinator_client: Client) -> None:
    make_user(Role.HOST, email="taken@example.org")
    response = coordinator_client.post(
        "/staff/people/new/",
        {
            "email": "taken@example.org",
            "display_name": "Kept name",
        },
    )
    content = response.content.decode()
    assert "already exists" in content and 'value="Kept name"' in content


def test_temporary_password_must_be_changed_before_anything_else(client: Client) -> None:
    user = make_user(Role.CASEWORKER, must_change_password=True)
    sign_in(client, user)
    assert client.get("/staff/")["Location"].startswith("/staff/account/password/")


def test_demo_password_must_be_changed_outside_demo_mode(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    user = make_user(Role.CASEWORKER, is_demo=True)
    sign_in(client, user)
    settings.DEMO_MODE = True
    assert client.get("/staff/").status_code == 200
    settings.DEMO_MODE = False
    assert client.get("/staff/")["Location"].startswith("/staff/account/password/")


def test_teams_are_set_and_audited(coordinator_client: Client) -> None:
    person = make_user(Role.HOST)
    team = Team.objects.create(name="Committee", role=Role.COMMITTEE_MEMBER)
    response = coordinator_client.post(
        f"/staff/people/{person.pk}/teams/", {"teams": [str(team.pk)]}
    )
    assert response.status_code == 302
    assert list(Membership.objects.filter(user=person).values_list("team", flat=True)) == [team.pk]
    actions = list(
        AuditEntry.objects.filter(action__startswith="accounts.team.").values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == ["accounts.team.member_added", "accounts.team.member_removed"]


def test_reset_second_factor_forces_new_enrolment(coordinator_client: Client) -> None:
    person = make_user(Role.HOST)
    session = sign_in(Client(), person)
    coordinator_client.post(f"/staff/people/{person.pk}/reset-second-factor/")
    assert not TOTPDevice.objects.filter(user=person).exists()
    assert session.get("/staff/")["Location"].startswith("/staff/sign-in/")


def test_deactivate_and_reactivate(coordinator_client: Client) -> None:
    person = make_user(Role.HOST)
    coordinator_client.post(f"/staff/people/{person.pk}/deactivate/")
    person.refresh_from_db()
    assert not person.is_active
    coordinator_client.post(f"/staff/people/{person.pk}/reactivate/")
    person.refresh_from_db()
    assert person.is_active


def test_people_list_is_one_query_per_table(
    coordinator_client: Client,  # type: ignore[no-untyped-def]
    django_assert_max_num_queries,
) -> None:
    for _ in range(20):
        make_user(Role.HOST)
    with django_assert_max_num_queries(12):
        assert coordinator_client.get("/staff/people/").status_code == 200


def test_outsider_gets_404(client: Client, outsider: User) -> None:
    sign_in(client, outsider)
    target = make_user(Role.HOST)
    for url in ("/staff/people/", f"/staff/people/{target.pk}/", "/staff/people/new/"):
        assert client.get(url).status_code == 404
    assert client.post(f"/staff/people/{target.pk}/deactivate/").status_code == 404
    target.refresh_from_db()
    assert target.is_active


def test_missing_person_gets_404(coordinator_client: Client) -> None:
    assert (
        coordinator_client.get("/staff/people/00000000-0000-0000-0000-000000000000/").status_code
        == 404
    )


def test_action_messages_are_in_the_coordinators_language(
    coordinator_client: Client, settings
) -> None:  # type: ignore[no-untyped-def]
    person = make_user(Role.HOST)
    coordinator_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    response = coordinator_client.post(f"/staff/people/{person.pk}/deactivate/", follow=True)
    assert "The account is deactivated" not in response.content.decode()

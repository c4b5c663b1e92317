"""Bulk triage's "give to a caseworker team": every case ticked is sealed to the team, each
audited, and nothing is done when one case is stale or the user's keys do not open it."""

import pytest
from django.test import Client

from conftest import PASSWORD, make_user, sign_in
from waystation.accounts.models import Role, Team, User
from waystation.audit.models import AuditEntry
from waystation.cases.models import Case
from waystation.vault import services as vault
from waystation.vault.models import KeyringGrant

from .conftest import ask
from .factories import make_case

pytestmark = pytest.mark.django_db


def _tick(*cases: Case) -> list[str]:
    return [f"{case.pk}:{case.version}" for case in cases]


def _unlocked_volunteer(client: Client) -> User:
    """An intake volunteer whose unlocked keys open the requests `ask` stores."""
    volunteer = make_user(Role.INTAKE_VOLUNTEER, keys=True)
    vault.ensure_team_key(Team.objects.get(memberships__user=volunteer))
    sign_in(client, volunteer)
    client.post("/staff/unlock/", {"password": PASSWORD})
    return volunteer


def _caseworkers() -> tuple[User, Team]:
    caseworker = make_user(Role.CASEWORKER, keys=True)
    return caseworker, Team.objects.get(memberships__user=caseworker)


def _give(client: Client, ticked: list[str], team: Team) -> str:
    response = client.post(
        "/staff/cases/bulk/", {"chosen": ticked, "action": "assign", "team": team.pk}, follow=True
    )
    return response.content.decode()


def _nothing_given(team: Team, cases: list[Case]) -> None:
    for case in cases:
        case.refresh_from_db()
        assert case.team is None
    assert not KeyringGrant.objects.filter(team_key__team=team).exists()
    assert not AuditEntry.objects.filter(action="cases.case.assigned").exists()
    assert not AuditEntry.objects.filter(action="vault.keyring.granted").exists()


def test_every_case_ticked_is_sealed_to_the_team_each_audited(client: Client) -> None:
    _unlocked_volunteer(client)
    cases = [ask().case for _ in range(3)]  # type: ignore[attr-defined]
    caseworker, team = _caseworkers()
    assert "3 cases changed." in _give(client, _tick(*cases), team)
    keys = vault.unlock_with_password(caseworker, PASSWORD)
    for case in cases:
        case.refresh_from_db()
        assert case.team == team and case.version == 2
        assert vault.open_keyring(case.keyring, keys)  # the team reads it now
    assigned = AuditEntry.objects.filter(action="cases.case.assigned")
    assert sorted(entry.object_id for entry in assigned) == sorted(case.pk for case in cases)
    assert {entry.details["team"] for entry in assigned} == {str(team.pk)}
    reader = sign_in(Client(), caseworker)
    assert reader.get(f"/staff/cases/{cases[0].pk}/").status_code == 200


def test_the_person_a_case_is_assigned_to_keeps_it(client: Client) -> None:
    volunteer = _unlocked_volunteer(client)
    case = ask().case  # type: ignore[attr-defined]
    Case.objects.filter(pk=case.pk).update(assigned_to=volunteer)
    _caseworker, team = _caseworkers()
    assert "1 case changed." in _give(client, _tick(case), team)
    case.refresh_from_db()
    assert (case.team, case.assigned_to) == (team, volunteer)
    assert not AuditEntry.objects.filter(action="vault.keyring.revoked").exists()


def test_a_case_changed_since_it_was_ticked_stops_the_whole_action(client: Client) -> None:
    _unlocked_volunteer(client)
    cases = [ask().case for _ in range(3)]  # type: ignore[attr-defined]
    ticked = _tick(*cases)
    Case.objects.filter(pk=cases[2].pk).update(version=2)
    _caseworker, team = _caseworkers()
    page = _give(client, ticked, team)
    assert f"Nothing was changed. Case {cases[2].reference}: Someone else changed" in page
    _nothing_given(team, cases)
    assert [case.version for case in cases] == [1, 1, 2]


def test_a_case_the_users_keys_do_not_open_stops_the_whole_action(client: Client) -> None:
    _unlocked_volunteer(client)
    readable = [ask().case for _ in range(2)]  # type: ignore[attr-defined]
    sealed_elsewhere = make_case()  # in the intake queue, sealed to no key of theirs
    _caseworker, team = _caseworkers()
    page = _give(client, _tick(*readable, sealed_elsewhere), team)
    assert (
        f"Nothing was changed. Case {sealed_elsewhere.reference}: "
        "Your keys do not open this case." in page
    )
    _nothing_given(team, [*readable, sealed_elsewhere])


def test_giving_to_a_team_needs_unlocked_keys(client: Client) -> None:
    volunteer = make_user(Role.INTAKE_VOLUNTEER, keys=True)
    case = make_case(assigned_to=volunteer)
    sign_in(client, volunteer)  # keys still locked
    _caseworker, team = _caseworkers()
    assert "Unlock your keys first: assigning seals the case key." in _give(
        client, _tick(case), team
    )
    case.refresh_from_db()
    assert case.team is None and case.version == 1

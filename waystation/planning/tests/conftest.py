import pytest
from django.test import Client

from waystation.accounts.models import Team
from waystation.cases.models import Case
from waystation.cases.tests.conftest import intake_team  # noqa: F401 - a fixture
from waystation.verification.tests.conftest import (  # noqa: F401 - a fixture
    caseworkers,
    in_verification,
    member,
    unlocked,
)
from waystation.verification.tests.factories import verify


def verified_case(intake_team: Team, caseworkers: Team, **answers: str) -> Case:  # noqa: F811
    """A request stored as the public form stores it, sealed to the caseworker team,
    verified by two people and assigned to the team's first member."""
    case = in_verification(intake_team, caseworkers, **answers)
    verify(case)
    Case.objects.filter(pk=case.pk).update(assigned_to=member(caseworkers))
    case.refresh_from_db()
    return case


@pytest.fixture
def case(intake_team: Team, caseworkers: Team) -> Case:  # noqa: F811
    return verified_case(intake_team, caseworkers, name="Amani Okello", country="UG")


@pytest.fixture
def ana(client: Client, caseworkers: Team) -> Client:  # noqa: F811
    """The case's caseworker, signed in with her keys unlocked."""
    return unlocked(client, member(caseworkers))

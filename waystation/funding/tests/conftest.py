from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from conftest import PASSWORD
from waystation.accounts.models import Role, Team, User
from waystation.cases.tests.conftest import intake_team  # noqa: F401 - a fixture
from waystation.funding import services
from waystation.funding.models import Criterion, FundingRequest
from waystation.vault import services as vault
from waystation.verification.tests.conftest import caseworkers, member  # noqa: F401 - fixtures

from .factories import planned_case, rate, team_of


@pytest.fixture
def members(db: None) -> list[User]:
    """The Case Committee: three members with keys."""
    return team_of(Role.COMMITTEE_MEMBER, "cleo", "dara", "emeka")


@pytest.fixture
def finance(db: None) -> list[User]:
    return team_of(Role.FINANCE, "farid", "gita")


@pytest.fixture
def rubric(db: None) -> list[Criterion]:
    return [
        Criterion.objects.create(name="Immediacy of risk", weight=Decimal(3), scale=5, position=0),
        Criterion.objects.create(
            name="Feasibility of the plan", weight=Decimal(1), scale=5, position=1
        ),
    ]


@pytest.fixture
def rates(db: None, settings: Any) -> None:
    settings.FUNDING_CURRENCY = "EUR"
    for code, value in (("UGX", "0.00025"), ("USD", "0.9"), ("CAD", "0.68"), ("KES", "0.007")):
        rate(code, value, on=timezone.localdate() - timedelta(days=1))


def keys_of(user: User) -> vault.UnlockedKeys:
    return vault.unlock_with_password(user, PASSWORD)


def submitted_request(
    intake_team: Team,  # noqa: F811
    caseworkers: Team,  # noqa: F811
    costs: list[tuple[str, str, str]],
    *,
    name: str = "Amani Okello",
    country: str = "UG",
    pathway: str = "inland_asylum",
) -> FundingRequest:
    """A verified, planned case's request with `costs` (category, currency, estimate),
    a clean summary, submitted by its caseworker."""
    case = planned_case(intake_team, caseworkers, pathway=pathway, name=name, country=country)
    ana = member(caseworkers)
    keys = keys_of(ana)
    request = services.create_request(case, by=ana)
    services.set_items(
        request,
        [services.ItemValues(c, cur, Decimal(amount)) for c, cur, amount in costs],
        expected_version=None,
        by=ana,
    )
    request.refresh_from_db()
    services.write_summary(
        request,
        "Threatened by neighbours after a raid; plan verified with a partner.",
        expected_version=None,
        by=ana,
        case_key=vault.open_keyring(case.keyring, keys),
        request_key=vault.open_keyring(request.keyring, keys),
    )
    return services.submit_request(request, expected_version=None, by=ana)

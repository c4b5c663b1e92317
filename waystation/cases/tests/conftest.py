import itertools

import pytest

from conftest import make_user
from waystation.accounts.models import Membership, Role, Team
from waystation.intake import services as intake
from waystation.vault import services as vault

_forms = itertools.count()


@pytest.fixture
def intake_team(db: None) -> Team:
    team = Team.objects.create(name="Intake", role=Role.INTAKE_VOLUNTEER)
    Membership.objects.create(team=team, user=make_user(None, keys=True, email="in@example.org"))
    vault.ensure_team_key(team)
    return team


def ask(risk: str = "now", country: str = "NG", name: str = "", handle: str = "") -> object:
    """A request stored as the public form stores it; returns the request."""
    answers = intake.Answers(
        country=country,
        region="Lagos",
        nationalities="",
        narrative="The police came to my house twice this month.",
        risk=risk,
        organization="",
        documents=["none"],
        name=name,
        channel="phone" if handle else "",
        handle=handle,
    )
    request, _code = intake.submit_request(
        answers, language="en", form_token=f"test-form-{next(_forms)}"
    )
    return request

import itertools
from typing import Any

import pytest

from conftest import make_user
from waystation.accounts.models import Membership, Role, Team, User
from waystation.vault import services as vault

_tokens = itertools.count()


@pytest.fixture
def intake_team(db: None) -> Team:
    """An intake team whose member holds keys: requests can be sealed to it."""
    team = Team.objects.create(name="Intake", role=Role.INTAKE_VOLUNTEER)
    Membership.objects.create(team=team, user=make_user(None, keys=True, email="in@example.org"))
    vault.ensure_team_key(team)
    return team


@pytest.fixture
def keyed_coordinator(db: None) -> User:
    """A coordinator with encryption keys: the coordinator team's key is held."""
    return make_user(Role.COORDINATOR, keys=True)


def referral_data(**overrides: Any) -> dict[str, Any]:
    """What a partner types in the referral form."""
    return {
        "country": "NG",
        "region": "Lagos",
        "nationalities": "Nigerian",
        "narrative": "The police came to her house twice this month.",
        "risk": "now",
        "documents": ["none"],
        "name": "Ada Okafor",
        "channel": "signal",
        "handle": "+234 803 123 4567",
        "safe_times": "evenings",
        "language": "en",
        "consent": "on",
        "member_confirmed": "on",
        "form_token": f"referral-form-{next(_tokens)}",
        **overrides,
    }

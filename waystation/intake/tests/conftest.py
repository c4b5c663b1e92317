import pytest

from conftest import make_user
from waystation.accounts.models import Membership, Role, Team
from waystation.vault import services as vault

ANSWERS = {
    "country": "NG",
    "region": "Lagos",
    "nationalities": "Nigerian",
    "narrative": "My neighbours found out and the police came to my house twice.",
    "risk": "now",
    "organization": "",
    "documents": ["national_id"],
    "name": "Ada",
    "channel": "signal",
    "handle": "+234 803 123 4567",
    "safe_times": "evenings",
    "no_messages": "on",
    "language": "en",
    "consent": "on",
    "website": "",
}


@pytest.fixture
def intake_team(db: None) -> Team:
    """The intake team, with one member who has keys, so requests can be sealed to it."""
    team = Team.objects.create(name="Intake", role=Role.INTAKE_VOLUNTEER)
    Membership.objects.create(team=team, user=make_user(None, keys=True, email="in@example.org"))
    vault.ensure_team_key(team)
    return team


@pytest.fixture(autouse=True)
def _vault_storage(vault_storage):  # type: ignore[no-untyped-def]
    return vault_storage

import itertools

import pytest

from conftest import make_user
from waystation.accounts.models import Membership, Role, Team
from waystation.intake import services as intake
from waystation.intake.models import Evidence
from waystation.vault import crypto, files
from waystation.vault import services as vault

_forms = itertools.count()


@pytest.fixture
def intake_team(db: None) -> Team:
    team = Team.objects.create(name="Intake", role=Role.INTAKE_VOLUNTEER)
    Membership.objects.create(team=team, user=make_user(None, keys=True, email="in@example.org"))
    vault.ensure_team_key(team)
    return team


def ask(
    risk: str = "now",
    country: str = "NG",
    name: str = "",
    handle: str = "",
    narrative: str = "The police came to my house twice this month.",
    partner: str = "",
) -> object:
    """A request stored as the public form stores it; returns the request."""
    answers = intake.Answers(
        country=country,
        region="Lagos",
        nationalities="",
        narrative=narrative,
        risk=risk,
        organization="",
        documents=["none"],
        name=name,
        channel="phone" if handle else "",
        handle=handle,
        partner=partner,
    )
    request, _code = intake.submit_request(
        answers, language="en", form_token=f"test-form-{next(_forms)}"
    )
    return request


def send_file(request: object, data: bytes, name: str = "IMG_0001.jpg") -> Evidence:
    """A file the person sends from the follow-up page, stored as the upload handler stores
    it (needs the `vault_storage` fixture); returns its evidence."""
    file_key = crypto.new_key()
    writer = files.FileWriter(
        request.keyring,  # type: ignore[attr-defined]
        file_key,
        name=name,
        content_type="application/octet-stream",
    )
    writer.write(data)
    return intake.add_evidence(request, writer.close(), file_key)  # type: ignore[arg-type]

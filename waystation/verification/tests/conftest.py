import io

import pytest
from django.test import Client
from PIL import Image

from conftest import PASSWORD, make_user, sign_in
from waystation.accounts.models import Membership, Role, Team, User
from waystation.cases.models import Case, State
from waystation.cases.tests.conftest import ask, intake_team  # noqa: F401 - a fixture
from waystation.intake import services as intake
from waystation.intake.models import Evidence
from waystation.vault import crypto, files
from waystation.vault import services as vault


@pytest.fixture
def caseworkers(db: None) -> Team:
    """A caseworker team of two members with keys, who hold its team key."""
    team = Team.objects.create(name="Caseworkers", role=Role.CASEWORKER)
    for name in ("ana", "ben"):
        Membership.objects.create(
            team=team, user=make_user(None, keys=True, email=f"{name}@example.org")
        )
    vault.ensure_team_key(team)
    return team


def member(team: Team, index: int = 0) -> User:
    return team.memberships.order_by("user__email")[index].user


def in_verification(intake_team: Team, caseworkers: Team, **answers: str) -> Case:  # noqa: F811
    """A request stored as the public form stores it, its case sent to verification with
    the caseworker team (its key sealed to the team, as assigning does)."""
    case = ask(**answers).case  # type: ignore[attr-defined]
    keys = vault.unlock_with_password(intake_team.memberships.get().user, PASSWORD)
    vault.grant_keyring(case.keyring, keys, team=caseworkers, by=member(caseworkers))
    Case.objects.filter(pk=case.pk).update(state=State.IN_VERIFICATION, team=caseworkers)
    case.refresh_from_db()
    return case


def unlocked(client: Client, user: User) -> Client:
    """`user` signed in with their keys unlocked."""
    sign_in(client, user)
    client.post("/staff/unlock/", {"password": PASSWORD})
    return client


def png(colour: str = "blue") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (10, 10), colour).save(out, format="PNG")
    return out.getvalue()


def send_file(case: Case, data: bytes) -> Evidence:
    """A file the person sends from the follow-up page, stored as the upload handler
    stores it (needs the `vault_storage` fixture)."""
    file_key = crypto.new_key()
    writer = files.FileWriter(
        case.keyring, file_key, name="IMG_0001.png", content_type="application/octet-stream"
    )
    writer.write(data)
    return intake.add_evidence(case.request, writer.close(), file_key)

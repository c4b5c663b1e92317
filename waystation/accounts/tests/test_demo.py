import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from waystation.accounts.models import Role, User
from waystation.intake.services import intake_teams
from waystation.partners.models import Partner
from waystation.partners.services import agreement_in_force

pytestmark = pytest.mark.django_db


def test_demo_seed_is_complete_and_idempotent(settings, capsys) -> None:  # type: ignore[no-untyped-def]
    settings.DEMO_MODE = True
    call_command("seed_demo")
    first = capsys.readouterr().out
    call_command("seed_demo")
    again = capsys.readouterr().out
    assert "ready (10 new accounts)" in first and "ready (0 new accounts)" in again
    assert User.objects.count() == len(Role)
    assert {r for u in User.objects.all() for r in u.roles} == {r.value for r in Role}
    assert all(u.is_demo for u in User.objects.all())
    # The public form can seal requests to the demo intake team at once.
    assert intake_teams()
    # The demo partner account refers for a registered partner with an agreement in force.
    partner = Partner.objects.get()
    assert partner.team is not None and partner.team.memberships.get().user.email == (
        "partner@demo.example"
    )
    assert agreement_in_force(partner) is not None
    assert "Demo partner organization" in first


def test_demo_seed_refuses_outside_demo_mode(settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEMO_MODE = False
    with pytest.raises(CommandError):
        call_command("seed_demo")

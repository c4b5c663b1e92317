from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from waystation.accounts.models import Membership, Role, Team, User
from waystation.audit.services import log_action
from waystation.vault import services as vault

DEMO_DOMAIN = "demo.example"
# Printed on purpose; demo accounts must change it outside demo mode.
DEMO_PASSWORD_SUFFIX = "-demo-waystation"  # noqa: S105


def demo_email(role: str) -> str:
    return f"{role.replace('_', '-')}@{DEMO_DOMAIN}"


def demo_password(role: str) -> str:
    return f"{role.replace('_', '-')}{DEMO_PASSWORD_SUFFIX}"


class Command(BaseCommand):
    help = "Create the demo organization: one team and one account per role. Safe to run again."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_MODE:
            raise CommandError("seed_demo runs only with WAYSTATION_DEMO=true.")
        created = 0
        with transaction.atomic():
            for role in Role:
                team, _ = Team.objects.get_or_create(
                    name=f"Demo {role.label}", defaults={"role": role.value}
                )
                user = User.objects.filter(email=demo_email(role.value)).first()
                if user is None:
                    user = User.objects.create_user(
                        demo_email(role.value),
                        demo_password(role.value),
                        display_name=f"Demo {role.label}",
                        is_demo=True,
                    )
                    log_action(None, "accounts.user.created", user, details={"demo": True})
                    created += 1
                Membership.objects.get_or_create(team=team, user=user)
                if not vault.has_keys(user):
                    # Demo accounts get their encryption keys now, so the public form can
                    # seal requests to the demo intake team from the first minute.
                    vault.create_user_key(user, demo_password(role.value))
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo organization ready ({created} new accounts). Sign in at "
                "http://127.0.0.1:8000/staff/sign-in/ with:"
            )
        )
        for role in Role:
            self.stdout.write(
                f"  {role.label:<20} {demo_email(role.value):<34} {demo_password(role.value)}"
            )
        self.stdout.write(
            "At first sign-in each account sets up a second factor: scan the code shown with "
            "any authenticator app (Aegis, FreeOTP, Google Authenticator, 1Password)."
        )

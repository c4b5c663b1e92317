from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError

from waystation.accounts.models import Role, Team
from waystation.accounts.services import create_staff


class Command(BaseCommand):
    help = (
        "Create a staff account with a one-time password, e.g. the first coordinator. "
        "The password is printed once and must be changed at first sign-in."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", required=True, help="display name")
        parser.add_argument("--role", required=True, choices=[r.value for r in Role])
        parser.add_argument("--team", help="team name (default: one team per role)")

    def handle(self, *args: Any, **options: Any) -> None:
        role = options["role"]
        team, _ = Team.objects.get_or_create(
            name=options["team"] or str(Role(role).label), defaults={"role": role}
        )
        if team.role != role:
            raise CommandError(f"Team {team.name!r} has role {team.role}, not {role}.")
        try:
            user, password = create_staff(options["email"], options["name"], [team], by=None)
        except IntegrityError:
            raise CommandError(f"An account with e-mail {options['email']} exists.") from None
        self.stdout.write(f"Created {user.email} in {team.name}. One-time password: {password}")

from typing import Any

from django.core.management.base import BaseCommand

from waystation.accounts.services import end_expired_accounts


class Command(BaseCommand):
    help = "Take back the team keys of accounts past their end date (surge volunteers). Run daily."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"accounts ended: {end_expired_accounts()}")

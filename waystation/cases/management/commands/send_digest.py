from typing import Any

from django.core.management.base import BaseCommand

from waystation.cases.services import send_digests


class Command(BaseCommand):
    help = "E-mail staff how many cases and tasks need them (counts only). Run daily."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"digests sent: {send_digests()}")

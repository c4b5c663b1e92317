"""Bring re-verification forward for verified cases on which a new signal appeared."""

from typing import Any

from django.core.management.base import BaseCommand

from waystation.verification.services import bring_reviews_forward


class Command(BaseCommand):
    help = (
        "Make verified cases with a signal that appeared after their decision due for "
        "re-verification today. Run once a day."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"re-verifications brought forward: {bring_reviews_forward()}")

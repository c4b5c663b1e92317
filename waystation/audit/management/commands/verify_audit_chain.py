from typing import Any

from django.core.management.base import BaseCommand, CommandError

from waystation.audit.services import verify_chain


class Command(BaseCommand):
    help = (
        "Check the audit log's hash chain and report the first altered, inserted or deleted entry."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_chain()
        if report.problem:
            raise CommandError(
                f"{report.problem.message} ({report.checked} entries checked; "
                f"head #{report.head_position})"
            )
        self.stdout.write(
            f"Audit chain intact: {report.checked} entries; head #{report.head_position} "
            f"{report.head_hash}. Keep this head line somewhere else to detect later truncation."
        )

"""Import exchange rates (currency,date,rate) against the reporting currency."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from waystation.funding import services


class Command(BaseCommand):
    help = (
        "Import a CSV of currency,date,rate rows: the value of one unit of each currency in "
        "the reporting currency (WAYSTATION_FUNDING_CURRENCY) on that date. A file with any "
        "problem imports nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--source", default="", help="where the rates come from")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path} is not a file")
        with path.open("rb") as handle:
            try:
                count = services.import_rates(handle, source=options["source"] or path.name)
            except services.ImportRefusedError as refused:
                raise CommandError(
                    "Nothing was imported:\n" + "\n".join(refused.problems[:50])
                ) from refused
        self.stdout.write(f"Imported {count:,} exchange rates from {path.name}.")

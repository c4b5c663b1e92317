"""Import entry requirements by passport from a passport-index "tidy" CSV file."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from waystation.planning import services

from ._imports import date_option, import_file


class Command(BaseCommand):
    help = (
        "Import a passport-index tidy CSV (Passport,Destination,Requirement) as the visa "
        "data set of --as-of. A file with any problem imports nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--as-of", required=True, help="the date the data describes (YYYY-MM-DD)"
        )
        parser.add_argument(
            "--replace", action="store_true", help="replace the data set of that date"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        as_of = date_option("--as-of", options["as_of"])
        path: Path = options["file"]
        dataset = import_file(
            path,
            lambda lines: services.import_visa_requirements(
                lines, as_of=as_of, source=path.name, replace=options["replace"]
            ),
        )
        self.stdout.write(
            f"Imported {dataset.pairs:,} passport and destination pairs as of "
            f"{dataset.as_of.isoformat()} from {dataset.source}."
        )

"""Import entry requirements by passport from a passport-index "tidy" CSV file."""

from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from waystation.planning import services


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
        try:
            as_of = date.fromisoformat(options["as_of"])
        except ValueError as error:
            raise CommandError(
                f"--as-of must be a date as YYYY-MM-DD, not {options['as_of']!r}"
            ) from error
        path: Path = options["file"]
        try:
            with path.open("rb") as lines:
                dataset = services.import_visa_requirements(
                    lines, as_of=as_of, source=path.name, replace=options["replace"]
                )
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error.strerror}") from error
        except services.ImportRefusedError as error:
            raise CommandError(f"{path.name}: nothing imported.\n{error}") from error
        self.stdout.write(
            f"Imported {dataset.pairs:,} passport and destination pairs as of "
            f"{dataset.as_of.isoformat()} from {dataset.source}."
        )

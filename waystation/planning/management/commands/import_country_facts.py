"""Import country facts (legal status, gender recognition, asylum, safety) from a CSV file."""

from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from waystation.planning import services


class Command(BaseCommand):
    help = (
        "Import country facts from a CSV file (columns in waystation/planning/facts.py), each "
        "with --source and --reviewed-on. A file with any problem imports nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--source", required=True, help="where the facts come from")
        parser.add_argument(
            "--reviewed-on", required=True, help="when they were checked (YYYY-MM-DD)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            reviewed_on = date.fromisoformat(options["reviewed_on"])
        except ValueError as error:
            raise CommandError(
                f"--reviewed-on must be a date as YYYY-MM-DD, not {options['reviewed_on']!r}"
            ) from error
        path: Path = options["file"]
        try:
            with path.open("rb") as lines:
                stored = services.import_country_facts(
                    lines, source=options["source"], reviewed_on=reviewed_on
                )
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error.strerror}") from error
        except services.ImportRefusedError as error:
            raise CommandError(f"{path.name}: nothing imported.\n{error}") from error
        self.stdout.write(f"Imported the facts of {len(stored)} countries from {path.name}.")

"""Import country facts (legal status, gender recognition, asylum, safety) from a CSV file."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from waystation.planning import services

from ._imports import date_option, import_file


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
        reviewed_on = date_option("--reviewed-on", options["reviewed_on"])
        path: Path = options["file"]
        stored = import_file(
            path,
            lambda lines: services.import_country_facts(
                lines, source=options["source"], reviewed_on=reviewed_on
            ),
        )
        countries = "1 country" if len(stored) == 1 else f"{len(stored)} countries"
        self.stdout.write(f"Imported the facts of {countries} from {path.name}.")

"""Every write of the planning app."""

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from waystation.audit.services import log_action

from . import facts as country_facts
from . import visa
from .models import FACTS, CountryFacts, VisaDataset, VisaRequirement

BATCH = 5000


class ImportRefusedError(Exception):
    """The file was not imported; `problems` says why, line by line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(visa.report(problems))
        self.problems = problems


def import_visa_requirements(
    lines: Iterable[bytes], *, as_of: date, source: str, replace: bool = False
) -> VisaDataset:
    """Store a passport-index "tidy" file (its lines as bytes) as the data set of `as_of`,
    all in one transaction: a file with any problem stores nothing. Raises
    ImportRefusedError listing every problem by line, and for a date already imported
    unless `replace`, which swaps that date's data set for this one."""
    reading = visa.read(lines)
    if reading.problems:
        raise ImportRefusedError(reading.problems)
    if not reading.pairs:
        raise ImportRefusedError(["the file holds no pairs"])
    with transaction.atomic():
        existing = VisaDataset.objects.select_for_update().filter(as_of=as_of).first()
        if existing is not None:
            if not replace:
                raise ImportRefusedError(
                    [f"a data set as of {as_of.isoformat()} is imported already"]
                )
            existing.delete()
        dataset = VisaDataset.objects.create(
            as_of=as_of, source=source[:200], pairs=len(reading.pairs)
        )
        VisaRequirement.objects.bulk_create(
            (
                VisaRequirement(
                    dataset=dataset,
                    passport=pair.passport,
                    destination=pair.destination,
                    entry=pair.entry,
                    days=pair.days,
                )
                for pair in reading.pairs
            ),
            batch_size=BATCH,
        )
        log_action(
            None,
            "planning.visa_dataset.imported",
            dataset,
            details={
                "as_of": as_of.isoformat(),
                "pairs": len(reading.pairs),
                "replaced": bool(existing),
            },
        )
    return dataset


# The source and review-date columns of each fact (max_penalty goes with relations).
_SOURCED = {fact: (source, reviewed) for fact, source, reviewed in FACTS}
_SOURCED["max_penalty"] = _SOURCED["relations"]


def import_country_facts(
    lines: Iterable[bytes], *, source: str, reviewed_on: date, by: Any = None
) -> list[CountryFacts]:
    """Store the facts of a CSV file (its lines as bytes; see `facts.py` for the columns),
    each with `source` and `reviewed_on`, in one transaction: a file with any problem
    stores nothing. A fact the file leaves empty is kept as it was. Raises
    ImportRefusedError listing every problem by line, and for an empty source."""
    if not source.strip():
        raise ImportRefusedError(["a source is needed: where the facts come from"])
    reading = country_facts.read(lines)
    if reading.problems:
        raise ImportRefusedError(reading.problems)
    if not reading.rows:
        raise ImportRefusedError(["the file holds no countries"])
    stored = []
    with transaction.atomic():
        existing = {
            row.country: row
            for row in CountryFacts.objects.select_for_update().filter(
                country__in=[row.country for row in reading.rows]
            )
        }
        for row in reading.rows:
            record = existing.get(row.country) or CountryFacts(country=row.country)
            for name, value in row.facts.items():
                setattr(record, name, value)
                source_field, reviewed_field = _SOURCED[name]
                setattr(record, source_field, source.strip()[:300])
                setattr(record, reviewed_field, reviewed_on)
            record.updated_at = timezone.now()
            record.save()
            stored.append(record)
        log_action(
            by,
            "planning.country_facts.imported",
            None,
            details={"countries": len(stored), "reviewed_on": reviewed_on.isoformat()},
        )
    return stored


def save_country_facts(record: CountryFacts, *, by: Any) -> CountryFacts:
    """Store a coordinator's change to one country's facts (validated by the form)."""
    with transaction.atomic():
        record.updated_at = timezone.now()
        record.save()
        log_action(
            by, "planning.country_facts.changed", record, details={"country": record.country}
        )
    return record

"""Every write of the planning app."""

from collections.abc import Iterable
from datetime import date

from django.db import transaction

from waystation.audit.services import log_action

from . import visa
from .models import VisaDataset, VisaRequirement

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

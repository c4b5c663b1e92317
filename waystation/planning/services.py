"""Every write of the planning app."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from waystation.accounts.models import User
from waystation.audit.services import log_action
from waystation.cases.access import visible_cases
from waystation.cases.models import Case, State
from waystation.cases.services import transition
from waystation.cases.workflow import TransitionRefusedError
from waystation.verification.services import require_verified

from . import facts as country_facts
from . import visa
from .models import (
    FACTS,
    CountryFacts,
    Milestone,
    Pathway,
    Plan,
    TemplateStep,
    TravelDocument,
    VisaDataset,
    VisaRequirement,
)

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


# --- A case's documents and plan ----------------------------------------------------------
#
# Travel documents, nationalities, the plan and its milestones are travel details: they are
# recorded only for a verified case (`require_verified`, inside the transaction, under the
# case's row lock). Sealed values are encrypted under the case key the writer opened;
# audit entries name ids, kinds and states, never what is sealed.


class StaleError(TransitionRefusedError):
    """The row changed since the form was drawn."""


STALE = gettext_lazy("Someone else changed this while you were working on it. Look again.")


@dataclass(frozen=True)
class DocumentValues:
    """What a document form gives, sealed parts included."""

    kind: str
    status: str
    expires_on: date | None = None
    weeks_to_obtain: int | None = None
    country: str = ""
    number: str = ""
    issued_on: date | None = None
    notes: str = ""


def _verified_case(case: Case) -> Case:
    current = Case.objects.select_for_update().get(pk=case.pk)
    require_verified(current)
    return current


def _fill_document(document: TravelDocument, values: DocumentValues, keyring_key: bytes) -> None:
    document.kind = values.kind
    document.status = values.status
    document.expires_on = values.expires_on
    document.weeks_to_obtain = values.weeks_to_obtain
    document.seal(
        keyring_key,
        country=values.country,
        number=values.number,
        issued_on=values.issued_on.isoformat() if values.issued_on else "",
        notes=values.notes,
    )


def add_document(
    case: Case, values: DocumentValues, *, by: User, keyring_key: bytes
) -> TravelDocument:
    """Record a document the person holds, applied for or could get, its identifying parts
    sealed. Raises TransitionRefusedError for a case that is not verified."""
    with transaction.atomic():
        current = _verified_case(case)
        document = TravelDocument(case=current, keyring_id=current.keyring_id, added_by=by)
        _fill_document(document, values, keyring_key)
        document.save(force_insert=True)
        log_action(
            by,
            "planning.document.added",
            document,
            details={"case": str(current.pk), "kind": values.kind, "status": values.status},
        )
    return document


def change_document(
    document: TravelDocument,
    values: DocumentValues,
    *,
    expected_version: int,
    by: User,
    keyring_key: bytes,
) -> TravelDocument:
    """Change a document. Raises StaleError when someone changed it since `expected_version`
    and TransitionRefusedError for a case that is not verified; changes nothing then."""
    with transaction.atomic():
        _verified_case(document.case)
        current = TravelDocument.objects.select_for_update().get(pk=document.pk)
        if current.version != expected_version:
            raise StaleError(str(STALE))
        _fill_document(current, values, keyring_key)
        current.version += 1
        current.save()
        log_action(
            by,
            "planning.document.changed",
            current,
            details={"case": str(current.case_id), "kind": values.kind, "status": values.status},
        )
    return current


def remove_document(document: TravelDocument, *, expected_version: int, by: User) -> None:
    """Delete a document recorded by mistake (its sealed values go with the row). Raises
    StaleError when it changed since `expected_version`."""
    with transaction.atomic():
        _verified_case(document.case)
        current = TravelDocument.objects.select_for_update().filter(pk=document.pk).first()
        if current is None or current.version != expected_version:
            raise StaleError(str(STALE))
        log_action(by, "planning.document.removed", current, details={"case": str(current.case_id)})
        current.delete()


def _plan_for(case: Case) -> Plan:
    """The case's plan, made on the first write (the caller holds the case's row lock, so
    two first writes cannot both make one; the one-to-one key refuses a second anyway)."""
    plan = Plan.objects.select_for_update().filter(case_id=case.pk).first()
    if plan is None:
        plan = Plan.objects.create(case=case, keyring_id=case.keyring_id)
    return plan


def _checked(plan: Plan, expected_version: int | None) -> None:
    if expected_version is not None and plan.version != expected_version:
        raise StaleError(str(STALE))


def save_nationalities(
    case: Case,
    countries: list[str],
    *,
    expected_version: int | None,
    by: User,
    keyring_key: bytes,
) -> Plan:
    """Seal the person's nationalities (ISO alpha-2 codes) on the case's plan. Raises
    StaleError or TransitionRefusedError, changing nothing."""
    with transaction.atomic():
        current = _verified_case(case)
        plan = _plan_for(current)
        _checked(plan, expected_version)
        plan.seal(keyring_key, nationalities=sorted(set(countries)))
        plan.version += 1
        plan.updated_at = timezone.now()
        plan.save()
        log_action(
            by,
            "planning.plan.nationalities_changed",
            plan,
            details={"case": str(current.pk), "count": len(set(countries))},
        )
    return plan


def choose_pathway(
    case: Case,
    pathway: str,
    *,
    destination: str,
    expected_version: int | None,
    by: User,
    keyring_key: bytes,
) -> Plan:
    """Set the plan's pathway and destination (sealed) and start its milestones from the
    pathway's template, due from today; open milestones of an earlier pathway are marked
    not needed (kept for the timeline). A verified case moves to "planning". Raises
    StaleError or TransitionRefusedError, changing nothing."""
    if pathway not in Pathway.values:
        raise TransitionRefusedError(_("Choose a pathway."))
    with transaction.atomic():
        current = _verified_case(case)
        plan = _plan_for(current)
        _checked(plan, expected_version)
        changed = plan.pathway != pathway
        plan.seal(keyring_key, destination=destination)
        started = 0
        if changed:
            Milestone.objects.filter(plan=plan, state__in=Milestone.OPEN).update(
                state=Milestone.State.SKIPPED
            )
            plan.pathway = pathway
            plan.started_on = timezone.localdate()
            started = _start_milestones(plan, current, by=by, keyring_key=keyring_key)
        plan.version += 1
        plan.updated_at = timezone.now()
        plan.save()
        log_action(
            by,
            "planning.plan.pathway_chosen",
            plan,
            details={"case": str(current.pk), "pathway": pathway, "milestones": started},
        )
        if current.state == State.VERIFIED:
            transition(current, State.PLANNING, by=by)
    return plan


def _start_milestones(plan: Plan, case: Case, *, by: User, keyring_key: bytes) -> int:
    start = plan.started_on or timezone.localdate()
    after = Milestone.objects.filter(plan=plan).count()
    milestones = []
    for offset, step in enumerate(TemplateStep.objects.filter(pathway=plan.pathway)):
        milestone = Milestone(
            plan=plan,
            case=case,
            keyring_id=case.keyring_id,
            position=after + offset,
            owner=step.owner,
            assignee=case.assigned_to or by,
            due_on=start + timedelta(days=step.days),
        )
        milestone.seal(keyring_key, title=step.title)
        milestones.append(milestone)
    Milestone.objects.bulk_create(milestones)
    return len(milestones)


def add_milestone(
    case: Case,
    title: str,
    *,
    owner: str,
    due_on: date | None,
    assignee: User | None,
    by: User,
    keyring_key: bytes,
) -> Milestone:
    """Add a milestone at the end of the case's plan, its title sealed. The staff member
    who answers for it must be able to see the case. Raises TransitionRefusedError."""
    assignee = assignee or by
    if not visible_cases(assignee).filter(pk=case.pk).exists():
        raise TransitionRefusedError(_("Give milestones to someone who works on this case."))
    with transaction.atomic():
        current = _verified_case(case)
        plan = _plan_for(current)
        milestone = Milestone(
            plan=plan,
            case=current,
            keyring_id=current.keyring_id,
            position=Milestone.objects.filter(plan=plan).count(),
            owner=owner,
            assignee=assignee,
            due_on=due_on,
        )
        milestone.seal(keyring_key, title=title)
        milestone.save(force_insert=True)
        log_action(
            by,
            "planning.milestone.added",
            milestone,
            details={"case": str(current.pk), "owner": owner},
        )
    return milestone


def update_milestone(
    milestone: Milestone,
    *,
    state: str,
    due_on: date | None,
    expected_version: int,
    by: User,
) -> Milestone:
    """Change where a milestone stands and when it is due. Raises StaleError or
    TransitionRefusedError, changing nothing."""
    if state not in Milestone.State.values:
        raise TransitionRefusedError(_("Choose where the milestone stands."))
    with transaction.atomic():
        _verified_case(milestone.case)
        current = Milestone.objects.select_for_update().get(pk=milestone.pk)
        if current.version != expected_version:
            raise StaleError(str(STALE))
        previous = current.state
        current.state = state
        current.due_on = due_on
        if state == Milestone.State.DONE and previous != Milestone.State.DONE:
            current.done_at = timezone.now()
        elif state != Milestone.State.DONE:
            current.done_at = None
        current.version += 1
        current.save()
        log_action(
            by,
            "planning.milestone.updated",
            current,
            details={"case": str(current.case_id), "from": previous, "to": state},
        )
    return current


def complete_milestone(milestone: Milestone, *, by: User) -> bool:
    """Mark an open milestone done (from "My tasks"); False when it was not open."""
    with transaction.atomic():
        _verified_case(milestone.case)
        updated = Milestone.objects.filter(pk=milestone.pk, state__in=Milestone.OPEN).update(
            state=Milestone.State.DONE, done_at=timezone.now(), version=F("version") + 1
        )
        if updated:
            log_action(
                by,
                "planning.milestone.updated",
                milestone,
                details={"case": str(milestone.case_id), "to": Milestone.State.DONE},
            )
    return bool(updated)


def save_template(pathway: str, formset: Any, *, by: User) -> int:
    """Store a coordinator's changes to a pathway's template steps (a valid model formset
    of TemplateStep): new, changed and deleted steps in one transaction. Plans started
    already keep their milestones. Returns how many steps the template has."""
    with transaction.atomic():
        steps = formset.save(commit=False)
        for position, step in enumerate(steps):
            step.pathway = pathway
            step.position = position
            step.save()
        for step in formset.deleted_objects:
            step.delete()
        count = TemplateStep.objects.filter(pathway=pathway).count()
        log_action(
            by,
            "planning.template.changed",
            None,
            details={"pathway": pathway, "steps": count},
        )
    return count

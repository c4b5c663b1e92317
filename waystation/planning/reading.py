"""What the planning pages show of a case, decrypted for a reader who opened the case key:
its documents with expiry warnings, the plan and its milestones, and what the destination
options read from the documents. Reads only; the caller reached the case through
`access.py`."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from waystation.cases.models import Case
from waystation.vault import crypto
from waystation.vault.fields import decrypt_value

from .models import Milestone, Plan, TravelDocument
from .visa import country_names

# Many countries refuse a passport valid for less than six months beyond the stay.
VALIDITY_MARGIN = timedelta(days=183)

Kind = TravelDocument.Kind
Status = TravelDocument.Status
NEEDS_COUNTRY = (Kind.PASSPORT, Kind.NATIONAL_ID)
NOT_YET_HELD = (Status.APPLIED, Status.OBTAINABLE)


@dataclass(frozen=True)
class DocumentRow:
    document: TravelDocument
    country: str = ""
    country_name: str = ""
    number: str = ""
    issued_on: date | None = None
    notes: str = ""
    warning: str = ""
    # Its sealed values do not open (altered or damaged): the row shows that alone.
    damaged: bool = False


def expiry_warning(document: TravelDocument, today: date) -> str:
    """Why the document's expiry date matters now, or ""."""
    if document.expires_on is None or document.status not in (Status.HELD, Status.APPLIED):
        return ""
    day = date_format(document.expires_on, "DATE_FORMAT")
    if document.expires_on < today:
        return _("Expired on %(date)s.") % {"date": day}
    if document.expires_on - today < VALIDITY_MARGIN:
        left = (document.expires_on - today).days
        return ngettext(
            "Expires on %(date)s, in %(days)d day: many countries ask for six months of validity.",
            "Expires on %(date)s, in %(days)d days: many countries ask for six months of validity.",
            left,
        ) % {"date": day, "days": left}
    return ""


def document_rows(
    case: Case, keyring_key: bytes | None, *, today: date, language: str
) -> list[DocumentRow]:
    """The case's documents, passports first; sealed parts only with the key."""
    names = dict(country_names(language))
    documents = sorted(
        TravelDocument.objects.filter(case_id=case.pk),
        key=lambda d: (list(Kind.values).index(d.kind), d.added_at),
    )
    rows = []
    for document in documents:
        warning = expiry_warning(document, today)
        if keyring_key is None:
            rows.append(DocumentRow(document, warning=warning))
            continue
        try:
            country = decrypt_value(keyring_key, document, "country") or ""
            issued = decrypt_value(keyring_key, document, "issued_on") or ""
            rows.append(
                DocumentRow(
                    document,
                    country=country,
                    country_name=names.get(country, country),
                    number=decrypt_value(keyring_key, document, "number") or "",
                    issued_on=date.fromisoformat(issued) if issued else None,
                    notes=decrypt_value(keyring_key, document, "notes") or "",
                    warning=warning,
                )
            )
        except (crypto.DecryptionError, ValueError):
            rows.append(DocumentRow(document, warning=warning, damaged=True))
    return rows


@dataclass(frozen=True)
class TravelBasis:
    """What the destination options rest on: the passports and ID cards counted, and notes
    on those left out or assumed."""

    passports: list[str] = field(default_factory=list)
    national_ids: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def travel_basis(rows: list[DocumentRow], *, today: date) -> TravelBasis:
    """The passports and national ID cards the options count: those held and valid today.
    With no valid passport held, those applied for or obtainable, said so. Expired ones and
    refugee travel documents are named in the notes."""
    basis = TravelBasis()
    obtainable: list[DocumentRow] = []
    for row in rows:
        document = row.document
        if row.damaged or (not row.country and document.kind in NEEDS_COUNTRY):
            continue
        valid = document.expires_on is None or document.expires_on >= today
        if document.kind == Kind.REFUGEE_TRAVEL and document.status == Status.HELD:
            basis.notes.append(
                _(
                    "A refugee travel document is held: the visa data does not cover it, so "
                    "check entry with it against each destination's own rules."
                )
            )
        if document.kind not in (Kind.PASSPORT, Kind.NATIONAL_ID):
            continue
        target = basis.passports if document.kind == Kind.PASSPORT else basis.national_ids
        if document.status == Status.HELD and valid:
            target.append(row.country)
        elif document.status == Status.HELD:
            expired = (
                _("The %(country)s passport has expired: it is not counted.")
                if document.kind == Kind.PASSPORT
                else _("The %(country)s national ID card has expired: it is not counted.")
            )
            basis.notes.append(expired % {"country": row.country_name})
        elif document.kind == Kind.PASSPORT and document.status in NOT_YET_HELD:
            obtainable.append(row)
    if not basis.passports and obtainable:
        for row in obtainable:
            basis.passports.append(row.country)
            weeks = row.document.weeks_to_obtain
            basis.notes.append(
                _(
                    "No valid passport is held: these options assume the %(country)s passport, "
                    "which is applied for or can be obtained (%(time)s)."
                )
                % {
                    "country": row.country_name,
                    "time": ngettext("about %(weeks)d week", "about %(weeks)d weeks", weeks)
                    % {"weeks": weeks}
                    if weeks
                    else _("time not known"),
                }
            )
    return basis


@dataclass(frozen=True)
class PlanView:
    plan: Plan | None
    nationalities: list[str] = field(default_factory=list)
    destination: str = ""
    # Each milestone with its title ("" without the key, None when damaged).
    milestones: list[tuple[Milestone, str | None]] = field(default_factory=list)
    damaged: bool = False


def plan_view(case: Case, keyring_key: bytes | None) -> PlanView:
    """The case's plan with its sealed parts opened (with the key), milestones in order."""
    plan = Plan.objects.filter(case_id=case.pk).first()
    if plan is None:
        return PlanView(None)
    milestones = list(plan.milestones.select_related("assignee").order_by("position", "pk"))
    if keyring_key is None:
        return PlanView(plan, milestones=[(m, "") for m in milestones])
    titles: list[tuple[Milestone, str | None]] = []
    for milestone in milestones:
        try:
            titles.append((milestone, decrypt_value(keyring_key, milestone, "title") or ""))
        except crypto.DecryptionError:
            titles.append((milestone, None))
    try:
        nationalities = decrypt_value(keyring_key, plan, "nationalities") or []
        destination = decrypt_value(keyring_key, plan, "destination") or ""
    except crypto.DecryptionError:
        return PlanView(plan, milestones=titles, damaged=True)
    return PlanView(plan, list(nationalities), str(destination), titles)

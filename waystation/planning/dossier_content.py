"""What a case's dossier holds, gathered from the case for a reader who opened its key:
the person as they named themselves, where verification stands, the evidence with the
SHA-256 of each original and the copies chosen, the plan, and the timeline. `dossier.py`
renders and encrypts it; nothing of it is stored.

Evidence judged not genuine or not relevant is left out: a dossier argues a claim.
"""

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from waystation.accounts.models import User
from waystation.audit.services import log_action
from waystation.cases.evidence import NoPreviewError, open_derivative
from waystation.cases.models import Case, CaseEvent
from waystation.cases.signals import signals_for
from waystation.vault import crypto
from waystation.vault.access import UnreadableError
from waystation.vault.fields import decrypt_value
from waystation.verification.models import EvidenceReview
from waystation.verification.services import require_verified
from waystation.verification.sources import (
    EvidenceRow,
    attestation_counts,
    evidence_rows,
    standing,
    with_summaries,
)

from . import dossier
from .models import Pathway
from .reading import plan_view
from .visa import country_names

# Copies of at most this many files go into one dossier (each can be a 30-page PDF).
MAX_INCLUDED = 20


def _rows(case: Case, key: bytes | None) -> list[EvidenceRow]:
    return [
        row
        for row in evidence_rows(case, key)
        if row.status != EvidenceReview.Status.REJECTED and not row.damaged
    ]


def evidence_choices(case: Case, key: bytes | None) -> list[tuple[str, str]]:
    """The files whose clean copy can go into the dossier, as form choices."""
    return [
        (
            str(row.evidence.pk),
            f"{date_format(row.evidence.received_at, 'SHORT_DATE_FORMAT')} · {row.kind_label} · "
            f"{row.status_label}",
        )
        for row in _rows(case, key)
        if row.evidence.derivative_id is not None
    ]


def export_dossier(
    case: Case,
    key: bytes,
    *,
    evidence_ids: list[str],
    passphrase: str,
    language: str,
    by: User,
) -> bytes:
    """The case's dossier as a PDF encrypted to `passphrase`, with the copies of the files
    named in `evidence_ids`. Raises TransitionRefusedError for a case that is not verified
    (or due for re-verification). The PDF is rendered outside any transaction (it takes a
    second or so, which must not hold the case's row lock); the export's audit entry is
    then written under the lock, after checking the case again."""
    require_verified(case)
    content = gather(case, key, evidence_ids=evidence_ids[:MAX_INCLUDED], language=language)
    pdf = dossier.export(content, passphrase)
    with transaction.atomic():
        current = Case.objects.select_for_update().get(pk=case.pk)
        require_verified(current)
        log_action(
            by,
            "planning.dossier.exported",
            current,
            details={
                "evidence_listed": len(content.evidence),
                "evidence_included": sum(1 for item in content.evidence if item.data),
            },
        )
    return pdf


def gather(case: Case, key: bytes, *, evidence_ids: list[str], language: str) -> dossier.Dossier:
    """The dossier's content in `language` (labels and country names)."""
    with translation.override(language):
        names = dict(country_names(language))
        request = case.request
        person = decrypt_value(key, request, "name") or ""
        shown = plan_view(case, key)
        nationalities = [names.get(code, code) for code in shown.nationalities]
        if not nationalities:
            stated = decrypt_value(key, request, "nationalities") or ""
            nationalities = [stated] if stated else []
        return dossier.Dossier(
            reference=case.reference,
            organization=settings.SITE_TITLE,
            prepared_at=timezone.now(),
            language=language,
            person_name=str(person),
            nationalities=nationalities,
            country=names.get(case.country, case.country),
            verified=_verified(case),
            verification=_verification_lines(case),
            verification_summary=_summary(case, key),
            evidence=_evidence(case, key, set(evidence_ids)),
            pathway=str(Pathway(shown.plan.pathway).label)
            if shown.plan and shown.plan.pathway
            else "",
            milestones=[
                (
                    date_format(milestone.due_on, "DATE_FORMAT") if milestone.due_on else "",
                    title or "",
                    str(milestone.get_state_display()),
                )
                for milestone, title in shown.milestones
            ],
            timeline=_timeline(case),
        )


def _verified(case: Case) -> bool:
    shown = standing(case, [], today=timezone.localdate())
    return shown.verified is not None


def _verification_lines(case: Case) -> list[str]:
    codes = [signal.code for signal in signals_for(case)]
    shown = standing(case, codes, today=timezone.localdate())
    lines = []
    if shown.verified is not None and shown.verified.decided_at is not None:
        lines.append(
            _("Verified on %(date)s by two staff members of the organization, independently.")
            % {"date": date_format(shown.verified.decided_at, "DATE_FORMAT")}
        )
    else:
        lines.append(_("Not verified."))
    counts = attestation_counts(case, timezone.now())
    if counts.from_partners:
        lines.append(
            ngettext(
                "%(count)d partner organization that knows the person confirmed the account.",
                "%(count)d partner organizations that know the person confirmed the account.",
                counts.from_partners,
            )
            % {"count": counts.from_partners}
        )
    if counts.from_individuals:
        lines.append(
            ngettext(
                "%(count)d individual verifier confirmed the account.",
                "%(count)d individual verifiers confirmed the account.",
                counts.from_individuals,
            )
            % {"count": counts.from_individuals}
        )
    return lines


def _summary(case: Case, key: bytes) -> str:
    shown = standing(case, [], today=timezone.localdate())
    if shown.verified is None:
        return ""
    return next(
        (summary for decision, summary in with_summaries([shown.verified], key) if summary), ""
    )


def _evidence(case: Case, key: bytes, chosen: set[str]) -> list[dossier.DossierEvidence]:
    items = []
    for row in _rows(case, key):
        content_type, data = "", None
        if str(row.evidence.pk) in chosen:
            try:
                copy = open_derivative(case, row.evidence, key)
                data = b"".join(copy.chunks)
                content_type = copy.content_type
            except (NoPreviewError, UnreadableError, crypto.DecryptionError):
                data = None
        items.append(
            dossier.DossierEvidence(
                received_at=row.evidence.received_at,
                kind=row.kind_label,
                review=row.status_label,
                sha256=row.sha256,
                content_type=content_type,
                data=data,
            )
        )
    return items


def _timeline(case: Case) -> list[dossier.DossierEvent]:
    """What happened and when: the case's events, by labels only (no names of staff: the
    dossier leaves the organization)."""
    events = [dossier.DossierEvent(at=case.received_at, text=_("Request for help received"))]
    for event in case.events.order_by("at", "pk"):
        if event.kind == CaseEvent.Kind.STATE:
            text = f"{event.get_from_state_display()} → {event.get_to_state_display()}"
        else:
            text = str(event.get_kind_display())
        events.append(dossier.DossierEvent(at=event.at, text=text))
    return events

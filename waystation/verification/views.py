"""Staff pages for verification: a case's evidence, sources and decisions, and the list of
cases in verification or due for re-verification."""

import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from waystation.accounts.access import role_required, staff_user
from waystation.accounts.models import User
from waystation.audit.services import log_action
from waystation.cases.access import visible_cases
from waystation.cases.models import Case
from waystation.cases.signals import signals_for
from waystation.cases.workflow import TransitionRefusedError
from waystation.intake.services import EvidenceRefusedError
from waystation.vault import crypto
from waystation.vault.access import NotUnlockedError, keyring_key, open_sealed_fields
from waystation.vault.services import KeysUnavailableError
from waystation.vault.session import keys_for
from waystation.vault.uploads import EncryptingUploadHandler, csrf_protect

from . import services
from .access import (
    OVERVIEW_ROLES,
    VERIFICATION_ROLES,
    cases_in_verification,
    due_by_date,
    get_case_for_verification,
    get_evidence_of_case,
    openable,
)
from .forms import DecisionForm, EvidenceForm, ProposalForm, ReviewForm, ShareForm
from .models import Decision
from .sources import attestation_counts, evidence_rows, review_counts, standing, with_summaries

# The request's fields the signal rules may read (the case page opens the same ones).
SIGNAL_FIELDS = [
    "name",
    "nationalities",
    "narrative",
    "organization",
    "partner",
    "documents",
    "contact",
]
DECIDED = {
    Decision.Outcome.VERIFIED: gettext_lazy(
        "Proposed as verified. A different staff member must confirm it."
    ),
    Decision.Outcome.DECLINED: gettext_lazy("The case is declined."),
    Decision.Outcome.MORE_INFORMATION: gettext_lazy(
        "The person is asked for more information on their follow-up page."
    ),
}
UNLOCK = gettext_lazy("Unlock your keys first: this is sealed with the case key.")
LIST_LIMIT = 200


def _key(request: HttpRequest, case: Case) -> bytes | None:
    try:
        return keyring_key(request, case.keyring)
    except (NotUnlockedError, KeysUnavailableError):
        return None


def _prefix(evidence_pk: Any) -> str:
    return f"review-{evidence_pk}"


def _page(request: HttpRequest, case: Case, *, status: int = 200, **forms: Any) -> HttpResponse:
    """The verification page; `forms` replaces the blank forms with bound ones (with their
    errors): review (a pair of evidence id and form), evidence, decision, proposal, share."""
    user, key, why_not = staff_user(request), None, ""
    try:
        key = keyring_key(request, case.keyring)
    except NotUnlockedError:
        why_not = "locked"
    except KeysUnavailableError:
        why_not = "no_keys"
    content = open_sealed_fields(request, case.request, SIGNAL_FIELDS) if key else None
    signals = signals_for(case, content)
    rows = evidence_rows(case, key)
    shown = standing(case, [signal.code for signal in signals], today=timezone.localdate())
    if key is not None:
        log_action(user, "verification.case.read", case)
    failed_pk, failed_form = forms.get("review") or (None, None)
    reviews = [
        (
            row,
            failed_form
            if row.evidence.pk == failed_pk
            else ReviewForm(
                prefix=_prefix(row.evidence.pk),
                initial={
                    "kind": row.review.kind if row.review else "other",
                    "status": row.status,
                    "notes": row.notes,
                    "version": row.version,
                },
            ),
        )
        for row in rows
    ]
    return render(
        request,
        "verification/case_verification.html",
        {
            "case": case,
            "why_not": why_not,
            "signals": signals,
            "reviews": reviews,
            "review_counts": review_counts(rows),
            "attestations": attestation_counts(case, timezone.now()),
            "standing": shown,
            "history": with_summaries(shown.history, key),
            "evidence_form": forms.get("evidence") or EvidenceForm(),
            "decision_form": forms.get("decision")
            or DecisionForm(case=case, initial={"version": case.version}),
            "proposal_form": forms.get("proposal"),
            "share_form": forms.get("share") or ShareForm(),
            "max_mb": settings.EVIDENCE_MAX_BYTES // (1024 * 1024),
        },
        status=status,
    )


def _after(user: User, case: Case) -> HttpResponse:
    # A verifier loses sight of a case once it leaves verification.
    if not visible_cases(user).filter(pk=case.pk).exists():
        return redirect("verification:overview")
    return redirect("verification:case", pk=case.pk)


@role_required(*OVERVIEW_ROLES)
@require_http_methods(["GET"])
def overview(request: HttpRequest) -> HttpResponse:
    user, today = staff_user(request), timezone.localdate()
    due = list(due_by_date(user, today)[:LIST_LIMIT])
    links = openable(user, [decision.case_id for decision in due])
    return render(
        request,
        "verification/verification_overview.html",
        {
            "cases": cases_in_verification(user)[:LIST_LIMIT],
            "due": [(decision, decision.case_id in links) for decision in due],
            "limit": LIST_LIMIT,
        },
    )


@role_required(*VERIFICATION_ROLES)
@require_http_methods(["GET"])
def case_verification(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    return _page(request, get_case_for_verification(staff_user(request), pk))


@role_required(*VERIFICATION_ROLES)
@require_POST
def review(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    case = get_case_for_verification(user, pk)
    evidence = get_evidence_of_case(case, request.POST.get("evidence"))
    form = ReviewForm(request.POST, prefix=_prefix(evidence.pk))
    key = _key(request, case)
    if form.is_valid() and key is None:
        form.add_error(None, UNLOCK)
    if not form.is_valid() or key is None:
        return _page(request, case, status=400, review=(evidence.pk, form))
    data = form.cleaned_data
    try:
        services.review_evidence(
            case,
            evidence,
            kind=data["kind"],
            status=data["status"],
            notes=data["notes"],
            by=user,
            keyring_key=key,
            expected_version=data["version"],
        )
    except TransitionRefusedError as refused:
        form.add_error(None, refused.message)
        return _page(request, case, status=400, review=(evidence.pk, form))
    messages.success(request, _("The review is saved."))
    return redirect("verification:case", pk=case.pk)


# The upload is encrypted as it arrives (vault.uploads): the handler goes in before anything
# reads the body, so the CSRF check comes after it, in _receive_evidence.
@csrf_exempt
@role_required(*VERIFICATION_ROLES)
@require_POST
def evidence_add(request: HttpRequest, pk: uuid.UUID) -> HttpResponseBase:
    case = get_case_for_verification(staff_user(request), pk)
    file_key = crypto.new_key()
    handler = EncryptingUploadHandler(case.keyring, file_key, max_bytes=settings.EVIDENCE_MAX_BYTES)
    request.upload_handlers = [handler]
    return _receive_evidence(request, case, handler, file_key)


@csrf_protect
def _receive_evidence(
    request: HttpRequest, case: Case, handler: EncryptingUploadHandler, file_key: bytes
) -> HttpResponse:
    form = EvidenceForm(request.POST, request.FILES)
    if handler.too_large:
        form = EvidenceForm(request.POST)
        form.add_error(
            "file",
            _("This file is too large. Add files of at most %(mb)d MB.")
            % {"mb": settings.EVIDENCE_MAX_BYTES // (1024 * 1024)},
        )
        return _page(request, case, status=413, evidence=form)
    if not form.is_valid():
        return _page(request, case, status=400, evidence=form)
    try:
        services.add_evidence(
            case,
            form.cleaned_data["file"].encrypted_file,
            file_key,
            kind=form.cleaned_data["kind"],
            by=staff_user(request),
        )
    except EvidenceRefusedError:
        form.add_error("file", _("Only photos (JPEG, PNG) and PDF documents can be kept."))
        return _page(request, case, status=400, evidence=form)
    except TransitionRefusedError as refused:
        form.add_error(None, refused.message)
        return _page(request, case, status=400, evidence=form)
    messages.success(request, _("The file is kept with the case, sealed."))
    return redirect("verification:case", pk=case.pk)


def _decide(case: Case, data: dict[str, Any], *, by: User, key: bytes) -> Decision:
    common: dict[str, Any] = {"by": by, "keyring_key": key, "expected_version": data["version"]}
    if data["outcome"] == Decision.Outcome.DECLINED:
        return services.decline(case, data["reason"], data["summary"], **common)
    if data["outcome"] == Decision.Outcome.MORE_INFORMATION:
        return services.ask_for_more_information(case, data["template"], data["summary"], **common)
    return services.propose_verified(case, data["summary"], **common)


@role_required(*VERIFICATION_ROLES)
@require_POST
def decide(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    case = get_case_for_verification(user, pk)
    form = DecisionForm(request.POST, case=case)
    key = _key(request, case)
    if form.is_valid() and key is None:
        form.add_error(None, UNLOCK)
    if not form.is_valid() or key is None:
        return _page(request, case, status=400, decision=form)
    try:
        decision = _decide(case, form.cleaned_data, by=user, key=key)
    except TransitionRefusedError as refused:
        form.add_error(None, refused.message)
        case.refresh_from_db()
        return _page(request, case, status=400, decision=form)
    messages.success(request, DECIDED[Decision.Outcome(decision.outcome)])
    return _after(user, case)


@role_required(*VERIFICATION_ROLES)
@require_POST
def confirm(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    case = get_case_for_verification(user, pk)
    form = ProposalForm(request.POST)
    if form.is_valid() and _key(request, case) is None:
        form.add_error(None, _("Unlock your keys first: confirm only what you have read."))
    if not form.is_valid():
        return _page(request, case, status=400, proposal=form)
    content = open_sealed_fields(request, case.request, SIGNAL_FIELDS)
    seen = [signal.code for signal in signals_for(case, content)]
    try:
        services.confirm_verified(case, form.cleaned_data["decision"], by=user, signals=seen)
    except TransitionRefusedError as refused:
        form.add_error(None, refused.message)
        case.refresh_from_db()
        return _page(request, case, status=400, proposal=form)
    messages.success(request, _("Confirmed: the case is verified."))
    return _after(user, case)


@role_required(*VERIFICATION_ROLES)
@require_POST
def withdraw(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    case = get_case_for_verification(user, pk)
    form = ProposalForm(request.POST)
    if not form.is_valid():
        return _page(request, case, status=400, proposal=form)
    try:
        services.withdraw_proposal(case, form.cleaned_data["decision"], by=user)
    except TransitionRefusedError as refused:
        form.add_error(None, refused.message)
        return _page(request, case, status=400, proposal=form)
    messages.success(request, _("The proposal is withdrawn."))
    return redirect("verification:case", pk=case.pk)


@role_required(*VERIFICATION_ROLES)
@require_POST
def share(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    case = get_case_for_verification(user, pk)
    form = ShareForm(request.POST)
    keys = keys_for(request)
    if form.is_valid() and keys is None:
        form.add_error(None, _("Unlock your keys first: sharing seals the case key."))
    if not form.is_valid() or keys is None:
        return _page(request, case, status=400, share=form)
    try:
        services.share_with_verifiers(case, form.cleaned_data["team"], by=user, keys=keys)
    except TransitionRefusedError as refused:
        form.add_error(None, refused.message)
        return _page(request, case, status=400, share=form)
    except KeysUnavailableError:
        form.add_error(None, _("Your keys do not open this case."))
        return _page(request, case, status=400, share=form)
    messages.success(request, _("The verifiers of this team can now read the case."))
    return redirect("verification:case", pk=case.pk)

"""Staff pages for a case's plan: its documents, the person's nationalities, the pathway
and its milestones, the destination options and the dossier; and the coordinators' plan
templates. Each view is access → form → service → redirect; a refused form comes back on
the page with its message and what was typed (status 400)."""

import uuid
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from waystation.accounts.access import (
    coordinator_required,
    reauth_required,
    role_required,
    staff_user,
)
from waystation.audit.services import log_action
from waystation.cases.models import Case
from waystation.cases.workflow import TransitionRefusedError
from waystation.vault.access import NotUnlockedError, keyring_key
from waystation.vault.services import KeysUnavailableError

from . import dossier, dossier_content, services
from .access import (
    PLANNING_ROLES,
    get_case_for_planning,
    get_document_for_user,
    get_milestone_for_user,
)
from .forms import (
    DocumentForm,
    DossierForm,
    MilestoneForm,
    MilestoneUpdateForm,
    NationalitiesForm,
    PathwayForm,
    RouteFormSet,
    TemplateFormSet,
)
from .models import Pathway, TemplateStep, TravelDocument
from .options import destination_options
from .reading import document_rows, plan_view, travel_basis

UNLOCK = gettext_lazy("Unlock your keys first: this is sealed with the case key.")


def _key(request: HttpRequest, case: Case) -> tuple[bytes | None, str]:
    """The case key and, without it, why not ("locked": no unlocked keys in the session;
    "no_keys": they do not open this case)."""
    try:
        return keyring_key(request, case.keyring), ""
    except NotUnlockedError:
        return None, "locked"
    except KeysUnavailableError:
        return None, "no_keys"


def _valid_with_key(request: HttpRequest, case: Case, form: Any) -> bytes | None:
    """The case key when the form is valid and the keys open the case; else None, with a
    message on a valid form saying to unlock first."""
    key, _why = _key(request, case)
    if form.is_valid() and key is None:
        form.add_error(None, UNLOCK)
    return key if form.is_valid() else None


def _language() -> str:
    return get_language() or "en"


def _page(request: HttpRequest, case: Case, *, status: int = 200, **forms: Any) -> HttpResponse:
    """The case's planning page; `forms` replaces blank forms with bound ones (with their
    errors): document, nationalities, pathway, milestone, and update (a pair of milestone
    id and form)."""
    key, why_not = _key(request, case)
    today = timezone.localdate()
    documents = document_rows(case, key, today=today, language=_language())
    shown = plan_view(case, key)
    plan_version = shown.plan.version if shown.plan else None
    if key is not None:
        log_action(staff_user(request), "planning.case.read", case)
    failed_pk, failed_form = forms.get("update") or (None, None)
    milestones = [
        (
            milestone,
            title,
            failed_form
            if milestone.pk == failed_pk
            else MilestoneUpdateForm(
                prefix=f"m-{milestone.pk}",
                initial={
                    "state": milestone.state,
                    "due_on": milestone.due_on,
                    "version": milestone.version,
                },
            ),
        )
        for milestone, title in shown.milestones
    ]
    return render(
        request,
        "planning/case_plan.html",
        {
            "case": case,
            "why_not": why_not,
            "today": today,
            "documents": documents,
            "plan": shown,
            "milestones": milestones,
            "document_form": forms.get("document") or DocumentForm(),
            "nationalities_form": forms.get("nationalities")
            or NationalitiesForm(
                initial={"countries": shown.nationalities, "version": plan_version}
            ),
            "pathway_form": forms.get("pathway")
            or PathwayForm(
                initial={
                    "pathway": shown.plan.pathway if shown.plan else "",
                    "destination": shown.destination,
                    "version": plan_version,
                }
            ),
            "milestone_form": forms.get("milestone")
            or MilestoneForm(initial={"assignee": staff_user(request).pk}),
        },
        status=status,
    )


@role_required(*PLANNING_ROLES)
@require_http_methods(["GET"])
def case_plan(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    return _page(request, get_case_for_planning(staff_user(request), pk))


def _refused(form: Any, refused: TransitionRefusedError) -> None:
    form.add_error(None, refused.message)


@role_required(*PLANNING_ROLES)
@require_POST
def document_add(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    case = get_case_for_planning(user, pk)
    form = DocumentForm(request.POST)
    key = _valid_with_key(request, case, form)
    if key is None:
        return _page(request, case, status=400, document=form)
    try:
        services.add_document(case, form.values(), by=user, keyring_key=key)
    except TransitionRefusedError as refused:
        _refused(form, refused)
        return _page(request, case, status=400, document=form)
    messages.success(request, _("The document is recorded."))
    return redirect("planning:case", pk=case.pk)


@role_required(*PLANNING_ROLES)
@require_http_methods(["GET", "POST"])
def document(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """One document's page: its values to change."""
    user = staff_user(request)
    item = get_document_for_user(user, pk)
    key, why_not = _key(request, item.case)
    if request.method == "POST":
        form = DocumentForm(request.POST)
        if form.is_valid() and key is None:
            form.add_error(None, UNLOCK)
        if form.is_valid() and key is not None:
            try:
                services.change_document(
                    item,
                    form.values(),
                    expected_version=form.cleaned_data.get("version") or 0,
                    by=user,
                    keyring_key=key,
                )
            except TransitionRefusedError as refused:
                _refused(form, refused)
            else:
                messages.success(request, _("The document is saved."))
                return redirect("planning:case", pk=item.case_id)
    else:
        form = DocumentForm(initial=_document_initial(item, key))
    return render(
        request,
        "planning/document_edit.html",
        {"document": item, "case": item.case, "form": form, "why_not": why_not},
        status=400 if form.errors else 200,
    )


def _document_initial(item: TravelDocument, key: bytes | None) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "kind": item.kind,
        "status": item.status,
        "expires_on": item.expires_on,
        "weeks_to_obtain": item.weeks_to_obtain,
        "version": item.version,
    }
    if key is None:
        return initial
    rows = [
        row
        for row in document_rows(item.case, key, today=timezone.localdate(), language=_language())
        if row.document.pk == item.pk
    ]
    if rows and not rows[0].damaged:
        row = rows[0]
        initial.update(
            country=row.country, number=row.number, issued_on=row.issued_on, notes=row.notes
        )
    return initial


@role_required(*PLANNING_ROLES)
@require_POST
def document_remove(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    item = get_document_for_user(user, pk)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = 0
    try:
        services.remove_document(item, expected_version=version, by=user)
    except TransitionRefusedError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("The document is removed."))
    return redirect("planning:case", pk=item.case_id)


@role_required(*PLANNING_ROLES)
@require_POST
def nationalities(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    case = get_case_for_planning(user, pk)
    form = NationalitiesForm(request.POST)
    key = _valid_with_key(request, case, form)
    if key is None:
        return _page(request, case, status=400, nationalities=form)
    try:
        services.save_nationalities(
            case,
            form.cleaned_data["countries"],
            expected_version=form.cleaned_data.get("version"),
            by=user,
            keyring_key=key,
        )
    except TransitionRefusedError as refused:
        _refused(form, refused)
        return _page(request, case, status=400, nationalities=form)
    messages.success(request, _("The nationalities are saved."))
    return redirect("planning:case", pk=case.pk)


@role_required(*PLANNING_ROLES)
@require_POST
def pathway(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    case = get_case_for_planning(user, pk)
    form = PathwayForm(request.POST)
    key = _valid_with_key(request, case, form)
    if key is None:
        return _page(request, case, status=400, pathway=form)
    try:
        services.choose_pathway(
            case,
            form.cleaned_data["pathway"],
            destination=form.cleaned_data.get("destination") or "",
            expected_version=form.cleaned_data.get("version"),
            by=user,
            keyring_key=key,
        )
    except TransitionRefusedError as refused:
        _refused(form, refused)
        case.refresh_from_db()
        return _page(request, case, status=400, pathway=form)
    messages.success(request, _("The plan is saved."))
    return redirect("planning:case", pk=case.pk)


@role_required(*PLANNING_ROLES)
@require_POST
def milestone_add(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    case = get_case_for_planning(user, pk)
    form = MilestoneForm(request.POST)
    key = _valid_with_key(request, case, form)
    if key is None:
        return _page(request, case, status=400, milestone=form)
    data = form.cleaned_data
    try:
        services.add_milestone(
            case,
            data["title"],
            owner=data["owner"],
            due_on=data.get("due_on"),
            assignee=data.get("assignee"),
            by=user,
            keyring_key=key,
        )
    except TransitionRefusedError as refused:
        _refused(form, refused)
        return _page(request, case, status=400, milestone=form)
    messages.success(request, _("The milestone is added."))
    return redirect("planning:case", pk=case.pk)


@role_required(*PLANNING_ROLES)
@require_POST
def milestone(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    item = get_milestone_for_user(user, pk)
    form = MilestoneUpdateForm(request.POST, prefix=f"m-{item.pk}")
    if form.is_valid():
        try:
            services.update_milestone(
                item,
                state=form.cleaned_data["state"],
                due_on=form.cleaned_data.get("due_on"),
                expected_version=form.cleaned_data["version"],
                by=user,
            )
        except TransitionRefusedError as refused:
            _refused(form, refused)
    if not form.is_valid():
        return _page(request, item.case, status=400, update=(item.pk, form))
    messages.success(request, _("The milestone is saved."))
    return redirect("planning:case", pk=item.case_id)


@role_required(*PLANNING_ROLES)
@require_POST
def milestone_done(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """Mark a milestone done from "My tasks"."""
    user = staff_user(request)
    item = get_milestone_for_user(user, pk)
    try:
        services.complete_milestone(item, by=user)
    except TransitionRefusedError as refused:
        messages.error(request, refused.message)
    if request.POST.get("back") == "mine":
        return redirect("cases:my_tasks")
    return redirect("planning:case", pk=item.case_id)


@role_required(*PLANNING_ROLES)
@require_http_methods(["GET", "POST"])
def options(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """The destination options for the person's documents. A POST names the stops of up to
    three usual routes; nothing of it is stored (routes are itinerary: they stay out of
    addresses and logs)."""
    user = staff_user(request)
    case = get_case_for_planning(user, pk)
    key, why_not = _key(request, case)
    routes = RouteFormSet(request.POST if request.method == "POST" else None, prefix="route")
    transit: dict[str, list[str]] = {}
    if request.method == "POST" and routes.is_valid():
        for data in routes.cleaned_data:
            if data.get("destination") and data.get("stops"):
                transit.setdefault(data["destination"], []).extend(data["stops"])
    answer, basis = None, None
    if key is not None:
        today = timezone.localdate()
        basis = travel_basis(
            document_rows(case, key, today=today, language=_language()), today=today
        )
        answer = destination_options(
            basis.passports,
            national_ids=basis.national_ids,
            origin=case.country,
            transit=transit,
            language=_language(),
        )
        log_action(user, "planning.case.read", case, details={"page": "options"})
    return render(
        request,
        "planning/case_options.html",
        {"case": case, "why_not": why_not, "answer": answer, "basis": basis, "routes": routes},
        status=400 if request.method == "POST" and not routes.is_valid() else 200,
    )


def _dossier_form(request: HttpRequest, case: Case, key: bytes | None) -> DossierForm:
    choices = dossier_content.evidence_choices(case, key)
    if request.method == "POST":
        return DossierForm(request.POST, evidence=choices)
    return DossierForm(evidence=choices, initial={"return_to": request.path})


@role_required(*PLANNING_ROLES)
@require_http_methods(["GET"])
def dossier_page(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """The dossier's form: the passphrase and the evidence to include."""
    case = get_case_for_planning(staff_user(request), pk)
    key, why_not = _key(request, case)
    return _dossier_render(request, case, _dossier_form(request, case, key), why_not)


def _dossier_render(
    request: HttpRequest, case: Case, form: DossierForm, why_not: str, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "planning/case_dossier.html",
        {
            "case": case,
            "form": form,
            "why_not": why_not,
            "suggestion": dossier.suggest_passphrase(),
        },
        status=status,
    )


@role_required(*PLANNING_ROLES)
@require_POST
@reauth_required
def dossier_export(request: HttpRequest, pk: uuid.UUID) -> HttpResponseBase:
    """The dossier as a PDF encrypted to the caseworker's passphrase, after a recent
    re-authentication; audited. Nothing of it is stored."""
    user = staff_user(request)
    case = get_case_for_planning(user, pk)
    key, why_not = _key(request, case)
    form = _dossier_form(request, case, key)
    if form.is_valid() and key is None:
        form.add_error(None, UNLOCK)
    if not form.is_valid() or key is None:
        return _dossier_render(request, case, form, why_not, status=400)
    try:
        pdf = dossier_content.export_dossier(
            case,
            key,
            evidence_ids=form.cleaned_data["evidence"],
            passphrase=form.cleaned_data["passphrase"],
            language=_language(),
            by=user,
        )
    except TransitionRefusedError as refused:
        _refused(form, refused)
        return _dossier_render(request, case, form, why_not, status=400)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="dossier-{case.reference}.pdf"'
    return response


@coordinator_required
@require_http_methods(["GET"])
def templates(request: HttpRequest) -> HttpResponse:
    """The pathways and how many steps each template has."""
    counts = dict.fromkeys(Pathway.values, 0)
    for step in TemplateStep.objects.only("pathway"):
        counts[step.pathway] = counts.get(step.pathway, 0) + 1
    rows = [(value, label, counts[value]) for value, label in Pathway.choices]
    return render(request, "planning/template_list.html", {"rows": rows})


@coordinator_required
@require_http_methods(["GET", "POST"])
def template(request: HttpRequest, pathway: str) -> HttpResponse:
    """A pathway's template steps, changed, added or deleted at once."""
    if pathway not in Pathway.values:
        raise Http404
    steps = TemplateStep.objects.filter(pathway=pathway)
    formset = TemplateFormSet(
        request.POST if request.method == "POST" else None, queryset=steps, prefix="step"
    )
    if request.method == "POST" and formset.is_valid():
        services.save_template(pathway, formset, by=staff_user(request))
        messages.success(request, _("The template is saved."))
        return redirect("planning:template", pathway=pathway)
    return render(
        request,
        "planning/template_edit.html",
        {"pathway": Pathway(pathway), "formset": formset},
        status=400 if request.method == "POST" else 200,
    )

"""Staff pages for cases: the queue, a case, moving it, and breaking the glass."""

import uuid
from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from waystation.accounts.access import coordinator_required, role_required, staff_user
from waystation.audit.services import log_action
from waystation.vault.access import NotUnlockedError, open_sealed_fields
from waystation.vault.services import KeysUnavailableError

from . import queue, services
from .access import QUEUE_ROLES, case_behind_glass, get_case_for_user, visible_cases
from .forms import BreakGlassForm, MoveForm, QueueFilterForm
from .models import BreakGlass, Case, State
from .workflow import TransitionRefusedError

REQUEST_FIELDS = [
    "name",
    "nationalities",
    "narrative",
    "organization",
    "partner",
    "documents",
    "contact",
]


@role_required(*QUEUE_ROLES)
@require_http_methods(["GET"])
def case_queue(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    default_state = State.NEW if user.has_role(QUEUE_ROLES[0]) else State.TRIAGED
    form = QueueFilterForm(request.GET or {"state": default_state})
    data = form.cleaned_data if form.is_valid() else {"state": default_state}
    filters = queue.Filters(
        state=data.get("state", ""),
        country=data.get("country", ""),
        risk=data.get("risk", ""),
        language=data.get("language", ""),
        unassigned=bool(data.get("unassigned")),
        overdue=bool(data.get("overdue")),
        due_soon=bool(data.get("due_soon")),
    )
    cases = visible_cases(user)
    now = timezone.now()
    shown = queue.page(cases, filters, after=request.GET.get("after", ""), now=now)
    more = (
        urlencode({**request.GET.dict(), "after": shown.next_cursor}) if shown.next_cursor else ""
    )
    return render(
        request,
        "cases/case_queue.html",
        {
            "form": form,
            "page": shown,
            "now": now,
            "due_soon": now + queue.DUE_SOON,
            "next_query": more,
            "by_risk": queue.counts(cases, filters, "risk_rank", now=now),
            "by_country": sorted(
                queue.counts(cases, filters, "country", now=now).items(), key=lambda i: -i[1]
            )[:12],
        },
    )


def _detail(
    request: HttpRequest, case: Case, *, status: int = 200, form: MoveForm | None = None
) -> HttpResponse:
    content, why_not = None, ""
    try:
        content = open_sealed_fields(request, case.request, REQUEST_FIELDS)
    except NotUnlockedError:
        why_not = "locked"
    except KeysUnavailableError:
        why_not = "no_keys"
    else:
        log_action(staff_user(request), "cases.case.read", case)
    return render(
        request,
        "cases/case_detail.html",
        {
            "case": case,
            "content": content,
            "why_not": why_not,
            "events": case.events.select_related("by").order_by("-at")[:50],
            "move_form": form or MoveForm(initial={"version": case.version}),
            "overdue": case.is_overdue(),
        },
        status=status,
    )


@role_required(*QUEUE_ROLES)
@require_http_methods(["GET"])
def case_detail(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    return _detail(request, get_case_for_user(staff_user(request), pk))


@role_required(*QUEUE_ROLES)
@require_POST
def case_move(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    case = get_case_for_user(user, pk)
    form = MoveForm(request.POST)
    if not form.is_valid():
        return _detail(request, case, status=400, form=form)
    data = form.cleaned_data
    try:
        if data["target"] == "resume":
            moved = services.resume(case, by=user, expected_version=data["version"])
        elif data["target"] == "reopen":
            moved = services.reopen(
                case, by=user, reason=data["reason"], expected_version=data["version"]
            )
        else:
            moved = services.transition(
                case,
                data["target"],
                by=user,
                reason=data["reason"],
                duplicate_of=data["duplicate_of"],
                expected_version=data["version"],
            )
    except TransitionRefusedError as refused:
        form.add_error(None, refused.message)
        case.refresh_from_db()
        return _detail(request, case, status=400, form=form)
    messages.success(
        request, _("The case is now “%(state)s”.") % {"state": State(moved.state).label}
    )
    if not visible_cases(user).filter(pk=case.pk).exists():
        return redirect("cases:queue")  # it left this person's queue (e.g. triaged)
    return redirect("cases:detail", pk=case.pk)


@role_required(*QUEUE_ROLES)
@require_http_methods(["GET", "POST"])
def break_glass(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    case = case_behind_glass(user, pk)
    form = BreakGlassForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.break_glass(case, by=user, reason=form.cleaned_data["reason"])
        return redirect("cases:detail", pk=case.pk)
    status = 400 if form.errors else 200
    return render(request, "cases/break_glass.html", {"case": case, "form": form}, status=status)


@coordinator_required
@require_http_methods(["GET", "POST"])
def break_glass_review(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        entry = get_object_or_404(BreakGlass, pk=request.POST.get("entry") or 0)
        services.review_break_glass(entry, by=staff_user(request))
        return redirect("cases:break_glass_review")
    since = timezone.now() - timedelta(days=7)
    entries = (
        BreakGlass.objects.filter(opened_at__gte=since)
        .select_related("case", "user", "reviewed_by")
        .order_by("-opened_at")
    )
    return render(request, "cases/break_glass_review.html", {"entries": entries})

"""Staff pages for cases: the queue, a case, moving it, and breaking the glass."""

import uuid
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from waystation.accounts.access import coordinator_required, role_required, staff_user
from waystation.accounts.models import Role
from waystation.audit.services import log_action
from waystation.partners.attestations import attestation_list
from waystation.vault.access import (
    NotUnlockedError,
    UnreadableError,
    keyring_key,
    open_sealed_fields,
)
from waystation.vault.fields import decrypt_value
from waystation.vault.services import KeysUnavailableError, grants_prefetch
from waystation.vault.session import keys_for

from . import merging, queue, services, worklist
from .access import (
    CASE_ROLES,
    QUEUE_ROLES,
    case_behind_glass,
    crisis_responses_for,
    get_case_for_user,
    get_evidence_for_user,
    surge_accounts,
    visible_cases,
)
from .candidates import decisions_about, duplicate_decisions, possible_duplicates
from .evidence import (
    EvidenceItem,
    NoPreviewError,
    evidence_items,
    inline_response,
    open_derivative,
)
from .forms import (
    AssignForm,
    BreakGlassForm,
    BulkForm,
    CrisisForm,
    CrisisQuestionForm,
    DuplicateDecisionForm,
    MoveForm,
    NoteForm,
    QueueFilterForm,
    ReplyForm,
    ReplyTemplateForm,
    TaskForm,
)
from .merged import merged_histories
from .models import (
    BreakGlass,
    Case,
    CrisisQuestion,
    CrisisResponse,
    DuplicateDecision,
    ReplyTemplate,
    State,
    Task,
)
from .signals import signals_for
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
# What the page says after each duplicate decision.
DECIDED = {
    "link": gettext_lazy("The cases are linked: both stay open."),
    "dismiss": gettext_lazy("Not the same person: it is no longer suggested as a duplicate."),
    "merge_here": gettext_lazy("Merged: its history is shown on this case."),
    "merge_there": gettext_lazy("Merged: the history of the case you came from is shown here."),
}


@role_required(*CASE_ROLES)
@require_http_methods(["GET"])
def case_queue(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    triage = user.has_role(Role.INTAKE_VOLUNTEER, Role.SURGE_VOLUNTEER)
    default_state = State.NEW if triage else State.TRIAGED
    form = QueueFilterForm(
        request.GET or {"state": default_state}, responses=crisis_responses_for(user)
    )
    filters = form.filters(default_state)
    # The page and the counts keep the state filter, so visibility may be asked per state.
    cases = visible_cases(user, state=filters.state)
    now = timezone.now()
    shown = queue.page(cases, filters, after=request.GET.get("after", ""), now=now)
    more = (
        urlencode({**request.GET.dict(), "after": shown.next_cursor}) if shown.next_cursor else ""
    )
    # One crisis response's queue: its answer is the reply template chosen already.
    crisis = form.cleaned_data.get("crisis") if form.is_valid() else None
    bulk_initial = {"template": crisis.reply_template_name} if crisis else None
    return render(
        request,
        "cases/case_queue.html",
        {
            "form": form,
            "page": shown,
            "now": now,
            "due_soon": now + queue.DUE_SOON,
            "next_query": more,
            "bulk_form": BulkForm(responses=crisis_responses_for(user), initial=bulk_initial),
            "query": request.GET.urlencode(),
            **_queue_counts(cases, filters, now),
        },
    )


def _queue_counts(cases: QuerySet[Case], filters: queue.Filters, now: datetime) -> dict[str, Any]:
    """The queue's counts by risk, country and language within the state shown, each with
    the other filters applied; the largest dozen countries and languages. Counts by state
    are left out: they would count every state the user sees, which for a caseworker team
    means reading each of its cases (0.45 s on SQLite at a million cases, a team holding
    350,000), where these read an index alone."""

    def largest(facet: str) -> list[tuple[str, int]]:
        counted = queue.counts(cases, filters, facet, now=now)
        return sorted(counted.items(), key=lambda item: -item[1])[:12]

    return {
        "by_risk": queue.counts(cases, filters, "risk_rank", now=now),
        "by_country": largest("country"),
        "by_language": largest("language"),
    }


def _detail(
    request: HttpRequest,
    case: Case,
    *,
    status: int = 200,
    form: MoveForm | None = None,
    assign_form: AssignForm | None = None,
    reply_form: ReplyForm | None = None,
    note_form: NoteForm | None = None,
    task_form: TaskForm | None = None,
) -> HttpResponse:
    content, thread, notes, why_not = None, None, None, ""
    tasks = list(case.tasks.select_related("owner").order_by("status", "due_on"))
    evidence: list[EvidenceItem] | None = None
    decisions = decisions_about(case)
    try:
        # The case and its request share one keyring: opened once for both.
        key = keyring_key(request, case.keyring)
        content = open_sealed_fields(request, case.request, REQUEST_FIELDS, key=key)
        thread = services.thread(case, key)
        evidence = evidence_items(case, key)
        notes = [
            (note, decrypt_value(key, note, "text"))
            for note in case.notes.select_related("by").order_by("-written_at")
        ]
        titles = {task.pk: decrypt_value(key, task, "title") for task in tasks}
        candidates = possible_duplicates(request, case, key, staff_user(request), decisions)
        # Merged histories follow merge decisions: none about this case, none to look for.
        merged = (
            merged_histories(request, case, staff_user(request), REQUEST_FIELDS)
            if any(d.kind == DuplicateDecision.Kind.MERGED for d in decisions.values())
            else []
        )
    except NotUnlockedError:
        why_not = "locked"
    except KeysUnavailableError:
        why_not = "no_keys"
    else:
        log_action(staff_user(request), "cases.case.read", case)
    if content is None:
        titles, candidates, merged = {}, [], []
    initial = {"version": case.version}
    return render(
        request,
        "cases/case_detail.html",
        {
            "case": case,
            "content": content,
            "thread": thread,
            "evidence": evidence,
            "why_not": why_not,
            "events": case.events.select_related("by").order_by("-at")[:50],
            "move_form": form or MoveForm(initial=initial),
            "assign_form": assign_form
            or AssignForm(initial={**initial, "team": case.team_id, "user": case.assigned_to_id}),
            "reply_form": reply_form or ReplyForm(case=case, initial=initial),
            "notes": notes,
            "tasks": [(task, titles.get(task.pk, "")) for task in tasks],
            "note_form": note_form or NoteForm(),
            "task_form": task_form or TaskForm(initial={"owner": staff_user(request).pk}),
            "today": timezone.localdate(),
            "overdue": case.is_overdue(),
            "signals": signals_for(case, content),
            "candidates": candidates,
            "decisions": duplicate_decisions(case, staff_user(request), decisions),
            "merged": merged,
            "attestations": attestation_list(request, case),
        },
        status=status,
    )


@role_required(*CASE_ROLES)
@require_http_methods(["GET"])
def case_detail(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    return _detail(request, get_case_for_user(staff_user(request), pk))


# Verifiers judge evidence: they open the files of the cases they see (in verification).
@role_required(*CASE_ROLES, Role.VERIFIER)
@require_http_methods(["GET"])
def case_evidence(request: HttpRequest, pk: uuid.UUID, evidence: uuid.UUID) -> HttpResponseBase:
    """A file the person sent, shown as its derivative (never the original); each look
    is audited."""
    user = staff_user(request)
    case, item = get_evidence_for_user(user, pk, evidence)
    try:
        derivative = open_derivative(case, item, keyring_key(request, case.keyring))
    except NotUnlockedError:
        why_not = "locked"
    except KeysUnavailableError:
        why_not = "no_keys"
    except NoPreviewError:
        why_not = "no_preview"
    except UnreadableError:
        why_not = "damaged"
    else:
        log_action(user, "cases.evidence.read", item, details={"case": str(case.pk)})
        return inline_response(item, derivative)
    return render(request, "cases/evidence_unavailable.html", {"case": case, "why_not": why_not})


@role_required(*CASE_ROLES)
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


@role_required(*CASE_ROLES)
@require_POST
def case_assign(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    case = get_case_for_user(user, pk)
    form = AssignForm(request.POST)
    keys = keys_for(request)
    if form.is_valid() and keys is None:
        form.add_error(None, _("Unlock your keys first: assigning seals the case key."))
    if not form.is_valid() or keys is None:
        return _detail(request, case, status=400, assign_form=form)
    try:
        services.assign_case(
            case,
            team=form.cleaned_data["team"],
            user=form.cleaned_data["user"],
            by=user,
            keys=keys,
            expected_version=form.cleaned_data["version"],
        )
    except TransitionRefusedError as refused:
        form.add_error(None, refused.message)
        case.refresh_from_db()
        return _detail(request, case, status=400, assign_form=form)
    except KeysUnavailableError:
        form.add_error(None, _("Your keys do not open this case."))
        return _detail(request, case, status=400, assign_form=form)
    messages.success(request, _("The case is assigned."))
    if not visible_cases(user).filter(pk=case.pk).exists():
        return redirect("cases:queue")
    return redirect("cases:detail", pk=case.pk)


@role_required(*CASE_ROLES)
@require_POST
def case_reply(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    case = get_case_for_user(user, pk)
    form = ReplyForm(request.POST, case=case)
    if not form.is_valid():
        return _detail(request, case, status=400, reply_form=form)
    try:
        services.reply_to_person(
            case,
            form.cleaned_data["text"],
            by=user,
            template=form.cleaned_data["template"],
            expected_version=form.cleaned_data["version"],
        )
    except TransitionRefusedError as refused:
        case.refresh_from_db()
        form = form.refused(case, refused.message)
        return _detail(request, case, status=400, reply_form=form)
    messages.success(request, _("Your answer waits for the person on their follow-up page."))
    return redirect("cases:detail", pk=case.pk)


@role_required(*CASE_ROLES)
@require_POST
def duplicate_decide(request: HttpRequest, pk: uuid.UUID, other: uuid.UUID) -> HttpResponse:
    """Link, merge or dismiss a possible duplicate; both cases must be the user's to open."""
    user = staff_user(request)
    case, other_case = get_case_for_user(user, pk), get_case_for_user(user, other)
    form = DuplicateDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Nothing was changed: choose a decision again."))
        return _detail(request, case, status=400)
    data = form.cleaned_data
    try:
        shown = merging.decide(
            case,
            other_case,
            data["decision"],
            by=user,
            keys=keys_for(request),
            expected_version=data["version"],
            other_version=data["other_version"],
        )
    except TransitionRefusedError as refused:
        messages.error(request, refused.message)
        case.refresh_from_db()
        return _detail(request, case, status=400)
    messages.success(request, DECIDED[data["decision"]])
    return redirect("cases:detail", pk=shown.pk)


def _case_key(request: HttpRequest, case: Case) -> bytes | None:
    try:
        return keyring_key(request, case.keyring)
    except (NotUnlockedError, KeysUnavailableError):
        return None


@role_required(*CASE_ROLES)
@require_POST
def case_note(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    case = get_case_for_user(user, pk)
    form = NoteForm(request.POST)
    key = _case_key(request, case)
    if form.is_valid() and key is None:
        form.add_error(None, _("Unlock your keys first: notes are sealed with the case key."))
    if not form.is_valid() or key is None:
        return _detail(request, case, status=400, note_form=form)
    services.add_note(case, form.cleaned_data["text"], by=user, keyring_key=key)
    return redirect("cases:detail", pk=case.pk)


@role_required(*CASE_ROLES)
@require_POST
def case_task(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    case = get_case_for_user(user, pk)
    form = TaskForm(request.POST)
    key = _case_key(request, case)
    if form.is_valid() and key is None:
        form.add_error(None, _("Unlock your keys first: tasks are sealed with the case key."))
    if not form.is_valid() or key is None:
        return _detail(request, case, status=400, task_form=form)
    try:
        services.add_task(
            case,
            form.cleaned_data["title"],
            owner=form.cleaned_data["owner"],
            due_on=form.cleaned_data["due_on"],
            by=user,
            keyring_key=key,
        )
    except TransitionRefusedError as refused:
        form.add_error("owner", refused.message)
        return _detail(request, case, status=400, task_form=form)
    return redirect("cases:detail", pk=case.pk)


@role_required(*CASE_ROLES)
@require_POST
def task_done(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    task = get_object_or_404(Task.objects.select_related("case"), pk=pk)
    if task.owner_id != user.pk:
        get_case_for_user(user, task.case_id)  # 404 unless the case is theirs to see
    services.complete_task(task, by=user)
    if request.POST.get("back") == "mine":
        return redirect("cases:my_tasks")
    return redirect("cases:detail", pk=task.case_id)


@role_required(*CASE_ROLES)
@require_http_methods(["GET"])
def my_tasks(request: HttpRequest) -> HttpResponse:
    """The user's open tasks and the items later apps give them (plan milestones...),
    soonest due first, titles decrypted where the user's keys open the case."""
    user = staff_user(request)
    tasks = list(
        Task.objects.filter(owner=user, status=Task.Status.OPEN)
        .select_related("case", "case__keyring")
        .prefetch_related(grants_prefetch("case__keyring"))
        .order_by("due_on", "created_at")[:200]
    )
    items = [
        worklist.WorkItem(
            case=task.case,
            due_on=task.due_on,
            sealed=task,
            field="title",
            label=str(_("Task")),
            done_url=reverse("cases:task_done", kwargs={"pk": task.pk}),
        )
        for task in tasks
    ] + worklist.work_items(user)
    items.sort(key=lambda item: (item.due_on is None, item.due_on or date.min))
    keys: dict[object, bytes | None] = {}
    rows = []
    for item in items:
        if item.case.pk not in keys:
            keys[item.case.pk] = _case_key(request, item.case)
        key = keys[item.case.pk]
        rows.append((item, decrypt_value(key, item.sealed, item.field) if key else None))
    return render(
        request,
        "cases/task_list.html",
        {"rows": rows, "today": timezone.localdate()},
    )


@role_required(*CASE_ROLES)
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """One action on many cases from the queue: all of them, or none."""
    user = staff_user(request)
    form = BulkForm(request.POST, responses=crisis_responses_for(user))
    back = request.POST.get("back", "")
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return _back_to_queue(back)
    data = form.cleaned_data
    found = visible_cases(user).in_bulk([pk for pk, _version in data["chosen"]])
    if len(found) != len(data["chosen"]):
        messages.error(
            request, _("Nothing was changed: some of these cases are not yours to change.")
        )
        return _back_to_queue(back)
    chosen = [(found[pk], version) for pk, version in data["chosen"]]
    keys = keys_for(request)
    action = data["action"]

    def apply(case: Case, version: int) -> object:
        if action == BulkForm.Action.TRIAGE:
            return services.transition(case, State.TRIAGED, by=user, expected_version=version)
        if action == BulkForm.Action.RISK:
            return services.set_risk(case, data["risk"], by=user, expected_version=version)
        if action == BulkForm.Action.DUPLICATE:
            return services.transition(
                case,
                State.DUPLICATE,
                by=user,
                duplicate_of=data["duplicate_of"],
                expected_version=version,
            )
        if action == BulkForm.Action.CRISIS:
            return services.tag_crisis(
                case, data["crisis"], by=user, keys=keys, expected_version=version
            )
        if keys is None:
            raise TransitionRefusedError(_("Unlock your keys first: assigning seals the case key."))
        return services.give_to_team(
            case, data["team"], by=user, keys=keys, expected_version=version
        )

    try:
        if action == BulkForm.Action.REPLY:
            done = services.reply_in_bulk(chosen, data["template"], by=user)
        else:
            done = services.bulk_apply(chosen, apply)
    except TransitionRefusedError as refused:  # bulk_apply names the case it stopped at
        messages.error(request, refused.message)
    else:
        changed = ngettext("%(count)d case changed.", "%(count)d cases changed.", done)
        if action == BulkForm.Action.REPLY:
            changed = ngettext(
                "The answer waits for %(count)d person on their follow-up page.",
                "The answer waits for %(count)d people on their follow-up pages.",
                done,
            )
        messages.success(request, changed % {"count": done})
    return _back_to_queue(back)


def _back_to_queue(query: str) -> HttpResponse:
    response = redirect("cases:queue")
    if query and not query.startswith(("/", "http")):
        response["Location"] += f"?{query}"
    return response


@coordinator_required
@require_http_methods(["GET", "POST"])
def crises(request: HttpRequest) -> HttpResponse:
    form = CrisisForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        response = services.create_crisis_response(**form.cleaned_data, by=staff_user(request))
        messages.success(request, _("Crisis response created."))
        return redirect("cases:surge", pk=response.pk)
    return render(
        request,
        "cases/crisis_list.html",
        {"form": form, "responses": CrisisResponse.objects.order_by("-starts_on")},
        status=400 if form.errors else 200,
    )


@coordinator_required
@require_http_methods(["GET", "POST"])
def crisis_edit(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """Change a crisis response, or end it by giving the day it ends."""
    response = get_object_or_404(CrisisResponse, pk=pk)
    form = CrisisForm(request.POST if request.method == "POST" else None, response=response)
    if request.method == "POST" and form.is_valid():
        services.change_crisis_response(response, **form.cleaned_data, by=staff_user(request))
        messages.success(request, _("Crisis response saved."))
        return redirect("cases:surge", pk=response.pk)
    return render(
        request,
        "cases/crisis_edit.html",
        {"response": response, "form": form},
        status=400 if form.errors else 200,
    )


@role_required(Role.COORDINATOR, *QUEUE_ROLES)
@require_http_methods(["GET"])
def surge(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    response = get_object_or_404(CrisisResponse, pk=pk)
    return render(
        request,
        "cases/crisis_surge.html",
        {
            "response": response,
            "figures": services.surge_figures(response),
            "crisis_template": services.crisis_template(response),
            "questions": response.questions.all(),
            "keeps_questions": staff_user(request).has_role(Role.COORDINATOR),
            "surge_accounts": surge_accounts(staff_user(request), response),
        },
    )


def _questions_page(
    request: HttpRequest,
    response: CrisisResponse,
    form: CrisisQuestionForm,
    editing: CrisisQuestion | None = None,
) -> HttpResponse:
    return render(
        request,
        "cases/crisis_question_list.html",
        {
            "response": response,
            "questions": response.questions.all(),
            "form": form,
            "editing": editing,
            "limit": services.MAX_QUESTIONS,
        },
        status=400 if form.errors else 200,
    )


@coordinator_required
@require_http_methods(["GET", "POST"])
def crisis_questions(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """A crisis response's extra questions for the people it concerns; a new one is added
    here."""
    response = get_object_or_404(CrisisResponse, pk=pk)
    form = CrisisQuestionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_crisis_question(response, form.texts(), by=staff_user(request))
        except TransitionRefusedError as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("Question added."))
            return redirect("cases:crisis_questions", pk=response.pk)
    return _questions_page(request, response, form)


@coordinator_required
@require_http_methods(["GET", "POST"])
def crisis_question(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    question = get_object_or_404(CrisisQuestion.objects.select_related("response"), pk=pk)
    data = request.POST if request.method == "POST" else None
    form = CrisisQuestionForm(data, question=question)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_crisis_question(question, form.texts(), by=staff_user(request))
        except TransitionRefusedError as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("Question saved."))
            return redirect("cases:crisis_questions", pk=question.response_id)
    return _questions_page(request, question.response, form, editing=question)


@coordinator_required
@require_POST
def crisis_question_move(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    question = get_object_or_404(CrisisQuestion, pk=pk)
    step = {"up": -1, "down": 1}.get(request.POST.get("direction", ""))
    try:
        if step is None:
            raise TransitionRefusedError(_("Choose whether the question moves up or down."))
        services.move_crisis_question(question, step, by=staff_user(request))
    except TransitionRefusedError as refused:
        messages.error(request, refused.message)
    return redirect("cases:crisis_questions", pk=question.response_id)


@coordinator_required
@require_POST
def crisis_question_remove(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    question = get_object_or_404(CrisisQuestion, pk=pk)
    try:
        services.remove_crisis_question(question, by=staff_user(request))
    except TransitionRefusedError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Question removed."))
    return redirect("cases:crisis_questions", pk=question.response_id)


@coordinator_required
@require_http_methods(["GET", "POST"])
def reply_templates(request: HttpRequest, pk: uuid.UUID | None = None) -> HttpResponse:
    """Coordinators keep the ready answers, per language; `pk` edits one."""
    editing = get_object_or_404(ReplyTemplate, pk=pk) if pk else None
    form = ReplyTemplateForm(request.POST if request.method == "POST" else None, instance=editing)
    if request.method == "POST" and form.is_valid():
        services.save_reply_template(form.save(commit=False), by=staff_user(request))
        messages.success(request, _("Template saved."))
        return redirect("cases:reply_templates")
    return render(
        request,
        "cases/reply_template_list.html",
        {
            "form": form,
            "editing": editing,
            "templates": ReplyTemplate.objects.order_by("language", "name"),
        },
        status=400 if form.errors else 200,
    )

"""The public site: few fixed URLs, no step names or ids in them, nothing a watcher can
read from an address bar or history beyond the site itself."""

import logging
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from waystation.vault import crypto
from waystation.vault.uploads import EncryptingUploadHandler, csrf_protect

from . import abuse, codes, services, session
from .forms import CodeForm, EvidenceForm, ReplyForm, RequestForm
from .models import HelpRequest

logger = logging.getLogger(__name__)
CLEAR_SITE_DATA = '"cache", "cookies", "storage"'
# Wrong follow-up codes allowed per minute, across the whole site: guessing a 93-bit code
# is hopeless anyway; this keeps a flood from costing the database.
CODE_FAILURES_PER_MINUTE = 300


@require_http_methods(["GET"])
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "intake/home.html",
        {
            "response_days": settings.RESPONSE_DAYS,
            "resources": settings.OUTSIDE_RESOURCES,
        },
    )


@require_http_methods(["GET"])
def safety(request: HttpRequest) -> HttpResponse:
    return render(request, "intake/safety.html")


def _answers(data: dict[str, Any]) -> services.Answers:
    return services.Answers(
        country=data["country"],
        region=data["region"],
        nationalities=data["nationalities"],
        narrative=data["narrative"],
        risk=data["risk"],
        organization=data["organization"],
        documents=data["documents"],
        name=data["name"],
        channel=data["channel"],
        handle=data["handle"],
        safe_times=data["safe_times"],
        no_messages=data["no_messages"],
    )


MULTIPLE = {"documents"}
LIMITED = {
    "too_fast": gettext_lazy("Please check your answers, then send the form again."),
    "token": gettext_lazy(
        "This form was open too long. Your answers are kept. Please send it again."
    ),
    "global": gettext_lazy(
        "Many requests are arriving right now. Your answers are kept. Please send again in an hour."
    ),
}


def _form_page(
    request: HttpRequest, form: RequestForm, status: int = 200, **context: object
) -> HttpResponse:
    return render(
        request,
        "intake/request_form.html",
        {
            "form": form,
            "proof_bits": settings.INTAKE_PROOF_BITS,
            **context,
        },
        status=status,
    )


def _typed(request: HttpRequest) -> dict[str, Any]:
    return {
        key: request.POST.getlist(key) if key in MULTIPLE else request.POST.get(key)
        for key in request.POST
        if key not in {"csrfmiddlewaretoken", "switch_language"}
    }


def _switch_language(request: HttpRequest, code: str) -> HttpResponse:
    """Show the form again in another language with everything typed so far."""
    if code not in dict(settings.LANGUAGES):
        code = get_language() or settings.LANGUAGE_CODE
    with translation.override(code):
        request.LANGUAGE_CODE = code
        response = _form_page(request, RequestForm(initial=_typed(request)))
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        samesite="Strict",
        httponly=True,
        secure=settings.LANGUAGE_COOKIE_SECURE,
    )
    return response


@require_http_methods(["GET", "POST"])
def ask(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        form = RequestForm(
            initial={"form_token": services.new_form_token(), "language": get_language()}
        )
        return _form_page(request, form)
    if request.POST.get("switch_language"):
        return _switch_language(request, request.POST["switch_language"])
    form = RequestForm(request.POST)
    if not form.is_valid():
        return _form_page(request, form, status=400)
    verdict = abuse.check_submission(
        request, form.cleaned_data["form_token"], form.cleaned_data["proof"]
    )
    if not verdict.allowed:
        if verdict.reason in {"token", "too_fast"}:
            typed = _typed(request)
            typed["form_token"] = services.new_form_token()
            form = RequestForm(initial=typed)
        message = LIMITED.get(verdict.reason, LIMITED["global"])
        return _form_page(request, form, status=429, limited=message)
    if form.cleaned_data["website"]:
        # Filled by software, not a person: it learns nothing, and nothing is stored.
        return render(
            request,
            "intake/request_received.html",
            {"code": codes.new_code(), "response_days": settings.RESPONSE_DAYS},
        )
    try:
        help_request, code = services.submit_request(
            _answers(form.cleaned_data),
            language=form.cleaned_data["language"],
            form_token=form.cleaned_data["form_token"],
        )
    except services.AlreadySubmittedError:
        return render(request, "intake/request_already.html", status=409)
    except (services.NotReadyError, DatabaseError):
        logger.exception("A request could not be stored; the person was asked to try again.")
        return _form_page(request, form, status=503, try_again=True)
    # The person is signed in to follow up at once, so they can add evidence right away.
    response = render(
        request,
        "intake/request_received.html",
        {
            "code": code,
            "response_days": settings.RESPONSE_DAYS,
            "evidence_form": EvidenceForm(),
            "max_mb": settings.EVIDENCE_MAX_BYTES // (1024 * 1024),
        },
    )
    private = codes.person_private_key(codes.normalize(code) or "")
    session.remember(request, response, str(help_request.pk), private)
    return response


def _follow_up_page(
    request: HttpRequest,
    help_request: HelpRequest,
    private: bytes,
    status: int = 200,
    **context: object,
) -> HttpResponse:
    return render(
        request,
        "intake/follow_up.html",
        {
            "thread": services.messages_for_person(help_request, private),
            "reply_form": context.pop("reply_form", ReplyForm()),
            "evidence_form": context.pop("evidence_form", EvidenceForm()),
            "max_mb": settings.EVIDENCE_MAX_BYTES // (1024 * 1024),
            **context,
        },
        status=status,
    )


def _signed_in(request: HttpRequest) -> tuple[HelpRequest, bytes] | None:
    held = session.current(request)
    if held is None:
        return None
    help_request = HelpRequest.objects.filter(pk=held[0]).first()
    return (help_request, held[1]) if help_request else None


@require_http_methods(["GET", "POST"])
def follow_up(request: HttpRequest) -> HttpResponse:
    signed_in = _signed_in(request)
    action = request.POST.get("action", "")
    if signed_in is None:
        return _code_login(request)
    help_request, private = signed_in
    if request.method == "POST" and action == "reply":
        form = ReplyForm(request.POST)
        if form.is_valid():
            services.person_reply(help_request, form.cleaned_data["text"])
            return _follow_up_page(request, help_request, private, sent=True)
        return _follow_up_page(request, help_request, private, status=400, reply_form=form)
    if request.method == "POST" and action == "delete":
        services.delete_for_person(help_request, request.POST.get("message", "")[:36])
    return _follow_up_page(request, help_request, private)


def _code_login(request: HttpRequest) -> HttpResponse:
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        failures = cache.get_or_set("intake:code-failures", 0, 60) or 0
        if failures < CODE_FAILURES_PER_MINUTE:
            help_request = services.find_by_code(form.cleaned_data["code"])
            if help_request is not None:
                digits = codes.normalize(form.cleaned_data["code"]) or ""
                response = _follow_up_page(request, help_request, codes.person_private_key(digits))
                session.remember(
                    request, response, str(help_request.pk), codes.person_private_key(digits)
                )
                return response
            try:
                cache.incr("intake:code-failures")
            except ValueError:
                cache.set("intake:code-failures", 1, 60)
        form.add_error(
            "code",
            _(
                "This code does not open anything. Check it and try again. "
                "If it keeps failing, wait a few minutes."
            ),
        )
    return render(
        request, "intake/follow_up_login.html", {"form": form}, status=400 if form.errors else 200
    )


@csrf_exempt
@require_POST
def follow_up_files(request: HttpRequest) -> HttpResponseBase:
    signed_in = _signed_in(request)
    if signed_in is None:
        return _code_login(request)
    help_request, private = signed_in
    file_key = crypto.new_key()
    handler = EncryptingUploadHandler(
        help_request.keyring, file_key, max_bytes=settings.EVIDENCE_MAX_BYTES
    )
    request.upload_handlers = [handler]
    return _receive_files(request, help_request, private, handler, file_key)


@csrf_protect
def _receive_files(
    request: HttpRequest,
    help_request: HelpRequest,
    private: bytes,
    handler: EncryptingUploadHandler,
    file_key: bytes,
) -> HttpResponse:
    form = EvidenceForm(request.POST, request.FILES)
    if handler.too_large:
        return _follow_up_page(
            request,
            help_request,
            private,
            status=413,
            file_error=_("This file is too large. Send files of at most %(mb)d MB.")
            % {"mb": settings.EVIDENCE_MAX_BYTES // (1024 * 1024)},
        )
    if not form.is_valid():
        return _follow_up_page(request, help_request, private, status=400, evidence_form=form)
    if help_request.evidence.count() >= settings.EVIDENCE_MAX_FILES * 4:
        return _follow_up_page(
            request,
            help_request,
            private,
            status=413,
            file_error=_("We cannot receive more files for this request. Write to us instead."),
        )
    try:
        services.add_evidence(help_request, form.cleaned_data["file"].encrypted_file, file_key)
    except services.EvidenceRefusedError:
        return _follow_up_page(
            request,
            help_request,
            private,
            status=400,
            file_error=_("We can only receive photos (JPEG, PNG) and PDF documents."),
        )
    return _follow_up_page(request, help_request, private, file_sent=True)


@require_http_methods(["GET", "POST"])
def exit_now(request: HttpRequest) -> HttpResponse:
    """Quick exit: end any follow-up session, clear what the browser allows, leave."""
    response = HttpResponseRedirect(settings.QUICK_EXIT_URL)
    if request.method == "POST":
        session.forget(request, response)
        response["Clear-Site-Data"] = CLEAR_SITE_DATA
    return response

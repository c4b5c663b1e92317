"""The public site: few fixed URLs, no step names or ids in them, nothing a watcher can
read from an address bar or history beyond the site itself."""

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.db import DatabaseError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from waystation.vault import crypto
from waystation.vault.uploads import EncryptingUploadHandler, csrf_protect

from . import abuse, codes, questions, services, session
from .forms import AnswersForm, CodeForm, EvidenceForm, ReplyForm, RequestForm
from .models import HelpRequest

logger = logging.getLogger(__name__)
CLEAR_SITE_DATA = '"cache", "cookies", "storage"'


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
        partner=data.get("partner", ""),
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


# The two pages every request for help passes through, the blank form and the page with
# the follow-up code, are rendered once per language and kept with placeholders where each
# visitor's own values go (tokens, the code): in a surge they are most of the traffic.
# Letters and digits only, so escaping leaves the placeholders as they are.
CSRF_PLACEHOLDER = "csrfplaceholder5b0e1c7a"
FORM_TOKEN_PLACEHOLDER = "formtokenplaceholder3f9d2e61"  # noqa: S105 - not a secret
CODE_PLACEHOLDER = "codeplaceholder80c4e1d9"
QUESTIONS_PLACEHOLDER = "questionsplaceholder2b7e94c1"
_page_copies: dict[tuple[str, str], str] = {}


@receiver(setting_changed)
def _forget_page_copies(**kwargs: object) -> None:
    _page_copies.clear()


def _from_copy(
    request: HttpRequest,
    name: str,
    build: Callable[[], HttpResponse],
    fills: dict[str, str],
    markup: dict[str, str] | None = None,
) -> HttpResponse:
    """The page `build` renders (with CSRF_PLACEHOLDER as its CSRF token), rendered once
    per language and process, with each placeholder in `fills` replaced by its value, then
    each in `markup` by HTML already rendered (and escaped) for this visitor."""
    key = (name, get_language() or settings.LANGUAGE_CODE)
    page = _page_copies.get(key)
    if page is None:
        page = build().content.decode()
        _page_copies[key] = page
    for placeholder, value in {CSRF_PLACEHOLDER: get_token(request), **fills}.items():
        page = page.replace(placeholder, escape(value))
    # Last, so nothing written in the markup (a question's wording) is taken for a placeholder.
    for placeholder, html in (markup or {}).items():
        page = page.replace(placeholder, html)
    return HttpResponse(page)


def _blank_form_page(request: HttpRequest) -> HttpResponse:
    def build() -> HttpResponse:
        form = RequestForm(
            initial={"form_token": FORM_TOKEN_PLACEHOLDER, "language": get_language()}
        )
        return _form_page(request, form, csrf_token=CSRF_PLACEHOLDER)

    return _from_copy(request, "form", build, {FORM_TOKEN_PLACEHOLDER: services.new_form_token()})


def _received_page(
    request: HttpRequest, code: str, help_request: HelpRequest | None
) -> HttpResponse:
    def build() -> HttpResponse:
        return render(
            request,
            "intake/request_received.html",
            {
                "code": CODE_PLACEHOLDER,
                "questions": QUESTIONS_PLACEHOLDER,
                "response_days": settings.RESPONSE_DAYS,
                "evidence_form": EvidenceForm(),
                "max_mb": settings.EVIDENCE_MAX_BYTES // (1024 * 1024),
                "csrf_token": CSRF_PLACEHOLDER,
            },
        )

    # The extra questions depend on the request (e.g. its crisis response), so they are
    # rendered apart from the copy every request of the language shares. They are optional:
    # failing to look them up must never cost the person the only sight of their code.
    asked: list[questions.Question] = []
    if help_request is not None:
        try:
            asked = questions.pending_questions(help_request, get_language())
        except DatabaseError:
            logger.exception("The extra questions could not be read; the code was shown.")
    block = ""
    if asked:
        block = render_to_string(
            "intake/_questions_form.html", {"answers_form": AnswersForm(asked=asked)}, request
        )
    return _from_copy(
        request, "received", build, {CODE_PLACEHOLDER: code}, {QUESTIONS_PLACEHOLDER: block}
    )


@require_http_methods(["GET", "POST"])
def ask(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _blank_form_page(request)
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
        # Filled by software, not a person: the same page, and nothing is stored.
        return _received_page(request, codes.new_code(), None)
    # The person is signed in to follow up at once, so they can add evidence right away: the
    # session is stored with the request, and its cookies wait here for the page.
    cookies = HttpResponse()

    def sign_in(help_request: HelpRequest, code: str) -> None:
        private = codes.person_private_key(codes.normalize(code) or "")
        session.remember(request, cookies, str(help_request.pk), private)
        request.session.save()

    try:
        help_request, code = services.submit_request(
            _answers(form.cleaned_data),
            language=form.cleaned_data["language"],
            form_token=form.cleaned_data["form_token"],
            on_stored=sign_in,
        )
    except services.AlreadySubmittedError:
        # Sent twice: the same code again for a few minutes, then nothing more.
        replayed = services.replay_submission(form.cleaned_data["form_token"])
        if replayed is None:
            return render(request, "intake/request_already.html", status=409)
        help_request, code = replayed
        sign_in(help_request, code)
    except (services.NotReadyError, DatabaseError):
        logger.exception("A request could not be stored; the person was asked to try again.")
        return _form_page(request, form, status=503, try_again=True)
    response = _received_page(request, code, help_request)
    response.cookies.update(cookies.cookies)
    return response


def _follow_up_page(
    request: HttpRequest,
    help_request: HelpRequest,
    private: bytes,
    status: int = 200,
    **context: object,
) -> HttpResponse:
    answers_form = context.pop("answers_form", None)
    if answers_form is None:
        asked = questions.pending_questions(help_request, get_language())
        answers_form = AnswersForm(asked=asked) if asked else None
    return render(
        request,
        "intake/follow_up.html",
        {
            "answers_form": answers_form,
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
    if request.method == "POST" and action == "answers":
        return _send_answers(request, help_request, private)
    return _follow_up_page(request, help_request, private)


def _send_answers(request: HttpRequest, help_request: HelpRequest, private: bytes) -> HttpResponse:
    asked = questions.pending_questions(help_request, get_language())
    if not asked:
        return _follow_up_page(request, help_request, private, answers_gone=True)
    form = AnswersForm(request.POST, asked=asked)
    if not form.is_valid():
        return _follow_up_page(request, help_request, private, status=400, answers_form=form)
    try:
        services.send_answers(help_request, form.answers())
    except services.AlreadyAnsweredError:
        return _follow_up_page(request, help_request, private, answers_gone=True)
    return _follow_up_page(request, help_request, private, answers_sent=True)


def _code_login(request: HttpRequest) -> HttpResponse:
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if abuse.code_login_allowed(request):
            help_request = services.find_by_code(form.cleaned_data["code"])
            if help_request is not None:
                digits = codes.normalize(form.cleaned_data["code"]) or ""
                response = _follow_up_page(request, help_request, codes.person_private_key(digits))
                session.remember(
                    request, response, str(help_request.pk), codes.person_private_key(digits)
                )
                return response
            abuse.record_code_failure(request)
        else:
            # Refuse even the right code, and spend a lookup's work, so a throttled attempt
            # answers like a wrong code.
            codes.lookup_id("0" * codes.DIGITS)
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

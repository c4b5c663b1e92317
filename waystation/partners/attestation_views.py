"""Pages for attestation requests: a caseworker asks and cancels, coordinators keep the
individual verifiers, and the verifier answers without an account.

The verifier's link (`/partners/attest/<token>/`) first shows a page with one button, so a
link preview or a mail scanner fetching it uses nothing up. Pressing it uses the link: the
token is exchanged for a short handle bound to this browser's session (the key to what the
link discloses is kept in the session encrypted under a secret only a cookie holds), and the
browser moves to `/partners/attest/open/<handle>/`, so the token stays out of the pages that
follow. Token URLs only ever answer 200 or a redirect: Django logs the path of 4xx and 5xx
answers, and the token must not reach a log.
"""

import base64
import secrets
import time
import uuid
from datetime import timedelta

from babel import Locale, UnknownLocaleError
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from waystation.accounts.access import Step, coordinator_required, gate, role_required, staff_user
from waystation.accounts.models import Role
from waystation.cases.access import get_case_for_user
from waystation.cases.evidence import IMAGE_POLICY, evidence_items
from waystation.cases.models import Case
from waystation.cases.workflow import TransitionRefusedError
from waystation.vault.access import NotUnlockedError, keyring_key
from waystation.vault.services import KeysUnavailableError
from waystation.vault.session import keys_for, open_with_cookie, seal_under_cookie

from . import attestations, verifiers
from .attestation_forms import AnswerForm, AttestationForm, VerifierForm
from .models import AttestationRequest, IndividualVerifier, Partner

# --- The caseworker's pages -----------------------------------------------------------------


def _case_key(request: HttpRequest, case: Case) -> bytes | None:
    try:
        return keyring_key(request, case.keyring)
    except (NotUnlockedError, KeysUnavailableError):
        return None


def _verifier_label(request: HttpRequest, verifier: IndividualVerifier) -> str:
    name = attestations.verifier_name(request, verifier) or str(verifier.get_kind_display())
    return f"{name} · {', '.join(verifier.countries)}" if verifier.countries else name


def _ask_form(request: HttpRequest, case: Case, key: bytes | None) -> AttestationForm:
    offered = [
        (verifier, _verifier_label(request, verifier))
        for verifier in attestations.active_verifiers()
    ]
    items = evidence_items(case, key) if key is not None else []
    photos = [item.evidence for item in items if item.kind == "image"]
    return AttestationForm(
        request.POST if request.method == "POST" else None,
        initial={"version": case.version},
        partners=attestations.askable_partners(),
        verifiers=offered,
        photos=photos,
    )


def _link_page(request: HttpRequest, attestation: AttestationRequest, token: str) -> HttpResponse:
    """The link, shown this once, with the addressee's safe channel beside it."""
    addressee: Partner | IndividualVerifier | None = attestation.partner or attestation.verifier
    return render(
        request,
        "partners/attestation_link.html",
        {
            "attestation": attestation,
            "link": request.build_absolute_uri(reverse("partners:attest", args=[token])),
            "addressee": attestations.addressee_name(request, attestation),
            "contact": attestations.contact_of(request, addressee) if addressee else None,
            "fields": [attestations.DISCLOSABLE[name] for name in attestation.disclosed_fields],
        },
    )


@role_required(Role.CASEWORKER)
@require_http_methods(["GET", "POST"])
def ask(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    case = get_case_for_user(user, pk)
    key = _case_key(request, case)
    form = _ask_form(request, case, key)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if key is None:
                raise TransitionRefusedError(
                    _("Unlock your keys first: what you show is read from the case.")
                )
            attestation, token = attestations.create_attestation(
                case,
                addressee=data["addressee"],
                fields=data["disclose"],
                question=data["question"],
                photo=data["photo"],
                days=data["days"],
                by=user,
                keyring_key=key,
                expected_version=data["version"],
            )
        except TransitionRefusedError as refused:
            form.add_error(None, refused.message)
        else:
            return _link_page(request, attestation, token)
    status = 400 if request.method == "POST" else 200
    context = {"case": case, "form": form, "locked": key is None}
    return render(request, "partners/attestation_new.html", context, status=status)


@role_required(Role.CASEWORKER)
@require_POST
def cancel(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    attestation = attestations.get_attestation_for_user(user, pk)
    try:
        attestations.cancel_attestation(attestation, by=user, reason="staff")
    except TransitionRefusedError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("The request is cancelled: its link no longer opens."))
    return redirect("cases:detail", pk=attestation.case_id)


# --- The coordinators' registry of individual verifiers -------------------------------------


@coordinator_required
@require_http_methods(["GET", "POST"])
def verifier_list(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    form = VerifierForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            verifiers.add_verifier(**form.cleaned_data, by=user)
        except TransitionRefusedError as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("Verifier added."))
            return redirect("attestations:verifiers")
    return render(
        request,
        "partners/attestation_verifiers.html",
        {"form": form, "rows": verifiers.verifier_directory(request, user)},
        status=400 if form.errors else 200,
    )


@coordinator_required
@require_http_methods(["GET", "POST"])
def verifier_edit(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    entry = verifiers.get_verifier_for_coordinator(user, pk)
    details = verifiers.verifier_details(request, entry, by=user)
    initial = {"kind": entry.kind, "countries": ", ".join(entry.countries), **(details or {})}
    form = VerifierForm(request.POST if request.method == "POST" else None, initial=initial)
    keys = keys_for(request)
    if request.method == "POST" and form.is_valid():
        if keys is None or details is None:
            form.add_error(None, _("Your keys do not open these details: unlock them first."))
        else:
            verifiers.change_verifier(entry, **form.cleaned_data, by=user, keys=keys)
            messages.success(request, _("Verifier saved."))
            return redirect("attestations:verifiers")
    context = {"verifier": entry, "form": form, "readable": details is not None}
    return render(
        request, "partners/attestation_verifier.html", context, status=400 if form.errors else 200
    )


@coordinator_required
@require_POST
def verifier_active(request: HttpRequest, pk: uuid.UUID, active: bool) -> HttpResponse:
    user = staff_user(request)
    entry = verifiers.get_verifier_for_coordinator(user, pk)
    cancelled = verifiers.set_verifier_active(entry, active=active, by=user)
    if active:
        messages.success(request, _("The verifier is active again."))
    else:
        messages.success(
            request,
            _("The verifier is deactivated. Unanswered links to them cancelled: %(count)d.")
            % {"count": cancelled},
        )
    return redirect("attestations:verifiers")


# --- The verifier's page, without an account ------------------------------------------------

# How long a browser that opened a link may take to answer (the link's expiry still applies).
ANSWER_WINDOW = timedelta(hours=2)
HELD = "attestation_links"
REFUSAL = "attestation_refusal"


def _cookie(handle: str) -> str:
    return f"ak_{handle}"


def _associated(handle: str) -> bytes:
    return f"attestation link:{handle}".encode()


def _remember(
    request: HttpRequest,
    response: HttpResponse,
    handle: str,
    attestation: AttestationRequest,
    key: bytes,
) -> None:
    """Keep the opened link for this browser under `handle`; its key only encrypted under a
    secret that a cookie holds."""
    now = time.time()
    held = {
        kept: entry
        for kept, entry in request.session.get(HELD, {}).items()
        if now - entry.get("at", 0) <= ANSWER_WINDOW.total_seconds()
    }
    # A new session key for a browser that had one (fixation).
    if request.session.session_key:
        request.session.cycle_key()
    held[handle] = {
        "id": str(attestation.pk),
        "key": seal_under_cookie(response, _cookie(handle), key, _associated(handle)),
        "at": now,
    }
    request.session[HELD] = held


def _held(request: HttpRequest, handle: str) -> tuple[str, bytes] | None:
    entry = request.session.get(HELD, {}).get(handle)
    if not entry or time.time() - entry.get("at", 0) > ANSWER_WINDOW.total_seconds():
        return None
    key = open_with_cookie(request, _cookie(handle), entry.get("key", ""), _associated(handle))
    return (entry["id"], key) if key is not None else None


def _forget(request: HttpRequest, response: HttpResponse, handle: str) -> None:
    held = request.session.get(HELD, {})
    held.pop(handle, None)
    request.session[HELD] = held
    response.delete_cookie(_cookie(handle), path="/", samesite="Strict")


def _closed(request: HttpRequest) -> HttpResponse:
    """Used, expired, cancelled or unknown: one page for all, no hint which."""
    return render(request, "partners/attestation_closed.html", status=404)


def _paused(request: HttpRequest) -> HttpResponse:
    return render(request, "partners/attestation_paused.html", status=403)


@gate(Step.ANONYMOUS)
@csrf_exempt  # Needs the token to do anything; a failed CSRF check would log the token's path.
@require_http_methods(["GET", "POST"])
def attest(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "GET":
        request.session.set_test_cookie()
        return render(request, "partners/attestation_start.html")
    if not request.session.test_cookie_worked():
        return render(request, "partners/attestation_cookies.html")
    try:
        attestation, key = attestations.open_link(token)
    except attestations.AgreementLapsedError:
        request.session[REFUSAL] = "agreement"
        return redirect("partners:attest_closed")
    except attestations.LinkClosedError:
        return redirect("partners:attest_closed")
    handle = secrets.token_urlsafe(9)
    response = redirect("partners:attestation", handle=handle)
    _remember(request, response, handle, attestation, key)
    return response


@gate(Step.ANONYMOUS)
@require_http_methods(["GET"])
def attest_closed(request: HttpRequest) -> HttpResponse:
    if request.session.pop(REFUSAL, "") == "agreement":
        return _paused(request)
    return _closed(request)


def _country_name(code: str) -> str:
    try:
        names = Locale.parse(get_language() or "en").territories
    except (ValueError, UnknownLocaleError):
        names = Locale.parse("en").territories
    return str(names.get(code, code))


@gate(Step.ANONYMOUS)
@require_http_methods(["GET", "POST"])
def attestation(request: HttpRequest, handle: str) -> HttpResponse:
    held = _held(request, handle)
    try:
        if held is None:
            raise attestations.LinkClosedError
        opened, shown = attestations.opened_request(*held)
        form = AnswerForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            attestations.answer_attestation(opened, attestations.Answer(**form.cleaned_data))
            response = render(request, "partners/attestation_thanks.html")
            _forget(request, response, handle)
            return response
    except attestations.AgreementLapsedError:
        return _paused(request)
    except attestations.LinkClosedError:
        return _closed(request)
    context = {"attestation": opened, "shown": shown, "form": form, "handle": handle}
    if "country" in shown:
        context["country"] = _country_name(shown["country"])
    status = 400 if form.errors else 200
    return render(request, "partners/attestation_question.html", context, status=status)


@gate(Step.ANONYMOUS)
@require_http_methods(["GET"])
def attestation_photo(request: HttpRequest, handle: str) -> HttpResponse:
    """The disclosed photo, for the page the link opened only; never cached or run."""
    held = _held(request, handle)
    try:
        if held is None:
            raise attestations.LinkClosedError
        _opened, shown = attestations.opened_request(*held)
    except (attestations.AgreementLapsedError, attestations.LinkClosedError):
        return _closed(request)
    if "photo" not in shown:
        return _closed(request)
    response = HttpResponse(base64.b64decode(shown["photo"]), content_type="image/jpeg")
    response["Content-Disposition"] = content_disposition_header(False, "photo.jpg") or "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = IMAGE_POLICY
    response["Cache-Control"] = "no-store, max-age=0"
    return response

import base64
import time
from contextlib import suppress
from typing import Any

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from waystation.vault import services as vault
from waystation.vault import session as vault_session

from . import services
from .access import (
    SESSION_AUTH_AT,
    SESSION_REAUTH_AT,
    SESSION_SEEN_AT,
    Step,
    coordinator_required,
    gate,
    get_person_for_coordinator,
    pending_agreements,
    people_for_coordinator,
    reached_step,
    reauth_required,
    recently_authenticated,
    safe_next,
    staff_user,
)
from .forms import (
    AgreementAcceptForm,
    AgreementPublishForm,
    CodeForm,
    EnrolForm,
    PersonForm,
    ReauthForm,
    SignInForm,
    TeamsForm,
)
from .models import Agreement, RecoveryCodeDevice, User

CLEAR_SITE_DATA = '"cache", "cookies", "storage"'


def _posted(request: HttpRequest) -> Any:
    """Form data for a POST, even an empty one; None on GET so the form stays unbound."""
    return request.POST if request.method == "POST" else None


def _next(request: HttpRequest) -> str:
    return safe_next(
        request, request.POST.get("next") or request.GET.get("next"), reverse("pages:dashboard")
    )


def _with_next(name: str, request: HttpRequest) -> str:
    from urllib.parse import urlencode

    return f"{reverse(name)}?{urlencode({'next': _next(request)})}"


def _complete_sign_in(request: HttpRequest, device: Any) -> None:
    # A new session key at each step up in privilege defeats session fixation.
    request.session.cycle_key()
    otp_login(request, device)
    now = time.time()
    request.session[SESSION_AUTH_AT] = now
    request.session[SESSION_SEEN_AT] = now
    request.session[SESSION_REAUTH_AT] = now
    kind = "recovery_code" if isinstance(device, RecoveryCodeDevice) else "totp"
    user = staff_user(request)
    services.record_session_started(user, kind)
    keys = vault_session.keys_for(request)
    if keys is not None:
        # Colleagues added to this user's teams since the last sign-in get the team keys now.
        vault.share_team_keys(keys, by=user)


def _unlock_keys(request: HttpRequest, response: HttpResponse, user: User, password: str) -> None:
    """Open the user's encryption keys with the password just checked, for this session.
    Without keys yet, or after a password reset, the session simply stays locked."""
    with suppress(vault.KeysUnavailableError, vault.WrongSecretError):
        vault_session.remember(request, response, vault.unlock_with_password(user, password))


@gate(Step.ANONYMOUS)
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    if reached_step(request) >= Step.SECOND_FACTOR:
        return redirect(_next(request))
    form = SignInForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        result = services.sign_in(
            request, form.cleaned_data["email"], form.cleaned_data["password"]
        )
        if result.user is not None:
            login(request, result.user)
            target = "accounts:verify" if user_has_device(result.user) else "accounts:enrol"
            response = redirect(_with_next(target, request))
            _unlock_keys(request, response, result.user, form.cleaned_data["password"])
            return response
        if result.blocked_seconds:
            form.add_error(
                None,
                ngettext(
                    "Too many attempts. Wait %(seconds)d second and try again.",
                    "Too many attempts. Wait %(seconds)d seconds and try again.",
                    result.blocked_seconds,
                )
                % {"seconds": result.blocked_seconds},
            )
        elif result.locked:
            form.add_error(None, _("This account is locked. Ask a coordinator to unlock it."))
        elif result.expired:
            form.add_error(
                None, _("This account has expired. Ask a coordinator if you need it again.")
            )
        else:
            form.add_error(None, _("The e-mail address or the password is not correct."))
    return render(request, "accounts/sign_in.html", {"form": form, "next": _next(request)})


@gate(Step.PASSWORD)
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    if reached_step(request) >= Step.SECOND_FACTOR:
        return redirect(_next(request))
    if not user_has_device(user):
        return redirect(_with_next("accounts:enrol", request))
    form = CodeForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        device = services.verify_second_factor(user, form.cleaned_data["code"])
        if device is not None:
            _complete_sign_in(request, device)
            return redirect(_next(request))
        form.add_error(
            "code",
            _(
                "This code is not right, or it was already used. Wait for the next code and try "
                "again."
            ),
        )
    return render(request, "accounts/verify.html", {"form": form, "next": _next(request)})


def _qr_svg(url: str) -> str:
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    svg: str = image.to_string(encoding="unicode")
    return svg[svg.index("<svg") :]


@gate(Step.PASSWORD)
@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    if user_has_device(user):
        # Replacing an authenticator needs the current one: no way around it by URL.
        if not user.is_verified():  # type: ignore[attr-defined]
            return redirect(_with_next("accounts:verify", request))
        if not recently_authenticated(request):
            return redirect(f"{reverse('accounts:reauth')}?next={reverse('accounts:enrol')}")
    device = services.pending_totp_device(user)
    needs_keys = not vault.has_keys(user)
    form = EnrolForm(_posted(request), needs_password=needs_keys)
    if request.method == "POST" and form.is_valid():
        password = form.cleaned_data.get("password", "")
        if needs_keys and services.sign_in(request, user.email, password).user is None:
            form.add_error(
                "password",
                _(
                    "This is not your password, or there were too many "
                    "attempts. Try again in a minute."
                ),
            )
        elif device.verify_token(form.cleaned_data["code"]):
            codes = services.enrol_totp(user, device)
            update_session_auth_hash(request, user)
            recovery_key, keys = vault.create_user_key(user, password) if needs_keys else ("", None)
            _complete_sign_in(request, device)
            response = render(
                request,
                "accounts/recovery_codes.html",
                {
                    "codes": codes,
                    "recovery_key": recovery_key,
                    "next": _next(request),
                },
            )
            if keys is not None:
                vault_session.remember(request, response, keys)
            return response
        else:
            form.add_error(
                "code",
                _(
                    "This code does not match. Check that the time on your phone is right and "
                    "enter the code the app shows now."
                ),
            )
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return render(
        request,
        "accounts/enrol.html",
        {
            "form": form,
            "qr_svg": _qr_svg(device.config_url),
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "next": _next(request),
        },
    )


@require_POST
@reauth_required
def recovery_codes(request: HttpRequest) -> HttpResponse:
    codes = services.regenerate_recovery_codes(staff_user(request))
    return render(
        request,
        "accounts/recovery_codes.html",
        {"codes": codes, "next": reverse("accounts:account")},
    )


@gate(Step.SECOND_FACTOR)
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    form = PasswordChangeForm(user, _posted(request))
    if request.method == "POST" and form.is_valid():
        services.change_password(
            user, form.cleaned_data["new_password1"], old_password=form.cleaned_data["old_password"]
        )
        update_session_auth_hash(request, user)
        messages.success(request, _("Your password has been changed."))
        return redirect(_next(request))
    return render(
        request,
        "accounts/password_change.html",
        {
            "form": form,
            "forced": user.password_change_required,
            "next": _next(request),
        },
    )


@gate(Step.SECOND_FACTOR)
@require_http_methods(["GET", "POST"])
def reauth(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    form = ReauthForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        result = services.sign_in(request, user.email, form.cleaned_data["password"])
        device = (
            services.verify_second_factor(user, form.cleaned_data["code"])
            if result.user is not None and result.user.pk == user.pk
            else None
        )
        if device is not None:
            request.session[SESSION_REAUTH_AT] = time.time()
            return redirect(_next(request))
        if result.blocked_seconds:
            form.add_error(None, _("Too many attempts. Wait a minute and try again."))
        else:
            form.add_error(None, _("The password or the code is not correct."))
    return render(request, "accounts/reauth.html", {"form": form, "next": _next(request)})


@gate(Step.PASSWORD)
@require_POST
def lock(request: HttpRequest) -> HttpResponse:
    services.lock_out(staff_user(request))
    logout(request)
    response = render(request, "accounts/locked.html")
    vault_session.forget(request, response)
    response["Clear-Site-Data"] = CLEAR_SITE_DATA
    return response


@gate(Step.ANONYMOUS)
@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    if isinstance(request.user, User):
        services.record_session_ended(request.user, "sign_out")
    logout(request)
    response = redirect("accounts:login")
    vault_session.forget(request, response)
    response["Clear-Site-Data"] = CLEAR_SITE_DATA
    return response


@gate(Step.OWN_PASSWORD)
@require_http_methods(["GET", "POST"])
def agreement(request: HttpRequest) -> HttpResponse:
    pending = pending_agreements(staff_user(request))
    if not pending:
        return redirect(_next(request))
    form = AgreementAcceptForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        services.accept_agreements(staff_user(request), pending)
        messages.success(request, _("Thank you. Your acceptance has been recorded."))
        return redirect(_next(request))
    return render(
        request,
        "accounts/agreement_accept.html",
        {"form": form, "agreements": pending, "next": _next(request)},
    )


@require_http_methods(["GET"])
def account(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    recovery = RecoveryCodeDevice.objects.filter(user=user).first()
    return render(
        request,
        "accounts/account.html",
        {
            "teams": [m.team for m in user.memberships.select_related("team")],
            "has_totp": TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
            "recovery_remaining": recovery.remaining if recovery else 0,
        },
    )


@coordinator_required
@require_http_methods(["GET"])
def people(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/user_list.html", {"people": people_for_coordinator()})


@coordinator_required
@reauth_required
@require_http_methods(["GET", "POST"])
def person_new(request: HttpRequest) -> HttpResponse:
    form = PersonForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            person, password = services.create_staff(
                form.cleaned_data["email"],
                form.cleaned_data["display_name"],
                list(form.cleaned_data["teams"]),
                by=staff_user(request),
            )
        except IntegrityError:
            form.add_error("email", _("An account with this e-mail already exists."))
        else:
            return render(
                request, "accounts/user_password.html", {"person": person, "password": password}
            )
    return render(request, "accounts/user_new.html", {"form": form})


@coordinator_required
@require_http_methods(["GET"])
def person(request: HttpRequest, pk: Any) -> HttpResponse:
    person = get_person_for_coordinator(staff_user(request), pk)
    form = TeamsForm(initial={"teams": [m.team_id for m in person.memberships.all()]})
    return _person_page(request, person, form)


def _person_page(
    request: HttpRequest, person: User, form: TeamsForm, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "accounts/user_detail.html",
        {
            "person": person,
            "form": form,
            "has_totp": TOTPDevice.objects.filter(user=person, confirmed=True).exists(),
        },
        status=status,
    )


@coordinator_required
@require_POST
@reauth_required
def person_teams(request: HttpRequest, pk: Any) -> HttpResponse:
    person = get_person_for_coordinator(staff_user(request), pk)
    form = TeamsForm(request.POST)
    if not form.is_valid():
        return _person_page(request, person, form, status=400)
    services.set_teams(person, list(form.cleaned_data["teams"]), by=staff_user(request))
    messages.success(request, _("Teams saved."))
    return redirect("accounts:person", pk=person.pk)


PERSON_ACTIONS = {
    "unlock": (services.unlock_user, gettext_lazy("The account is unlocked.")),
    "deactivate": (
        services.deactivate_user,
        gettext_lazy("The account is deactivated and signed out."),
    ),
    "reactivate": (services.reactivate_user, gettext_lazy("The account is active again.")),
    "reset_second_factor": (
        services.reset_second_factor,
        gettext_lazy("The second factor is removed. The person sets up a new one at next sign-in."),
    ),
}


@coordinator_required
@require_POST
@reauth_required
def person_action(request: HttpRequest, pk: Any, action: str) -> HttpResponse:
    person = get_person_for_coordinator(staff_user(request), pk)
    if action == "reset_password":
        password = services.reset_password(person, by=staff_user(request))
        return render(
            request, "accounts/user_password.html", {"person": person, "password": password}
        )
    service, message = PERSON_ACTIONS[action]
    service(person, by=staff_user(request))
    messages.success(request, message)
    return redirect("accounts:person", pk=person.pk)


@coordinator_required
@require_http_methods(["GET"])
def agreements(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/agreement_list.html",
        {
            "agreements": Agreement.objects.select_related("published_by").order_by(
                "role", "-version"
            ),
        },
    )


@coordinator_required
@reauth_required
@require_http_methods(["GET", "POST"])
def agreement_new(request: HttpRequest) -> HttpResponse:
    form = AgreementPublishForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        published = services.publish_agreement(
            form.cleaned_data["role"] or "",
            form.cleaned_data["title"],
            form.cleaned_data["body"],
            by=staff_user(request),
        )
        messages.success(
            request,
            _(
                "Version %(version)d is published. Everyone it applies to "
                "must accept it before they continue."
            )
            % {"version": published.version},
        )
        return redirect("accounts:agreement_detail", pk=published.pk)
    return render(request, "accounts/agreement_new.html", {"form": form})


@coordinator_required
@require_http_methods(["GET"])
def agreement_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    shown = get_object_or_404(Agreement, pk=pk)
    acceptances = shown.acceptances.select_related("user").order_by("-accepted_at")
    accepted_ids = {a.user_id for a in acceptances}
    applies = User.objects.filter(is_active=True)
    if shown.role:
        applies = applies.filter(memberships__team__role=shown.role).distinct()
    return render(
        request,
        "accounts/agreement_detail.html",
        {
            "agreement": shown,
            "acceptances": acceptances,
            "waiting": [u for u in applies if u.pk not in accepted_ids],
        },
    )

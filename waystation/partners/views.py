"""The partner registry on the staff site (/staff/partners/) and the partner portal
(/partners/): access first, then the form, the service, and a redirect or a page."""

import logging
import secrets
import uuid
from typing import Any

from django.contrib import messages
from django.db import DatabaseError, IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from waystation.accounts.access import (
    coordinator_required,
    reauth_required,
    role_required,
    staff_user,
)
from waystation.accounts.models import Role, User
from waystation.audit.services import log_action
from waystation.intake import services as intake
from waystation.intake.models import Channel
from waystation.vault.access import NotUnlockedError, open_sealed_fields
from waystation.vault.services import KeysUnavailableError

from . import services
from .access import (
    REGISTRY_READERS,
    get_partner_for_user,
    get_referral_for_partner,
    partner_of_user,
    registry,
    sent_referrals,
)
from .forms import AgreementForm, CompromisedForm, PartnerAccountForm, PartnerForm, ReferralForm
from .models import Partner

logger = logging.getLogger(__name__)


def _posted(request: HttpRequest) -> Any:
    """Form data for a POST, even an empty one; None on GET so the form stays unbound."""
    return request.POST if request.method == "POST" else None


def _status(form: Any) -> int:
    return 400 if form.is_bound else 200


def _entry(form: PartnerForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "name": data["name"],
        "kind": data["kind"],
        "countries": data["countries"],
        "trust": data["trust"],
        "contact": data["contact"],
    }


# --- The registry (staff) ------------------------------------------------------------------


@role_required(*REGISTRY_READERS)
@require_http_methods(["GET"])
def partner_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "partners/partner_list.html",
        {"partners": registry(staff_user(request)), "today": timezone.localdate()},
    )


@coordinator_required
@require_http_methods(["GET", "POST"])
def partner_new(request: HttpRequest) -> HttpResponse:
    form = PartnerForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            partner = services.create_partner(**_entry(form), by=staff_user(request))
        except services.PartnerRefusedError as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("The partner is registered. Record its agreement next."))
            return redirect("registry:partner", pk=partner.pk)
    return render(request, "partners/partner_form.html", {"form": form}, status=_status(form))


def _contact(request: HttpRequest, partner: Partner, user: User) -> dict[str, Any]:
    """The partner's sealed contact for this reader, each look audited: `contact` (the
    sealed value, or why it is damaged) and `contact_shown` (channel name and handle), or
    `why_not` when the reader's keys are locked or do not open it."""
    try:
        contact = open_sealed_fields(request, partner, ["contact"])["contact"]
    except NotUnlockedError:
        return {"why_not": "locked"}
    except KeysUnavailableError:
        return {"why_not": "no_keys"}
    log_action(user, "partners.partner.contact_read", partner)
    value = contact.value if isinstance(contact.value, dict) else {}
    shown = None
    if value.get("handle"):
        channel = str(value.get("channel", ""))
        label = Channel(channel).label if channel in Channel.values else channel
        shown = {"channel": label, "handle": value["handle"]}
    return {"contact": contact, "contact_shown": shown}


def _partner_page(
    request: HttpRequest, partner: Partner, *, status: int = 200, **forms: Any
) -> HttpResponse:
    return render(
        request,
        "partners/partner_detail.html",
        {
            "partner": partner,
            **_contact(request, partner, staff_user(request)),
            "in_force": services.agreement_in_force(partner),
            "agreements": partner.agreements.select_related("recorded_by").order_by("-signed_on"),
            "accounts": User.objects.filter(memberships__team=partner.team) if partner.team else [],
            "referrals": partner.referrals.count(),
            "agreement_form": forms.get("agreement_form") or AgreementForm(),
            "compromised_form": forms.get("compromised_form") or CompromisedForm(partner=partner),
        },
        status=status,
    )


@role_required(*REGISTRY_READERS)
@require_http_methods(["GET"])
def partner_detail(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    return _partner_page(request, get_partner_for_user(staff_user(request), pk))


@coordinator_required
@require_http_methods(["GET", "POST"])
def partner_edit(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    partner = get_partner_for_user(user, pk, write=True)
    form = PartnerForm(_posted(request), partner=partner)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_partner(partner, **_entry(form), by=user)
        except services.PartnerRefusedError as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("The partner's entry is saved."))
            return redirect("registry:partner", pk=partner.pk)
    context = {"form": form, "partner": partner}
    return render(request, "partners/partner_form.html", context, status=_status(form))


@coordinator_required
@require_POST
def partner_agreements(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    partner = get_partner_for_user(user, pk, write=True)
    form = AgreementForm(request.POST)
    if form.is_valid():
        try:
            services.record_agreement(partner, **form.cleaned_data, by=user)
        except services.PartnerRefusedError as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("The agreement is recorded."))
            return redirect("registry:partner", pk=partner.pk)
    return _partner_page(request, partner, status=400, agreement_form=form)


@coordinator_required
@require_POST
def partner_compromised(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    partner = get_partner_for_user(user, pk, write=True)
    form = CompromisedForm(request.POST, partner=partner)
    if form.is_valid():
        data = form.cleaned_data
        try:
            changed = services.set_compromised(
                partner, compromised=data["flag"], reason=data["reason"], by=user
            )
        except services.PartnerRefusedError as refused:
            # Changed meanwhile: the page as it is now, with a form that fits it.
            messages.error(request, refused.message)
            partner.refresh_from_db()
            return _partner_page(request, partner, status=400)
        else:
            flagged = changed.compromised_at is not None
            messages.success(
                request,
                _("The partner is flagged compromised. Its portal is closed.")
                if flagged
                else _("The compromised flag is cleared."),
            )
            return redirect("registry:partner", pk=partner.pk)
    return _partner_page(request, partner, status=400, compromised_form=form)


@coordinator_required
@reauth_required
@require_http_methods(["GET", "POST"])
def partner_account_new(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    partner = get_partner_for_user(user, pk, write=True)
    form = PartnerAccountForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            person, password = services.create_partner_account(
                partner, email=data["email"], display_name=data["display_name"], by=user
            )
        except services.PartnerRefusedError as refused:
            form.add_error(None, refused.message)
        except IntegrityError:
            form.add_error("email", _("An account with this e-mail already exists."))
        else:
            context = {"partner": partner, "person": person, "password": password}
            return render(request, "partners/partner_account_created.html", context)
    context = {"partner": partner, "form": form}
    return render(request, "partners/partner_account_new.html", context, status=_status(form))


# --- The portal (partner accounts) ---------------------------------------------------------


@role_required(Role.PARTNER)
@require_http_methods(["GET"])
def referral_list(request: HttpRequest) -> HttpResponse:
    partner = partner_of_user(staff_user(request))
    return render(
        request,
        "partners/referral_list.html",
        {
            "partner": partner,
            "referrals": sent_referrals(partner, request.GET.get("page")),
            "refusal": services.referral_refusal(partner),
            "in_force": services.agreement_in_force(partner),
        },
    )


@role_required(Role.PARTNER)
@require_http_methods(["GET"])
def referral_detail(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    partner = partner_of_user(staff_user(request))
    shown = get_referral_for_partner(partner, pk)
    return render(request, "partners/referral_detail.html", {"referral": shown})


def _refer_page(
    request: HttpRequest, partner: Partner, form: ReferralForm, **context: Any
) -> HttpResponse:
    refusal = services.referral_refusal(partner)
    if form.is_bound and refusal and refusal not in form.non_field_errors():
        form.add_error(None, refusal)
    status = context.pop("status", _status(form))
    return render(
        request,
        "partners/referral_form.html",
        {"form": form, "partner": partner, "refusal": refusal, **context},
        status=status,
    )


def _sent_again(request: HttpRequest, partner: Partner, form_token: str) -> HttpResponse:
    """The same form sent twice: its code again within intake's replay window, then
    "already received"."""
    replayed = services.replayed_referral(partner, form_token)
    if replayed is None:
        return render(request, "partners/referral_already.html", status=409)
    referral, code = replayed
    return render(request, "partners/referral_sent.html", {"referral": referral, "code": code})


@role_required(Role.PARTNER)
@require_http_methods(["GET", "POST"])
def refer(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    partner = partner_of_user(user)
    fresh = {"form_token": secrets.token_urlsafe(32)}
    form = ReferralForm(_posted(request), partner=partner, initial=fresh)
    if request.method == "GET" or not form.is_valid():
        return _refer_page(request, partner, form)
    token = form.cleaned_data["form_token"] or fresh["form_token"]
    try:
        referral, code = services.refer_person(
            partner,
            form.answers(),
            language=form.cleaned_data["language"],
            form_token=token,
            member_confirmed=form.cleaned_data["member_confirmed"],
            by=user,
        )
    except services.PartnerRefusedError as refused:
        form.add_error(None, refused.message)
        return _refer_page(request, partner, form)
    except intake.AlreadySubmittedError:
        return _sent_again(request, partner, token)
    except (intake.NotReadyError, DatabaseError):
        logger.exception("A referral could not be stored; the partner was asked to try again.")
        return _refer_page(request, partner, form, status=503, try_again=True)
    return render(request, "partners/referral_sent.html", {"referral": referral, "code": code})

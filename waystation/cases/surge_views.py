"""Staff pages for a crisis response's surge volunteers: coordinators add their accounts
and end them early; an intake volunteer shares the response's waiting requests with them.

The list of a response's surge accounts is on its surge page (`views.surge`)."""

import uuid

from django.contrib import messages
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from waystation.accounts import services as accounts
from waystation.accounts.access import (
    coordinator_required,
    reauth_required,
    role_required,
    staff_user,
)
from waystation.vault.services import KeysUnavailableError
from waystation.vault.session import keys_for

from . import services
from .access import QUEUE_ROLES, get_surge_account_for_coordinator
from .forms import SurgeAccountForm
from .models import CrisisResponse


@coordinator_required
@reauth_required
@require_http_methods(["GET", "POST"])
def surge_account_new(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    response = get_object_or_404(CrisisResponse, pk=pk)
    form = SurgeAccountForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            person, password = services.create_surge_account(
                response, **form.cleaned_data, by=staff_user(request)
            )
        except IntegrityError:
            form.add_error("email", _("An account with this e-mail already exists."))
        except ValueError:  # the day turned between the check and the save
            form.add_error("expires_on", _("Choose a day after today."))
        else:
            context = {"person": person, "password": password, "response": response}
            return render(request, "cases/surge_account_password.html", context)
    context = {"form": form, "response": response}
    status = 400 if form.errors else 200
    return render(request, "cases/surge_account_new.html", context, status=status)


@coordinator_required
@require_POST
@reauth_required
def surge_account_end(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    person, response = get_surge_account_for_coordinator(staff_user(request), pk)
    accounts.end_account(person, by=staff_user(request))
    messages.success(
        request, _("The account has ended: it is signed out and its keys are taken back.")
    )
    return redirect("cases:surge", pk=response.pk)


@role_required(*QUEUE_ROLES)
@require_POST
def surge_share(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    response = get_object_or_404(CrisisResponse, pk=pk)
    keys = keys_for(request)
    if keys is None:
        messages.error(request, _("Unlock your keys first: sharing seals the case keys."))
        return redirect("cases:surge", pk=response.pk)
    try:
        shared = services.share_with_surge_team(response, keys, by=staff_user(request))
    except KeysUnavailableError:
        messages.error(
            request,
            _(
                "No surge volunteer of this response has keys yet: they get them when they "
                "first sign in. Try again after that."
            ),
        )
    else:
        messages.success(
            request,
            ngettext(
                "%(count)d request shared with the surge volunteers.",
                "%(count)d requests shared with the surge volunteers.",
                shared,
            )
            % {"count": shared},
        )
    return redirect("cases:surge", pk=response.pk)

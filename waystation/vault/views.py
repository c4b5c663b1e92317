from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from waystation.accounts import services as accounts
from waystation.accounts.access import safe_next, staff_user

from . import services, session
from .forms import UnlockForm

WRONG = gettext_lazy("The password or the recovery key is not correct.")


@require_http_methods(["GET", "POST"])
def unlock(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    next_url = safe_next(
        request, request.POST.get("next") or request.GET.get("next"), reverse("pages:dashboard")
    )
    if session.keys_for(request) is not None:
        return redirect(next_url)
    has_keys = services.has_keys(user)
    form = UnlockForm(request.POST if request.method == "POST" else None, has_keys=has_keys)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        check = accounts.sign_in(request, user.email, data["password"])
        recovery_key = ""
        try:
            if check.blocked_seconds:
                form.add_error(None, _("Too many attempts. Wait a minute and try again."))
                raise services.WrongSecretError
            if check.user is None:
                raise services.WrongSecretError
            if not has_keys or data.get("start_over"):
                recovery_key, keys = services.create_user_key(user, data["password"])
            elif data.get("recovery_key"):
                keys = services.unlock_with_recovery_key(
                    user, data["recovery_key"], data["password"]
                )
            else:
                keys = services.unlock_with_password(user, data["password"])
        except services.WrongSecretError:
            if check.user is not None:
                accounts.record_failed_secret(user, "recovery_key")
            if not form.non_field_errors():
                form.add_error(None, WRONG)
        else:
            services.share_team_keys(keys, by=user)
            if recovery_key:
                response = render(
                    request,
                    "vault/recovery_key.html",
                    {"recovery_key": recovery_key, "next": next_url},
                )
            else:
                messages.success(request, _("Your keys are unlocked for this session."))
                response = redirect(next_url)
            session.remember(request, response, keys)
            return response
    return render(
        request,
        "vault/unlock.html",
        {"form": form, "next": next_url, "has_keys": has_keys},
        status=400 if form.errors else 200,
    )

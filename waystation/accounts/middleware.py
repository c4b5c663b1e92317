from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django_otp import user_has_device

from . import services
from .access import Step, mark_seen, reached_step, required_step, session_expired
from .models import User

GATED_PREFIXES = ("/staff/", "/partners/")


class StaffGateMiddleware:
    """Ends stale sessions and keeps staff pages closed until every sign-in step is done."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        user = request.user
        if isinstance(user, User):
            if session_expired(request):
                services.record_session_ended(user, "timeout")
                logout(request)
                messages.info(request, _("You were signed out after a period of inactivity."))
                return self._to_login(request)
            if user.has_expired():
                services.end_account(user, by=None)
                services.record_session_ended(user, "expired")
                logout(request)
                messages.info(request, _("This account has expired, so you were signed out."))
                return self._to_login(request)
            mark_seen(request)
        if not request.path.startswith(GATED_PREFIXES):
            return None
        needed = required_step(view)
        if needed == Step.ANONYMOUS:
            return None
        reached = reached_step(request)
        if reached >= needed:
            return None
        if reached == Step.ANONYMOUS:
            return self._to_login(request)
        if reached == Step.PASSWORD:
            target = "accounts:verify" if user_has_device(user) else "accounts:enrol"
            return self._redirect(target, request)
        if reached == Step.SECOND_FACTOR:
            return self._redirect("accounts:password_change", request)
        return self._redirect("accounts:agreement", request)

    @staticmethod
    def _to_login(request: HttpRequest) -> HttpResponse:
        return StaffGateMiddleware._redirect("accounts:login", request)

    @staticmethod
    def _redirect(name: str, request: HttpRequest) -> HttpResponse:
        url = reverse(name)
        if request.method == "GET" and request.path != url:
            url = f"{url}?{urlencode({'next': request.get_full_path()})}"
        return HttpResponseRedirect(url)

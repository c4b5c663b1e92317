"""Who may reach which staff page, and the session rules behind it.

Staff views are closed by default: the gate middleware lets a request through only when the
user has passed every step the view needs (password, second factor, own password, current
agreement). Views open earlier steps by marking themselves with `gate(...)`.
"""

import enum
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404, HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from .models import Agreement, Role, User

# Any response: a page, a redirect, or a file streamed as it is decrypted.
View = TypeVar("View", bound=Callable[..., HttpResponseBase])

SESSION_AUTH_AT = "ws_auth_at"
SESSION_SEEN_AT = "ws_seen_at"
SESSION_REAUTH_AT = "ws_reauth_at"


class Step(enum.IntEnum):
    """The steps of signing in, in order. A view needs every step up to its own."""

    ANONYMOUS = 0
    PASSWORD = 1  # password accepted, second factor not yet given
    SECOND_FACTOR = 2  # verified with a second factor
    OWN_PASSWORD = 3  # no temporary or demo password left to change
    AGREEMENT = 4  # the current confidentiality agreements accepted


def gate(step: Step) -> Callable[[View], View]:
    """Let a staff view open once the user has reached `step` (the default is all steps)."""

    def decorate(view: View) -> View:
        view.gate_step = step  # type: ignore[attr-defined]
        return view

    return decorate


def required_step(view: Callable[..., Any]) -> Step:
    return getattr(view, "gate_step", Step.AGREEMENT)


def pending_agreements(user: User) -> list[Agreement]:
    """The latest agreement for everyone and for each of the user's roles, not yet accepted.
    One query: it runs on every staff request."""
    roles = ["", *sorted(user.roles)]
    newer = Agreement.objects.filter(role=OuterRef("role"), version__gt=OuterRef("version"))
    return list(
        Agreement.objects.filter(~Exists(newer), role__in=roles)
        .exclude(acceptances__user=user)
        .order_by("role")
    )


def reached_step(request: HttpRequest) -> Step:
    user = request.user
    if not user.is_authenticated or not isinstance(user, User):
        return Step.ANONYMOUS
    if not user.is_verified():  # type: ignore[attr-defined]
        return Step.PASSWORD
    if user.password_change_required:
        return Step.SECOND_FACTOR
    if pending_agreements(user):
        return Step.OWN_PASSWORD
    return Step.AGREEMENT


def session_expired(request: HttpRequest) -> bool:
    """True when the session passed its idle timeout or its absolute lifetime."""
    now = time.time()
    auth_at = request.session.get(SESSION_AUTH_AT)
    seen_at = request.session.get(SESSION_SEEN_AT, auth_at)
    if auth_at is None:
        return False
    return (
        now - auth_at > settings.SESSION_MAX_AGE.total_seconds()
        or now - (seen_at or auth_at) > settings.SESSION_IDLE_TIMEOUT.total_seconds()
    )


def mark_seen(request: HttpRequest) -> None:
    # Writing the session at most every 30 s keeps the idle clock without a write per request.
    now = time.time()
    if now - request.session.get(SESSION_SEEN_AT, 0) > 30:
        request.session[SESSION_SEEN_AT] = now


def safe_next(request: HttpRequest, candidate: str | None, default: str) -> str:
    if (
        candidate
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        and candidate.startswith("/")
    ):
        return candidate
    return default


def role_required(*roles: str) -> Callable[[View], View]:
    """Open a staff view only to users holding one of `roles`; everyone else gets 404."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            user = request.user
            if not isinstance(user, User) or not user.has_role(*roles):
                raise Http404
            return view(request, *args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


coordinator_required = role_required(Role.COORDINATOR)


def recently_authenticated(request: HttpRequest) -> bool:
    reauth_at = request.session.get(SESSION_REAUTH_AT)
    return reauth_at is not None and (
        time.time() - reauth_at <= settings.REAUTH_MAX_AGE.total_seconds()
    )


def reauth_required(view: View) -> View:
    """Ask for password and second factor again when the last proof is older than
    REAUTH_MAX_AGE. A POST is not replayed: the user returns to the form it came from
    (its `return_to` field) and repeats the action."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if recently_authenticated(request):
            return view(request, *args, **kwargs)
        if request.method == "POST":
            back = safe_next(request, request.POST.get("return_to"), reverse("pages:dashboard"))
        else:
            back = request.get_full_path()
        return HttpResponseRedirect(f"{reverse('accounts:reauth')}?{urlencode({'next': back})}")

    return wrapped  # type: ignore[return-value]


def staff_user(request: HttpRequest) -> User:
    """The signed-in account behind a gated staff view; 404 if there is none."""
    user = request.user
    if not isinstance(user, User):
        raise Http404
    return user


def people_for_coordinator() -> QuerySet[User]:
    return User.objects.prefetch_related("memberships__team").order_by("display_name", "email")


def get_person_for_coordinator(user: User, pk: Any) -> User:
    """The account `pk`, for a coordinator; anyone else gets 404."""
    if not user.has_role(Role.COORDINATOR):
        raise Http404
    return get_object_or_404(User, pk=pk)

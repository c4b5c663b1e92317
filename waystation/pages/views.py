from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from waystation.accounts.models import Role, User


@require_http_methods(["GET"])
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    roles = user.roles if isinstance(user, User) else frozenset()
    labels = sorted(str(Role(role).label) for role in roles)
    return render(request, "pages/dashboard.html", {"roles": labels})


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "pages/error.html", {"status": 400}, status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # Outsiders cannot tell "not allowed" from "not there".
    return render(request, "pages/error.html", {"status": 404}, status=404)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "pages/error.html", {"status": 404}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/error.html", {"status": 500}, status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "pages/error.html", {"status": 403, "csrf": True}, status=403)

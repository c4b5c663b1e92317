"""Staff pages for attestation requests and individual verifiers, under /staff/."""

from django.urls import path

from . import attestation_views as views

app_name = "attestations"

urlpatterns = [
    path("verifiers/", views.verifier_list, name="verifiers"),
    path("verifiers/<uuid:pk>/", views.verifier_edit, name="verifier"),
    path(
        "verifiers/<uuid:pk>/deactivate/",
        views.verifier_active,
        {"active": False},
        name="verifier_deactivate",
    ),
    path(
        "verifiers/<uuid:pk>/reactivate/",
        views.verifier_active,
        {"active": True},
        name="verifier_reactivate",
    ),
    path("cases/<uuid:pk>/attestations/new/", views.ask, name="ask"),
    path("attestations/<uuid:pk>/cancel/", views.cancel, name="cancel"),
]

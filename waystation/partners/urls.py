"""The partner portal, mounted at /partners/: for accounts with the partner role, each
seeing its own organization only."""

from django.urls import path

from . import attestation_views, views

app_name = "partners"

urlpatterns = [
    path("", views.referral_list, name="referrals"),
    path("refer/", views.refer, name="refer"),
    path("referrals/<uuid:pk>/", views.referral_detail, name="referral"),
    # Attestation links, opened without an account (see attestation_views).
    path("attest/closed/", attestation_views.attest_closed, name="attest_closed"),
    path("attest/<str:token>/", attestation_views.attest, name="attest"),
    path("attest/open/<str:handle>/", attestation_views.attestation, name="attestation"),
    path(
        "attest/open/<str:handle>/photo/",
        attestation_views.attestation_photo,
        name="attestation_photo",
    ),
]

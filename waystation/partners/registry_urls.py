"""The partner registry on the staff site, mounted at /staff/partners/."""

from django.urls import path

from . import views

app_name = "registry"

urlpatterns = [
    path("", views.partner_list, name="partners"),
    path("new/", views.partner_new, name="partner_new"),
    path("<uuid:pk>/", views.partner_detail, name="partner"),
    path("<uuid:pk>/edit/", views.partner_edit, name="partner_edit"),
    path("<uuid:pk>/agreements/", views.partner_agreements, name="agreements"),
    path("<uuid:pk>/compromised/", views.partner_compromised, name="compromised"),
    path("<uuid:pk>/accounts/new/", views.partner_account_new, name="account_new"),
]

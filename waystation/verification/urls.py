from django.urls import path

from . import views

app_name = "verification"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("<uuid:pk>/", views.case_verification, name="case"),
    path("<uuid:pk>/reviews/", views.review, name="review"),
    path("<uuid:pk>/evidence/", views.evidence_add, name="evidence_add"),
    path("<uuid:pk>/decisions/", views.decide, name="decide"),
    path("<uuid:pk>/decisions/confirm/", views.confirm, name="confirm"),
    path("<uuid:pk>/decisions/withdraw/", views.withdraw, name="withdraw"),
    path("<uuid:pk>/share/", views.share, name="share"),
]

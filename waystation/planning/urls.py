from django.urls import path

from . import case_views, views

app_name = "planning"

urlpatterns = [
    path("countries/", views.country_facts, name="countries"),
    path("countries/<uuid:pk>/", views.country_facts, name="country"),
    path("templates/", case_views.templates, name="templates"),
    path("templates/<slug:pathway>/", case_views.template, name="template"),
    path("cases/<uuid:pk>/", case_views.case_plan, name="case"),
    path("cases/<uuid:pk>/documents/", case_views.document_add, name="document_add"),
    path("cases/<uuid:pk>/nationalities/", case_views.nationalities, name="nationalities"),
    path("cases/<uuid:pk>/pathway/", case_views.pathway, name="pathway"),
    path("cases/<uuid:pk>/milestones/", case_views.milestone_add, name="milestone_add"),
    path("cases/<uuid:pk>/options/", case_views.options, name="options"),
    path("cases/<uuid:pk>/dossier/", case_views.dossier_page, name="dossier"),
    path("cases/<uuid:pk>/dossier/export/", case_views.dossier_export, name="dossier_export"),
    path("documents/<uuid:pk>/", case_views.document, name="document"),
    path("documents/<uuid:pk>/remove/", case_views.document_remove, name="document_remove"),
    path("milestones/<uuid:pk>/", case_views.milestone, name="milestone"),
    path("milestones/<uuid:pk>/done/", case_views.milestone_done, name="milestone_done"),
]

from django.urls import path

from . import views

app_name = "planning"

urlpatterns = [
    path("countries/", views.country_facts, name="countries"),
    path("countries/<uuid:pk>/", views.country_facts, name="country"),
]

from django.urls import path

from . import public_views

app_name = "guidance"

urlpatterns = [
    path("countries/", public_views.countries, name="countries"),
    path("countries/<str:code>/", public_views.country, name="country"),
]

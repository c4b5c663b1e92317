from django.urls import path

from . import views

app_name = "vault"

urlpatterns = [
    path("unlock/", views.unlock, name="unlock"),
]

from django.urls import path

from . import views

app_name = "pages"

urlpatterns = [
    path("staff/", views.dashboard, name="dashboard"),
]

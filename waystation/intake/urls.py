from django.urls import path

from . import views

app_name = "intake"

urlpatterns = [
    path("", views.home, name="home"),
    path("ask/", views.ask, name="ask"),
    path("follow-up/", views.follow_up, name="follow_up"),
    path("follow-up/files/", views.follow_up_files, name="follow_up_files"),
    path("safety/", views.safety, name="safety"),
    path("exit/", views.exit_now, name="exit"),
]

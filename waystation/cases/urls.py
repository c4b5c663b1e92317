from django.urls import path

from . import views

app_name = "cases"

urlpatterns = [
    path("", views.case_queue, name="queue"),
    path("break-glass/", views.break_glass_review, name="break_glass_review"),
    path("<uuid:pk>/", views.case_detail, name="detail"),
    path("<uuid:pk>/move/", views.case_move, name="move"),
    path("<uuid:pk>/break-glass/", views.break_glass, name="break_glass"),
]

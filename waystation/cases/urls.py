from django.urls import path

from . import views

app_name = "cases"

urlpatterns = [
    path("", views.case_queue, name="queue"),
    path("break-glass/", views.break_glass_review, name="break_glass_review"),
    path("tasks/", views.my_tasks, name="my_tasks"),
    path("bulk/", views.bulk, name="bulk"),
    path("crises/", views.crises, name="crises"),
    path("reply-templates/", views.reply_templates, name="reply_templates"),
    path("reply-templates/<uuid:pk>/", views.reply_templates, name="reply_template"),
    path("crises/<uuid:pk>/", views.surge, name="surge"),
    path("tasks/<uuid:pk>/done/", views.task_done, name="task_done"),
    path("<uuid:pk>/", views.case_detail, name="detail"),
    path("<uuid:pk>/move/", views.case_move, name="move"),
    path("<uuid:pk>/assign/", views.case_assign, name="assign"),
    path("<uuid:pk>/reply/", views.case_reply, name="reply"),
    path("<uuid:pk>/notes/", views.case_note, name="note"),
    path("<uuid:pk>/tasks/", views.case_task, name="task"),
    path("<uuid:pk>/break-glass/", views.break_glass, name="break_glass"),
]

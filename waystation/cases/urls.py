from django.urls import path

from . import surge_views, views

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
    path("crises/<uuid:pk>/edit/", views.crisis_edit, name="crisis_edit"),
    path(
        "crises/<uuid:pk>/surge-accounts/new/",
        surge_views.surge_account_new,
        name="surge_account_new",
    ),
    path("crises/<uuid:pk>/share/", surge_views.surge_share, name="surge_share"),
    path("surge-accounts/<uuid:pk>/end/", surge_views.surge_account_end, name="surge_account_end"),
    path("crises/<uuid:pk>/questions/", views.crisis_questions, name="crisis_questions"),
    path("crises/questions/<uuid:pk>/", views.crisis_question, name="crisis_question"),
    path(
        "crises/questions/<uuid:pk>/move/",
        views.crisis_question_move,
        name="crisis_question_move",
    ),
    path(
        "crises/questions/<uuid:pk>/remove/",
        views.crisis_question_remove,
        name="crisis_question_remove",
    ),
    path("tasks/<uuid:pk>/done/", views.task_done, name="task_done"),
    path("<uuid:pk>/", views.case_detail, name="detail"),
    path("<uuid:pk>/move/", views.case_move, name="move"),
    path("<uuid:pk>/assign/", views.case_assign, name="assign"),
    path("<uuid:pk>/reply/", views.case_reply, name="reply"),
    path("<uuid:pk>/notes/", views.case_note, name="note"),
    path("<uuid:pk>/tasks/", views.case_task, name="task"),
    path("<uuid:pk>/evidence/<uuid:evidence>/", views.case_evidence, name="evidence"),
    path("<uuid:pk>/duplicates/<uuid:other>/", views.duplicate_decide, name="duplicate_decide"),
    path("<uuid:pk>/break-glass/", views.break_glass, name="break_glass"),
]

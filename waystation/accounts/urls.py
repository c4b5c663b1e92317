from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("sign-in/", views.sign_in, name="login"),
    path("sign-in/code/", views.verify, name="verify"),
    path("sign-out/", views.sign_out, name="logout"),
    path("lock/", views.lock, name="lock"),
    path("agreement/", views.agreement, name="agreement"),
    path("account/", views.account, name="account"),
    path("account/second-factor/", views.enrol, name="enrol"),
    path("account/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("account/password/", views.password_change, name="password_change"),
    path("account/confirm/", views.reauth, name="reauth"),
    path("people/", views.people, name="people"),
    path("people/new/", views.person_new, name="person_new"),
    path("people/<uuid:pk>/", views.person, name="person"),
    path("people/<uuid:pk>/teams/", views.person_teams, name="person_teams"),
    path(
        "people/<uuid:pk>/unlock/", views.person_action, {"action": "unlock"}, name="person_unlock"
    ),
    path(
        "people/<uuid:pk>/deactivate/",
        views.person_action,
        {"action": "deactivate"},
        name="person_deactivate",
    ),
    path(
        "people/<uuid:pk>/reactivate/",
        views.person_action,
        {"action": "reactivate"},
        name="person_reactivate",
    ),
    path(
        "people/<uuid:pk>/reset-second-factor/",
        views.person_action,
        {"action": "reset_second_factor"},
        name="person_reset_second_factor",
    ),
    path(
        "people/<uuid:pk>/reset-password/",
        views.person_action,
        {"action": "reset_password"},
        name="person_reset_password",
    ),
    path("agreements/", views.agreements, name="agreements"),
    path("agreements/new/", views.agreement_new, name="agreement_new"),
    path("agreements/<uuid:pk>/", views.agreement_detail, name="agreement_detail"),
]

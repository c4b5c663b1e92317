"""E-mail notices to staff: a case or a task given to them, after commit, with nothing of
the case in them, never for what they did themselves; in their language, as the digest."""

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import transaction
from django.test import Client
from django.utils import timezone, translation

from conftest import PASSWORD, make_user, sign_in
from waystation.accounts.models import Role, Team, User
from waystation.cases import services
from waystation.cases.models import Case, Task
from waystation.vault import services as vault

from .conftest import ask

pytestmark = pytest.mark.django_db

STAFF_URL = "https://staff.example.org/staff/"


@pytest.fixture(autouse=True)
def _staff_url(settings) -> None:  # type: ignore[no-untyped-def]
    settings.STAFF_URL = STAFF_URL


def _volunteer_and_case() -> tuple[User, Case]:
    """An intake volunteer holding keys that open a request stored as the public form
    stores it (from Lagos, NG, by "Ada Okafor")."""
    volunteer = make_user(Role.INTAKE_VOLUNTEER, keys=True)
    vault.ensure_team_key(Team.objects.get(memberships__user=volunteer))
    return volunteer, ask(name="Ada Okafor").case  # type: ignore[attr-defined]


def _assert_content_free(message: Any, case: Case, *also: str) -> None:
    for detail in (case.reference, case.country, case.region, "Ada Okafor", *also):
        assert detail not in message.subject and detail not in message.body


def test_a_person_given_a_case_is_told_after_commit_with_nothing_of_it(  # type: ignore[no-untyped-def]
    django_capture_on_commit_callbacks,
) -> None:
    volunteer, case = _volunteer_and_case()
    caseworker = make_user(Role.CASEWORKER, keys=True)
    keys = vault.unlock_with_password(volunteer, PASSWORD)
    with django_capture_on_commit_callbacks() as callbacks:
        services.assign_case(case, team=None, user=caseworker, by=volunteer, keys=keys)
        assert mail.outbox == []
    assert mail.outbox == [] and len(callbacks) == 1  # nothing before the commit
    callbacks[0]()
    [message] = mail.outbox
    assert message.to == [caseworker.email]
    assert message.body == f"A case was given to you. Sign in to see it: {STAFF_URL}"
    assert message.subject == "Waystation: a case was given to you"
    _assert_content_free(message, case)


def test_an_assignment_undone_tells_nobody(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    volunteer, case = _volunteer_and_case()
    caseworker = make_user(Role.CASEWORKER, keys=True)
    keys = vault.unlock_with_password(volunteer, PASSWORD)
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            services.assign_case(case, team=None, user=caseworker, by=volunteer, keys=keys)
            raise RuntimeError("the caller's transaction fails later")
        with pytest.raises(services.StaleCaseError):
            services.assign_case(
                case, team=None, user=caseworker, by=volunteer, keys=keys, expected_version=9
            )
    assert mail.outbox == []
    case.refresh_from_db()
    assert case.assigned_to is None


def test_a_task_given_to_someone_else_tells_them_after_commit(  # type: ignore[no-untyped-def]
    client: Client, django_capture_on_commit_callbacks
) -> None:
    volunteer, case = _volunteer_and_case()
    colleague = make_user(Role.INTAKE_VOLUNTEER)  # sees the new case too
    sign_in(client, volunteer)
    client.post("/staff/unlock/", {"password": PASSWORD})
    task = {"title": "Ask for the police letter", "due_on": "2030-01-01"}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/staff/cases/{case.pk}/tasks/", {**task, "owner": colleague.pk})
    [message] = mail.outbox
    assert message.to == [colleague.email]
    assert message.body == f"A task was given to you. Sign in to see it: {STAFF_URL}"
    _assert_content_free(message, case, "police letter", "2030")
    assert Task.objects.get().owner == colleague


def test_nobody_is_told_of_what_they_did_themselves(  # type: ignore[no-untyped-def]
    client: Client, django_capture_on_commit_callbacks
) -> None:
    volunteer, case = _volunteer_and_case()
    sign_in(client, volunteer)
    client.post("/staff/unlock/", {"password": PASSWORD})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/staff/cases/{case.pk}/tasks/",
            {"title": "Call back", "owner": volunteer.pk, "due_on": "2030-01-01"},
        )
        assigned = client.post(
            f"/staff/cases/{case.pk}/assign/", {"user": volunteer.pk, "version": 1}
        )
    assert assigned.status_code == 302
    case.refresh_from_db()
    assert case.assigned_to == volunteer and Task.objects.count() == 1
    assert mail.outbox == []


def test_notices_and_the_digest_are_written_in_the_mail_language(  # type: ignore[no-untyped-def]
    settings, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    # Accounts keep no language of their own: every e-mail is in the site's language,
    # whatever language the sender's page is in.
    settings.LANGUAGE_CODE = "es"
    written_in: list[str | None] = []
    monkeypatch.setattr(
        services, "send_mail", lambda **kwargs: written_in.append(translation.get_language())
    )
    volunteer, case = _volunteer_and_case()
    caseworker = make_user(Role.CASEWORKER, keys=True)
    keys = vault.unlock_with_password(volunteer, PASSWORD)
    assert services.mail_language(caseworker) == "es"
    with translation.override("fr"), django_capture_on_commit_callbacks(execute=True):
        services.assign_case(case, team=None, user=caseworker, by=volunteer, keys=keys)
    Case.objects.filter(pk=case.pk).update(answer_due_at=timezone.now() + timedelta(days=1))
    with translation.override("fr"):
        assert services.send_digests() == 2  # the volunteer, and the caseworker it went to
    assert written_in == ["es", "es", "es"]

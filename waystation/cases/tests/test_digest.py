"""The daily digest: counts and a link, to the people the work waits for, nothing more."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from conftest import make_user
from waystation.accounts.models import Role
from waystation.cases.models import Task

from .factories import make_case

pytestmark = pytest.mark.django_db


def test_digest_counts_cases_due_soon_and_tasks_due_without_details(settings) -> None:  # type: ignore[no-untyped-def]
    settings.STAFF_URL = "https://staff.example.org/staff/"
    volunteer = make_user(Role.INTAKE_VOLUNTEER)
    make_user(Role.CASEWORKER)  # nothing waits for them
    now = timezone.now()
    due = make_case(country="UG", answer_due_at=now + timedelta(days=1))
    make_case(answer_due_at=now + timedelta(days=10))  # not soon
    make_case(answer_due_at=now - timedelta(days=1), answered_at=now)  # answered
    Task.objects.create(
        case=due, keyring_id=due.keyring_id, owner=volunteer, due_on=timezone.localdate()
    )
    out = StringIO()
    call_command("send_digest", stdout=out)
    assert out.getvalue().strip() == "digests sent: 1"
    [message] = mail.outbox
    assert message.to == [volunteer.email]
    assert "Cases that need an answer soon: 1. Your tasks due: 1." in message.body
    assert "https://staff.example.org/staff/" in message.body
    for detail in (due.reference, "UG", "Lagos"):
        assert detail not in message.body and detail not in message.subject

"""Two volunteers answering the same case at once, on PostgreSQL (real row locks)."""

import threading

import pytest
from django.db import connection

from conftest import make_user
from waystation.accounts.models import Role, User
from waystation.audit.models import AuditEntry
from waystation.cases import services
from waystation.cases.models import Case, CaseEvent, Reason, State
from waystation.intake.models import Message

from .factories import make_case

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_two_volunteers_answering_at_once_one_wins_the_other_is_told() -> None:
    case = make_case()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def answer(target: str, reason: str) -> None:
        from django.db import connections

        try:
            barrier.wait()
            services.transition(case, target, by=None, reason=reason, expected_version=1)
            outcomes.append(target)
        except services.StaleCaseError:
            outcomes.append("stale")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=answer, args=(State.TRIAGED, "")),
        threading.Thread(target=answer, args=(State.DECLINED, Reason.OUTSIDE_MANDATE)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(outcomes) == 2 and outcomes.count("stale") == 1
    winner = next(o for o in outcomes if o != "stale")
    case.refresh_from_db()
    assert case.state == winner and case.version == 2
    assert CaseEvent.objects.filter(case=case).count() == 1
    assert Case.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_two_volunteers_replying_at_once_one_is_sent_the_other_is_told() -> None:
    case = make_case()
    volunteers = [make_user(Role.INTAKE_VOLUNTEER) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def reply(volunteer: User, text: str) -> None:
        from django.db import connections

        try:
            barrier.wait()
            services.reply_to_person(case, text, by=volunteer, expected_version=1)
            outcomes.append(text)
        except services.StaleCaseError:
            outcomes.append("stale")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=reply, args=(volunteer, f"Answer {n}."))
        for n, volunteer in enumerate(volunteers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(outcomes) == 2 and outcomes.count("stale") == 1
    case.refresh_from_db()
    assert case.version == 2 and case.answered_at is not None
    assert Message.objects.filter(request_id=case.request_id).count() == 1
    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.REPLIED).count() == 1
    assert AuditEntry.objects.filter(action="intake.message.sent").count() == 1

"""Two volunteers answering the same case at once, on PostgreSQL (real row locks)."""

import threading

import pytest
from django.db import connection

from waystation.cases import services
from waystation.cases.models import Case, CaseEvent, Reason, State

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

"""Synthetic cases for benchmarks: plausible spreads, nothing personal, never without demo
mode or the scratch variable, and the queue reads them like real cases."""

from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.db import connection

from waystation.accounts.models import User
from waystation.audit.models import AuditEntry
from waystation.cases import queue
from waystation.cases.models import Case, CaseEvent, State
from waystation.cases.synthetic import SyntheticRefusedError, seed_cases
from waystation.cases.workflow import ENDED
from waystation.intake.models import HelpRequest
from waystation.vault.models import UserKey

pytestmark = pytest.mark.django_db

LANGUAGES = {code for code, _name in django_settings.LANGUAGES}


@pytest.fixture
def scratch(settings, monkeypatch):  # type: ignore[no-untyped-def]
    settings.DEMO_MODE = False
    monkeypatch.setenv("WAYSTATION_ALLOW_SYNTHETIC", "1")


@pytest.fixture
def seeded(scratch) -> list[Case]:  # type: ignore[no-untyped-def]
    seed_cases(500, batch=200, seed=1)
    return list(Case.objects.select_related("request", "duplicate_of"))


def test_seeding_adds_cases_with_plausible_spreads(seeded) -> None:  # type: ignore[no-untyped-def]
    assert len(seeded) == 500
    assert HelpRequest.objects.count() == 500
    assert {case.risk_rank for case in seeded} == {1, 2, 3}
    assert len({case.country for case in seeded}) >= 8
    assert {case.language for case in seeded} <= LANGUAGES
    ended = [case for case in seeded if case.state in ENDED]
    assert len(ended) > len(seeded) / 2
    assert any(case.state == State.NEW for case in seeded)
    assert any(case.state not in ENDED | {State.NEW} for case in seeded)
    started = [case for case in seeded if case.state != State.NEW]
    assigned = [case for case in started if case.assigned_to_id]
    assert 0.35 < len(assigned) / len(started) < 0.65


def test_seeded_cases_are_consistent(seeded) -> None:  # type: ignore[no-untyped-def]
    assert len({case.reference for case in seeded}) == 500
    for case in seeded:
        assert case.answer_due_at == case.received_at + timedelta(days=14)
        assert case.reference == case.request.reference
        assert case.request.received_at == case.received_at
        assert (case.answered_at is None) == (case.state == State.NEW)
        if case.state == State.DUPLICATE:
            assert case.duplicate_of.received_at <= case.received_at
            assert case.request.duplicate_of_id == case.duplicate_of.request_id
    last_moves = {event.case_id: event for event in CaseEvent.objects.order_by("at", "id")}
    for case in seeded:
        if case.state == State.NEW:
            assert case.pk not in last_moves
        else:
            assert last_moves[case.pk].to_state == case.state
            assert last_moves[case.pk].at == case.state_changed_at


def test_seeded_rows_hold_nothing_personal(seeded) -> None:  # type: ignore[no-untyped-def]
    request = HelpRequest.objects.get(pk=seeded[0].request_id)
    assert all(getattr(request, name) is None for name in request.sealed_field_names())
    staff = User.objects.filter(assigned_cases__isnull=False).distinct()
    assert staff
    for user in staff:
        assert user.email.endswith("@example.invalid")
        assert not user.has_usable_password()
    assert not UserKey.objects.exists()


def test_seeding_writes_one_audit_entry(scratch) -> None:  # type: ignore[no-untyped-def]
    seed_cases(30, batch=10)

    entries = list(AuditEntry.objects.all())
    assert [(e.action, e.details) for e in entries] == [("cases.synthetic.seeded", {"cases": 30})]


def test_seeding_again_adds_more(scratch) -> None:  # type: ignore[no-untyped-def]
    seed_cases(40, seed=2)
    seed_cases(40, seed=2)

    assert Case.objects.count() == 80
    assert User.objects.count() == 8


@pytest.mark.parametrize("variable", [None, "0", "true"])
def test_command_refuses_without_demo_mode(settings, monkeypatch, variable) -> None:  # type: ignore[no-untyped-def]
    settings.DEMO_MODE = False
    if variable is None:
        monkeypatch.delenv("WAYSTATION_ALLOW_SYNTHETIC", raising=False)
    else:
        monkeypatch.setenv("WAYSTATION_ALLOW_SYNTHETIC", variable)

    with pytest.raises(CommandError, match="refused"):
        call_command("seed_synthetic", "--cases", "5")
    with pytest.raises(SyntheticRefusedError):
        seed_cases(5)
    assert not Case.objects.exists()
    assert not User.objects.exists()


def test_command_runs_in_demo_mode(settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    settings.DEMO_MODE = True
    monkeypatch.delenv("WAYSTATION_ALLOW_SYNTHETIC", raising=False)
    out = StringIO()

    call_command("seed_synthetic", "--cases", "20", stdout=out)

    assert Case.objects.count() == 20
    assert "Created 20 synthetic cases" in out.getvalue()


def test_command_runs_with_the_scratch_variable(scratch) -> None:  # type: ignore[no-untyped-def]
    out = StringIO()

    call_command("seed_synthetic", "--cases", "20", "--batch", "7", stdout=out)

    assert Case.objects.count() == 20
    assert "cases/s" in out.getvalue()


def _queue_order(case: Case) -> tuple[object, ...]:
    return (case.risk_rank, case.answer_due_at, case.pk)


def test_queue_pages_seeded_cases_in_queue_order(seeded) -> None:  # type: ignore[no-untyped-def]
    new = sorted((case for case in seeded if case.state == State.NEW), key=_queue_order)

    first = queue.page(Case.objects.all(), queue.Filters())

    assert [case.pk for case in first.cases] == [case.pk for case in new[: queue.PAGE_SIZE]]

    walked: list[Case] = []
    cursor = ""
    while True:
        page = queue.page(Case.objects.all(), queue.Filters(state=""), after=cursor)
        walked += page.cases
        cursor = page.next_cursor
        if not cursor:
            break
    assert [case.pk for case in walked] == [case.pk for case in sorted(seeded, key=_queue_order)]


def test_seeding_gives_back_the_sqlite_settings_it_borrows(scratch) -> None:  # type: ignore[no-untyped-def]
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")

    def pragmas() -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size")
            cache = cursor.fetchone()[0]
            cursor.execute("PRAGMA wal_autocheckpoint")
            return [cache, cursor.fetchone()[0]]

    before = pragmas()
    seed_cases(10)

    assert pragmas() == before

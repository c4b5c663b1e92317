"""The audit chain detects an altered, inserted or deleted entry, and holds no content."""

import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from waystation.audit.models import AppendOnlyError, AuditEntry, AuditHead
from waystation.audit.services import log_action, verify_chain

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain() -> list[AuditEntry]:
    return [
        log_action(
            None,
            f"tests.thing.done_{n}",
            object_type="thing",
            object_id=uuid.uuid4(),
            details={"n": n},
        )
        for n in range(1, 6)
    ]


def _raw(sql: str, params: list[object]) -> None:
    # Tampering happens below the ORM, the way someone with database access would do it.
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_intact_chain_verifies(chain: list[AuditEntry]) -> None:
    report = verify_chain()
    assert report.ok and report.checked == 5 and report.head_position == 5
    assert [e.position for e in chain] == [1, 2, 3, 4, 5]
    assert chain[1].prev_hash == chain[0].hash


def test_altered_entry_is_named(chain: list[AuditEntry]) -> None:
    _raw("UPDATE audit_auditentry SET action = %s WHERE position = %s", ["tests.thing.hidden", 3])
    report = verify_chain()
    assert report.problem is not None
    assert (report.problem.kind, report.problem.position) == ("altered", 3)


def test_altered_time_is_detected(chain: list[AuditEntry]) -> None:
    entry = chain[1]
    _raw(
        "UPDATE audit_auditentry SET at = %s WHERE position = %s", [entry.at.replace(year=2001), 2]
    )
    assert verify_chain().problem.kind == "altered"  # type: ignore[union-attr]


def test_deleted_entry_is_named(chain: list[AuditEntry]) -> None:
    _raw("DELETE FROM audit_auditentry WHERE position = %s", [2])
    report = verify_chain()
    assert (report.problem.kind, report.problem.position) == ("deleted", 2)  # type: ignore[union-attr]


def test_deleted_last_entries_are_detected(chain: list[AuditEntry]) -> None:
    _raw("DELETE FROM audit_auditentry WHERE position >= %s", [4])
    report = verify_chain()
    assert (report.problem.kind, report.problem.position) == ("deleted", 4)  # type: ignore[union-attr]


def test_inserted_entry_is_detected(chain: list[AuditEntry]) -> None:
    forged = AuditEntry(
        position=6,
        at=chain[-1].at,
        actor_id=None,
        action="tests.thing.forged",
        object_type="thing",
        object_id=uuid.uuid4(),
        details={},
        prev_hash=chain[-1].hash,
        hash="f" * 64,
    )
    forged.save()
    AuditHead.objects.filter(pk=1).update(position=6, hash=forged.hash)
    report = verify_chain()
    assert (report.problem.kind, report.problem.position) == ("altered", 6)  # type: ignore[union-attr]


def test_entry_inserted_past_the_head_is_named(chain: list[AuditEntry]) -> None:
    AuditEntry(
        position=9,
        at=chain[-1].at,
        action="tests.thing.forged",
        details={},
        prev_hash=chain[-1].hash,
        hash="0" * 64,
    ).save()
    report = verify_chain()
    assert (report.problem.kind, report.problem.position) == ("inserted", 9)  # type: ignore[union-attr]


def test_renumbered_entries_are_detected(chain: list[AuditEntry]) -> None:
    # Deleting #3 and moving #4 and #5 down to hide the gap breaks their hashes.
    _raw("DELETE FROM audit_auditentry WHERE position = %s", [3])
    _raw("UPDATE audit_auditentry SET position = position - 1 WHERE position > %s", [3])
    AuditHead.objects.filter(pk=1).update(position=4)
    assert verify_chain().problem.kind == "altered"  # type: ignore[union-attr]


def test_orm_refuses_changes_and_deletes(chain: list[AuditEntry]) -> None:
    with pytest.raises(AppendOnlyError):
        chain[0].save()
    with pytest.raises(AppendOnlyError):
        chain[0].delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(position=1).update(action="x")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()


@pytest.mark.parametrize("details", [{"note": "x" * 500}, {"nested": {"a": 1}}, {"items": [1]}])
def test_content_shaped_details_are_refused(details: dict[str, object]) -> None:
    with pytest.raises((TypeError, ValueError)):
        log_action(None, "tests.thing.done", details=details)  # type: ignore[arg-type]


def test_command_reports_intact_and_broken_chain(chain: list[AuditEntry], capsys) -> None:  # type: ignore[no-untyped-def]
    call_command("verify_audit_chain")
    assert "intact: 5 entries" in capsys.readouterr().out
    _raw("DELETE FROM audit_auditentry WHERE position = %s", [2])
    with pytest.raises(CommandError, match="#2 to #2 were deleted"):
        call_command("verify_audit_chain")


def test_chain_survives_a_missing_head_row(chain: list[AuditEntry]) -> None:
    # A flushed head row is an inconsistency to report, not a crash.
    AuditHead.objects.all().delete()
    assert verify_chain().problem.kind == "inserted"  # type: ignore[union-attr]

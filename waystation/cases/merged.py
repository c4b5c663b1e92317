"""The histories of the cases merged into a case, as its page shows them: each merged
request's content, its messages, notes, tasks and timeline, read with the keys shared at
the merge. Every merged case read is an audit entry of its own."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.http import HttpRequest

from waystation.accounts.models import User
from waystation.audit.services import log_action
from waystation.vault.access import NotUnlockedError, SealedValue, keyring_key, open_sealed_fields
from waystation.vault.fields import decrypt_value
from waystation.vault.services import KeysUnavailableError

from . import services
from .access import merged_into
from .models import Case, CaseEvent, DuplicateDecision, Note, Task

EVENTS_SHOWN = 50


@dataclass
class MergedHistory:
    case: Case
    merged_by: str = ""
    merged_at: datetime | None = None
    # None when the reader's keys do not open the merged case.
    content: dict[str, SealedValue] | None = None
    thread: list[tuple[Any, str]] = field(default_factory=list)
    notes: list[tuple[Note, str]] = field(default_factory=list)
    tasks: list[tuple[Task, str]] = field(default_factory=list)
    events: list[CaseEvent] = field(default_factory=list)


def _merge_decision(merged: Case) -> DuplicateDecision | None:
    return (
        DuplicateDecision.objects.filter(
            Q(first=merged, second_id=merged.duplicate_of_id)
            | Q(first_id=merged.duplicate_of_id, second=merged),
            kind=DuplicateDecision.Kind.MERGED,
        )
        .select_related("by")
        .first()
    )


def merged_histories(
    request: HttpRequest, case: Case, user: User, fields: list[str]
) -> list[MergedHistory]:
    """One history per case merged into `case` (see access.merged_into), for a reader who
    has opened `case` itself. A merged case the reader's keys do not open shows its
    timeline only."""
    histories = []
    for merged in merged_into(case):
        decision = _merge_decision(merged)
        history = MergedHistory(
            case=merged,
            merged_by=decision.by.display_name if decision and decision.by else "",
            merged_at=decision.at if decision else None,
            events=list(merged.events.select_related("by").order_by("-at")[:EVENTS_SHOWN]),
        )
        histories.append(history)
        try:
            key = keyring_key(request, merged.keyring)
        except (NotUnlockedError, KeysUnavailableError):
            continue
        history.content = open_sealed_fields(request, merged.request, fields, key=key)
        history.thread = services.thread(merged, key)
        history.notes = [
            (note, decrypt_value(key, note, "text"))
            for note in merged.notes.select_related("by").order_by("-written_at")
        ]
        history.tasks = [
            (task, decrypt_value(key, task, "title"))
            for task in merged.tasks.select_related("owner").order_by("status", "due_on")
        ]
        log_action(user, "cases.case.read", merged, details={"via": str(case.pk)})
    return histories

"""Cases attach to intake: a request stored is a case opened, in the same transaction; the
case's crisis response asks its extra questions through intake's question sources."""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.dispatch import receiver
from django.utils import timezone

from waystation.intake import questions
from waystation.intake.models import HelpRequest
from waystation.intake.signals import request_readers, request_stored
from waystation.vault.models import TeamKey

from .models import Case, CaseEvent, CrisisQuestion
from .services import open_case, record_crisis_answers, surge_team_keys

CRISIS_SOURCE = "crisis"


@receiver(request_stored)
def _open_case(sender: Any, request: HelpRequest, **kwargs: Any) -> None:
    open_case(request)


@receiver(request_readers)
def _surge_readers(
    sender: Any, country: str, received_at: datetime, **kwargs: Any
) -> list[TeamKey]:
    # The crisis response open_case will tag the case with: its surge volunteers read it.
    return surge_team_keys(country, timezone.localdate(received_at))


def crisis_questions(request: HelpRequest, language: str) -> list[questions.Question]:
    """The questions of the crisis response the request's case is tagged with, in
    `language` (English where a question has no wording in it), until they are answered."""
    opened = request._state.fields_cache.get("case")
    if isinstance(opened, Case) and opened.crisis_id is None:
        # Just stored, in this process, with no crisis response: nothing to read (the
        # confirmation page of every public request asks this).
        return []
    crisis_id = (
        Case.objects.filter(request_id=request.pk, crisis__isnull=False)
        .exclude(events__kind=CaseEvent.Kind.ANSWERS)
        .values_list("crisis_id", flat=True)
        .first()
    )
    if crisis_id is None:
        return []
    asked = []
    for question in CrisisQuestion.objects.filter(response_id=crisis_id):
        text, shown_in = question.wording(language)
        asked.append(
            questions.Question(
                source=CRISIS_SOURCE,
                key=str(question.pk),
                text=text,
                language=shown_in,
                staff_text=question.wording(settings.LANGUAGE_CODE)[0],
            )
        )
    return asked


questions.register_source(CRISIS_SOURCE, pending=crisis_questions, answered=record_crisis_answers)

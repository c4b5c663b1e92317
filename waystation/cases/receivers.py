"""Cases attach to intake: a request stored is a case opened, in the same transaction; the
case's crisis response asks its extra questions through intake's question sources."""

from typing import Any

from django.conf import settings
from django.dispatch import receiver

from waystation.intake import questions
from waystation.intake.models import HelpRequest
from waystation.intake.signals import Addition, request_preparing

from .models import Case, CaseEvent, CrisisQuestion
from .services import prepare_case, record_crisis_answers, surge_team_keys

CRISIS_SOURCE = "crisis"


@receiver(request_preparing)
def _prepare_case(sender: Any, request: HelpRequest, **kwargs: Any) -> Addition:
    # The case opens with the request; its crisis response's surge volunteers read it.
    case = prepare_case(request)
    return Addition(readers=surge_team_keys(case.crisis), rows=[case])


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

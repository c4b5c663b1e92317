"""Extra questions later apps ask the person after their request is stored, without intake
knowing them: the one place where they plug in.

    from waystation.intake import questions

    questions.register_source("crisis", pending=pending, answered=answered)  # in ready()

`pending(request, language)` lists the questions still waiting for this request's answer,
worded in `language`; `answered(request)` runs inside the transaction that stores the
answers and marks them answered, returning False when they were answered already (the
answers are then not stored). The request form itself never changes: it is the same for
everyone. The questions show on the confirmation page and on the follow-up page until
answered; the answers go to staff as one sealed message from the person.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .models import HelpRequest


@dataclass(frozen=True)
class Question:
    source: str
    # Stable within its source (e.g. the question's id): answers follow keys, not positions,
    # so a question reordered or removed meanwhile does not take another's answer.
    key: str
    # The wording the person reads: in their language, or in `language` when the source
    # has none in theirs.
    text: str
    language: str
    # The wording staff read beside the answer, in the site's default language.
    staff_text: str


Pending = Callable[[HelpRequest, str], list[Question]]
Answered = Callable[[HelpRequest], bool]


@dataclass(frozen=True)
class Source:
    pending: Pending
    answered: Answered


_sources: dict[str, Source] = {}


def register_source(name: str, *, pending: Pending, answered: Answered) -> None:
    """Add (or replace) the source of questions called `name`."""
    _sources[name] = Source(pending, answered)


def unregister_source(name: str) -> None:
    _sources.pop(name, None)


def pending_questions(request: HelpRequest, language: str) -> list[Question]:
    """Every question waiting for this request's answer, in `language`, source by source."""
    found: list[Question] = []
    for source in _sources.values():
        found.extend(source.pending(request, language))
    return found


def mark_answered(request: HelpRequest, sources: Iterable[str]) -> bool:
    """Tell each source its questions were answered (inside the caller's transaction);
    False as soon as one says they were answered already."""
    return all(_sources[name].answered(request) for name in sorted(set(sources)))


def as_message(answers: list[tuple[Question, str]]) -> str:
    """Question and answer lines for staff; questions left blank are left out."""
    blocks = []
    for number, (question, answer) in enumerate(answers, start=1):
        if not answer.strip():
            continue
        heading = f"{number}. {question.text}"
        if question.staff_text and question.staff_text != question.text:
            heading += f" ({question.staff_text})"
        blocks.append(f"{heading}\n{answer.strip()}")
    return "\n\n".join(blocks)

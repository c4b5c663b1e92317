"""The extension point for extra questions: sources later apps register, the pages that
show them, and the one sealed message their answers become. No other app is needed here:
each test registers its own source."""

import re
from collections.abc import Iterator

import pytest
from django.db import OperationalError
from django.test import Client

from conftest import PASSWORD
from waystation.accounts.models import Team
from waystation.audit.models import AuditEntry
from waystation.intake import questions, services, views
from waystation.intake.models import HelpRequest, Message
from waystation.vault import services as vault

from .conftest import ANSWERS

pytestmark = pytest.mark.django_db


class Asking:
    """A source asking every request the same questions until answered."""

    def __init__(self, name: str, *texts: str) -> None:
        self.name = name
        self.texts = texts
        self.answered: set[object] = set()
        self.refuse = False

    def pending(self, request: HelpRequest, language: str) -> list[questions.Question]:
        if request.pk in self.answered:
            return []
        return [
            questions.Question(self.name, str(number), text, "en", f"{text} (staff)")
            for number, text in enumerate(self.texts)
        ]

    def mark(self, request: HelpRequest) -> bool:
        if self.refuse or request.pk in self.answered:
            return False
        self.answered.add(request.pk)
        return True


@pytest.fixture
def asking() -> Iterator[Asking]:
    source = Asking("test", "Where are you now?", "Who is with you?")
    questions.register_source(source.name, pending=source.pending, answered=source.mark)
    yield source
    questions.unregister_source(source.name)


def _ask(client: Client, **changes: str):  # type: ignore[no-untyped-def]
    page = client.get("/ask/").content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    return client.post("/ask/", {**ANSWERS, "form_token": token, **changes})


def test_the_confirmation_page_shows_pending_questions(
    client: Client, intake_team: Team, asking: Asking
) -> None:
    page = _ask(client).content.decode()
    assert "Where are you now?" in page and "Who is with you?" in page
    assert 'name="answer-test-0"' in page and views.QUESTIONS_PLACEHOLDER not in page


def test_no_source_no_questions_and_no_placeholder_left(client: Client, intake_team: Team) -> None:
    page = _ask(client).content.decode()
    assert "answer-" not in page and views.QUESTIONS_PLACEHOLDER not in page


def test_the_decoy_answer_to_software_asks_nothing(
    client: Client, intake_team: Team, asking: Asking
) -> None:
    page = _ask(client, website="http://spam.example").content.decode()
    assert "Where are you now?" not in page and views.QUESTIONS_PLACEHOLDER not in page
    assert not HelpRequest.objects.exists()


def test_questions_that_cannot_be_read_never_hide_the_code(
    client: Client, intake_team: Team
) -> None:
    def broken(request: HelpRequest, language: str) -> list[questions.Question]:
        raise OperationalError("database is locked")

    questions.register_source("broken", pending=broken, answered=lambda request: True)
    try:
        response = _ask(client)
    finally:
        questions.unregister_source("broken")
    assert response.status_code == 200
    assert re.search(r'class="secret follow-up-code">[\d ]+<', response.content.decode())


def test_wording_is_never_taken_for_a_placeholder(client: Client, intake_team: Team) -> None:
    source = Asking("tricky", f"Say {views.CODE_PLACEHOLDER} and {views.CSRF_PLACEHOLDER}?")
    questions.register_source(source.name, pending=source.pending, answered=source.mark)
    try:
        page = _ask(client).content.decode()
    finally:
        questions.unregister_source(source.name)
    assert f"Say {views.CODE_PLACEHOLDER} and {views.CSRF_PLACEHOLDER}?" in page


def test_answers_become_one_sealed_message_for_staff(
    client: Client, intake_team: Team, asking: Asking
) -> None:
    _ask(client)
    sent = client.post(
        "/follow-up/", {"action": "answers", "answer-test-0": "", "answer-test-1": "My sister"}
    )
    assert "Thank you. Your answers were sent." in sent.content.decode()
    request = HelpRequest.objects.get()
    member = intake_team.memberships.get().user
    key = vault.open_keyring(request.keyring, vault.unlock_with_password(member, PASSWORD))
    thread = [text for _message, text in services.thread_for_staff(request, key)]
    assert thread == ["2. Who is with you? (Who is with you? (staff))\nMy sister"]
    assert b"My sister" not in bytes(Message.objects.get().for_staff)
    assert AuditEntry.objects.get(action="intake.answers.received").details == {
        "request": str(request.pk),
        "answered": 1,
        "asked": 2,
    }


def test_a_source_that_refuses_stores_nothing(
    client: Client, intake_team: Team, asking: Asking
) -> None:
    _ask(client)
    asking.refuse = True
    refused = client.post("/follow-up/", {"action": "answers", "answer-test-0": "Here"})
    assert "These questions no longer wait for your answer." in refused.content.decode()
    assert not Message.objects.exists()
    assert not AuditEntry.objects.filter(action="intake.answers.received").exists()


def test_sources_add_up_and_each_is_told_of_the_answers(
    client: Client, intake_team: Team, asking: Asking
) -> None:
    other = Asking("other", "Do you need a doctor?")
    questions.register_source(other.name, pending=other.pending, answered=other.mark)
    try:
        _ask(client)
        request = HelpRequest.objects.get()
        asked = questions.pending_questions(request, "en")
        assert [q.source for q in asked] == ["test", "test", "other"]
        services.send_answers(request, [(asked[0], ""), (asked[1], ""), (asked[2], "Yes")])
        assert request.pk in asking.answered and request.pk in other.answered
    finally:
        questions.unregister_source(other.name)


def test_blank_answers_are_not_sent() -> None:
    question = questions.Question("test", "0", "Where?", "en", "Where?")
    with pytest.raises(ValueError, match="no answer"):
        services.send_answers(HelpRequest(), [(question, "  ")])

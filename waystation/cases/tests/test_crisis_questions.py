"""A crisis response's extra questions: coordinators keep them per language; the person
sees them after sending a request, answers once, and staff read the answers as a sealed
message in the case."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone, translation
from django.utils.translation import gettext

from conftest import PASSWORD, make_user, sign_in
from waystation.accounts.models import Role, Team, User
from waystation.audit.models import AuditEntry
from waystation.cases import services
from waystation.cases.models import Case, CaseEvent, CrisisQuestion, CrisisResponse
from waystation.intake import questions, views
from waystation.intake import services as intake
from waystation.intake.models import HelpRequest, Message
from waystation.intake.tests.test_budget import BUDGET, _assets
from waystation.vault import services as vault

pytestmark = pytest.mark.django_db

WHERE = {"en": "Where are you staying tonight?", "ar": "أين ستبيت الليلة؟"}
WHO = {"en": "Who else is with you?"}
# The public form's answers, as a browser without JavaScript sends them.
FORM = {
    "country": "AF",
    "region": "Herat",
    "nationalities": "Afghan",
    "narrative": "They searched the house where I was staying.",
    "risk": "now",
    "organization": "",
    "documents": ["none"],
    "name": "",
    "channel": "",
    "handle": "",
    "safe_times": "",
    "consent": "on",
    "website": "",
}


@pytest.fixture
def coordinator_user(db: None) -> User:
    return make_user(Role.COORDINATOR)


@pytest.fixture
def crisis(coordinator_user: User) -> CrisisResponse:
    response = services.create_crisis_response(
        name="Herat evacuation",
        countries=["AF"],
        starts_on=timezone.localdate() - timedelta(days=3),
        ends_on=None,
        reply_template_name="",
        by=coordinator_user,
    )
    services.add_crisis_question(response, WHERE, by=coordinator_user)
    services.add_crisis_question(response, WHO, by=coordinator_user)
    return response


@pytest.fixture
def reader(db: None) -> User:
    """An intake volunteer whose team key opens new requests."""
    volunteer = make_user(Role.INTAKE_VOLUNTEER, keys=True)
    vault.ensure_team_key(Team.objects.get(memberships__user=volunteer))
    return volunteer


def _ask(person: Client, *, language: str = "en", country: str = "AF"):  # type: ignore[no-untyped-def]
    person.cookies["lang"] = language
    page = person.get("/ask/").content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    return person.post(
        "/ask/", {**FORM, "country": country, "language": language, "form_token": token}
    )


def _code(response) -> str:  # type: ignore[no-untyped-def]
    found = re.search(r'class="secret follow-up-code">([\d ]+)<', response.content.decode())
    return found.group(1)  # type: ignore[union-attr]


def _field(question: CrisisQuestion) -> str:
    return f"answer-crisis-{question.pk}"


def _thread(request: HelpRequest, member: User) -> list[str]:
    keys = vault.unlock_with_password(member, PASSWORD)
    key = vault.open_keyring(request.keyring, keys)
    return [text for _message, text in intake.thread_for_staff(request, key)]


# Coordinators keep the questions.


def _texts(**wordings: str) -> dict[str, str]:
    return {f"text_{code}": text for code, text in wordings.items()}


def test_coordinators_add_change_reorder_and_remove_questions(
    client: Client, crisis: CrisisResponse, coordinator_user: User
) -> None:
    sign_in(client, coordinator_user)
    base = f"/staff/cases/crises/{crisis.pk}/questions/"
    page = client.get(base).content.decode()
    assert WHERE["en"] in page and WHO["en"] in page
    added = client.post(base, _texts(en="Do you need medicine?", fr="Avez-vous besoin de soins ?"))
    assert added.status_code == 302 and added["Location"] == base
    first, second, third = CrisisQuestion.objects.filter(response=crisis)
    assert third.texts == {"en": "Do you need medicine?", "fr": "Avez-vous besoin de soins ?"}
    assert [q.position for q in (first, second, third)] == [0, 1, 2]

    client.post(f"/staff/cases/crises/questions/{third.pk}/move/", {"direction": "up"})
    assert list(crisis.questions.values_list("pk", flat=True)) == [first.pk, third.pk, second.pk]
    client.post(f"/staff/cases/crises/questions/{first.pk}/move/", {"direction": "up"})
    assert crisis.questions.first() == first  # the first stays first

    edit = f"/staff/cases/crises/questions/{third.pk}/"
    assert 'value="Avez-vous besoin de soins ?"' in client.get(edit).content.decode()
    changed = client.post(edit, _texts(en="Do you need a doctor?", uk="Вам потрібен лікар?"))
    assert changed["Location"] == base
    third.refresh_from_db()
    assert third.texts == {"en": "Do you need a doctor?", "uk": "Вам потрібен лікар?"}

    client.post(f"/staff/cases/crises/questions/{first.pk}/remove/")
    assert list(crisis.questions.values_list("pk", "position")) == [(third.pk, 0), (second.pk, 1)]
    entries = AuditEntry.objects.filter(action__startswith="cases.crisis_question.")
    assert set(entries.values_list("action", flat=True)) == {
        "cases.crisis_question.added",
        "cases.crisis_question.moved",
        "cases.crisis_question.changed",
        "cases.crisis_question.removed",
    }
    logged = str(list(entries.values("details")))
    assert "medicine" not in logged and "doctor" not in logged and "лікар" not in logged


def test_a_question_without_english_is_refused_and_the_typed_wording_kept(
    client: Client, crisis: CrisisResponse, coordinator_user: User
) -> None:
    sign_in(client, coordinator_user)
    refused = client.post(
        f"/staff/cases/crises/{crisis.pk}/questions/", _texts(en=" ", fa="کجا هستید؟")
    )
    content = refused.content.decode()
    assert refused.status_code == 400
    assert "Write the question in English" in content and 'value="کجا هستید؟"' in content
    assert crisis.questions.count() == 2


def test_a_wording_too_long_is_refused_and_kept(
    client: Client, crisis: CrisisResponse, coordinator_user: User
) -> None:
    sign_in(client, coordinator_user)
    question = crisis.questions.first()
    assert question is not None
    long = "Why " * 80
    refused = client.post(
        f"/staff/cases/crises/questions/{question.pk}/", _texts(en="Short enough?", es=long)
    )
    content = refused.content.decode()
    assert refused.status_code == 400
    assert "Ensure this value has at most 300 characters" in content
    assert 'value="Short enough?"' in content and long.strip() in content
    question.refresh_from_db()
    assert question.texts == WHERE
    with pytest.raises(services.TransitionRefusedError):
        services.change_crisis_question(question, {"en": long}, by=make_user(Role.COORDINATOR))


def test_a_response_asks_at_most_ten_questions(
    client: Client, crisis: CrisisResponse, coordinator_user: User
) -> None:
    for number in range(services.MAX_QUESTIONS - 2):
        services.add_crisis_question(crisis, {"en": f"Question {number}?"}, by=coordinator_user)
    with pytest.raises(services.TransitionRefusedError):
        services.add_crisis_question(crisis, {"en": "One too many?"}, by=coordinator_user)
    sign_in(client, coordinator_user)
    refused = client.post(f"/staff/cases/crises/{crisis.pk}/questions/", _texts(en="Another?"))
    assert refused.status_code == 400
    assert "A response asks at most 10 questions." in refused.content.decode()
    assert crisis.questions.count() == services.MAX_QUESTIONS


def test_a_question_removed_meanwhile_is_refused_with_a_message(
    client: Client, crisis: CrisisResponse, coordinator_user: User
) -> None:
    question = crisis.questions.get(position=1)
    services.remove_crisis_question(question, by=coordinator_user)
    for change in (
        lambda: services.change_crisis_question(question, WHO, by=coordinator_user),
        lambda: services.move_crisis_question(question, -1, by=coordinator_user),
        lambda: services.remove_crisis_question(question, by=coordinator_user),
    ):
        with pytest.raises(services.TransitionRefusedError, match="removed this question"):
            change()
    sign_in(client, coordinator_user)
    assert client.post(f"/staff/cases/crises/questions/{question.pk}/").status_code == 404


@pytest.mark.parametrize("role", [Role.INTAKE_VOLUNTEER, Role.CASEWORKER, Role.FINANCE, None])
def test_only_coordinators_keep_questions(
    client: Client, crisis: CrisisResponse, role: str | None
) -> None:
    sign_in(client, make_user(role))
    question = crisis.questions.get(position=0)
    base = f"/staff/cases/crises/{crisis.pk}/questions/"
    one = f"/staff/cases/crises/questions/{question.pk}/"
    assert client.get(base).status_code == 404
    assert client.post(base, _texts(en="Anything?")).status_code == 404
    assert client.get(one).status_code == 404
    assert client.post(one, _texts(en="Changed?")).status_code == 404
    assert client.post(f"{one}move/", {"direction": "down"}).status_code == 404
    assert client.post(f"{one}remove/").status_code == 404
    question.refresh_from_db()
    assert crisis.questions.count() == 2 and question.position == 0 and question.texts == WHERE


def test_the_surge_page_lists_the_questions_and_links_coordinators_to_them(
    client: Client, crisis: CrisisResponse, coordinator_user: User
) -> None:
    link = f'href="/staff/cases/crises/{crisis.pk}/questions/"'
    sign_in(client, make_user(Role.INTAKE_VOLUNTEER))
    page = client.get(f"/staff/cases/crises/{crisis.pk}/").content.decode()
    assert WHERE["en"] in page and WHO["en"] in page and link not in page
    sign_in(client, coordinator_user)
    assert link in client.get(f"/staff/cases/crises/{crisis.pk}/").content.decode()


# The person answers.


def test_the_confirmation_page_asks_in_the_persons_language_with_english_fallback(
    crisis: CrisisResponse, reader: User
) -> None:
    received = _ask(Client(), language="ar")
    page = received.content.decode()
    assert received.status_code == 200 and _code(received)
    assert WHERE["ar"] in page and WHERE["en"] not in page  # its own wording
    assert WHO["en"] in page  # no Arabic wording: English
    assert 'name="action" value="answers"' in page
    assert views.QUESTIONS_PLACEHOLDER not in page
    # The copy every confirmation page in Arabic starts from holds no question.
    copy = views._page_copies[("received", "ar")]
    assert views.QUESTIONS_PLACEHOLDER in copy and WHERE["ar"] not in copy


def test_answers_are_sealed_shown_once_and_not_asked_again(
    crisis: CrisisResponse, reader: User
) -> None:
    person = Client()
    _ask(person, language="ar")
    where, who = crisis.questions.all()
    sent = person.post(
        "/follow-up/",
        {"action": "answers", _field(where): "عند خالتي في هرات", _field(who): " "},
    )
    page = sent.content.decode()
    with translation.override("ar"):
        thanks = gettext("Thank you. Your answers were sent.")
        no_longer = gettext(
            "These questions no longer wait for your answer. If you want to tell us more, "
            "write to us below."
        )
    assert thanks != "Thank you. Your answers were sent."  # the person's language
    assert sent.status_code == 200 and thanks in page
    assert "عند خالتي" not in page and WHERE["ar"] not in page

    request = HelpRequest.objects.get()
    message = Message.objects.get(request=request)
    assert message.sender == "person" and message.for_person is None
    stored = str(list(Message.objects.values())) + str(list(AuditEntry.objects.values()))
    assert "عند خالتي".encode() not in bytes(message.for_staff) and "هرات" not in stored
    assert _thread(request, reader) == [f"1. {WHERE['ar']} ({WHERE['en']})\nعند خالتي في هرات"]
    event = CaseEvent.objects.get(case__request=request, kind=CaseEvent.Kind.ANSWERS)
    assert event.by is None
    entry = AuditEntry.objects.get(action="intake.answers.received")
    assert entry.details == {"request": str(request.pk), "answered": 1, "asked": 2}

    assert WHERE["ar"] not in person.get("/follow-up/").content.decode()
    again = person.post("/follow-up/", {"action": "answers", _field(where): "Again"})
    assert no_longer in again.content.decode()
    assert Message.objects.count() == 1


def test_answers_sent_twice_at_once_are_stored_once(crisis: CrisisResponse, reader: User) -> None:
    _ask(Client())
    request = HelpRequest.objects.get()
    asked = questions.pending_questions(request, "en")
    intake.send_answers(request, [(asked[0], "With friends")])
    with pytest.raises(intake.AlreadyAnsweredError):
        intake.send_answers(request, [(asked[0], "With friends")])
    assert Message.objects.count() == 1
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.ANSWERS).count() == 1


def test_empty_or_too_long_answers_are_refused_and_typed_answers_kept(
    crisis: CrisisResponse, reader: User
) -> None:
    person = Client()
    _ask(person)
    where, who = crisis.questions.all()
    empty = person.post("/follow-up/", {"action": "answers", _field(where): "  "})
    assert empty.status_code == 400
    assert "Write at least one answer before sending." in empty.content.decode()
    too_long = person.post(
        "/follow-up/", {"action": "answers", _field(where): "x" * 2001, _field(who): "My sister"}
    )
    content = too_long.content.decode()
    assert too_long.status_code == 400 and "at most 2000 characters" in content
    assert "My sister</textarea>" in content and "x" * 2001 in content
    assert not Message.objects.exists()
    assert not CaseEvent.objects.filter(kind=CaseEvent.Kind.ANSWERS).exists()


def test_requests_outside_the_response_get_no_questions(
    crisis: CrisisResponse, reader: User
) -> None:
    person = Client()
    page = _ask(person, country="NG").content.decode()
    assert "A few more questions" not in page and WHERE["en"] not in page
    assert "A few more questions" not in person.get("/follow-up/").content.decode()
    ignored = person.post("/follow-up/", {"action": "answers", "answer-crisis-x": "Hello"})
    assert "These questions no longer wait" in ignored.content.decode()
    assert not Message.objects.exists()


def test_the_follow_up_page_asks_until_answered(crisis: CrisisResponse, reader: User) -> None:
    code = _code(_ask(Client()))
    later = Client()
    later.cookies["lang"] = "fr"
    page = later.post("/follow-up/", {"action": "login", "code": code}).content.decode()
    assert WHERE["en"] in page and WHO["en"] in page  # no French wording: English
    who = crisis.questions.get(position=1)
    later.post("/follow-up/", {"action": "answers", _field(who): "Personne"})
    assert _thread(HelpRequest.objects.get(), reader) == [f"2. {WHO['en']}\nPersonne"]
    again = Client()
    page = again.post("/follow-up/", {"action": "login", "code": code}).content.decode()
    assert "Messages" in page and WHO["en"] not in page


def test_a_response_created_later_asks_the_requests_it_tags(
    coordinator_user: User, reader: User
) -> None:
    person = Client()
    assert "A few more questions" not in _ask(person).content.decode()
    response = services.create_crisis_response(
        name="Late",
        countries=["AF"],
        starts_on=timezone.localdate(),
        ends_on=None,
        reply_template_name="",
        by=coordinator_user,
    )
    services.add_crisis_question(response, WHO, by=coordinator_user)
    assert WHO["en"] in person.get("/follow-up/").content.decode()


def test_the_form_page_stays_the_same_for_everyone(crisis: CrisisResponse, reader: User) -> None:
    def blank_form() -> str:
        page = Client().get("/ask/").content.decode()
        page = re.sub(r'name="form_token" value="[^"]+"', "", page)
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)

    before = blank_form()
    _ask(Client())
    after = blank_form()
    assert before == after and WHERE["en"] not in after and "A few more questions" not in after


def test_staff_read_the_answers_in_the_case_thread(
    client: Client, crisis: CrisisResponse, reader: User
) -> None:
    person = Client()
    _ask(person)
    where, who = crisis.questions.all()
    person.post(
        "/follow-up/",
        {"action": "answers", _field(where): "With my aunt\nnear the bazaar", _field(who): "No"},
    )
    case = Case.objects.get()
    sign_in(client, reader)
    client.post("/staff/unlock/", {"password": PASSWORD})
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert (
        f"1. {WHERE['en']}<br>With my aunt<br>near the bazaar<br><br>2. {WHO['en']}<br>No" in page
    )
    assert "from the person" in page


def test_the_most_and_longest_questions_keep_the_pages_within_budget(
    crisis: CrisisResponse, coordinator_user: User, reader: User
) -> None:
    longest = {"en": "W" * services.QUESTION_LENGTH, "ar": "س" * services.QUESTION_LENGTH}
    for _ in range(services.MAX_QUESTIONS - crisis.questions.count()):
        services.add_crisis_question(crisis, longest, by=coordinator_user)
    person = Client()
    for html in (_ask(person, language="ar").content, person.get("/follow-up/").content):
        page = html.decode()
        assert page.count('name="answer-crisis-') == services.MAX_QUESTIONS
        assert len(html) + _assets(page) < BUDGET


def test_intake_does_not_import_cases() -> None:
    intake_dir = Path(questions.__file__).parent
    for source in intake_dir.glob("*.py"):
        text = source.read_text(encoding="utf-8")
        assert "waystation.cases" not in text and "from ..cases" not in text, source.name

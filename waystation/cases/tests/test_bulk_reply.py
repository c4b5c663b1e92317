"""A reply template sent from the queue to many cases: each in its own language, all of
them or none, each answer audited."""

import re

import pytest
from django.test import Client

from conftest import PASSWORD, make_user, sign_in
from waystation.accounts.models import Role, Team, User
from waystation.audit.models import AuditEntry
from waystation.cases import services
from waystation.cases.models import Case, ReplyTemplate
from waystation.intake.models import Message
from waystation.vault import services as vault

from .conftest import ask
from .factories import make_case

pytestmark = pytest.mark.django_db


def _tick(*cases: Case) -> list[str]:
    return [f"{case.pk}:{case.version}" for case in cases]


def _template(language: str, text: str, *, neutral: bool = False) -> ReplyTemplate:
    return ReplyTemplate.objects.create(
        name="Received", language=language, text=text, neutral=neutral
    )


def _send(client: Client, *cases: Case, template: str = "Received") -> str:
    response = client.post(
        "/staff/cases/bulk/",
        {"chosen": _tick(*cases), "action": "reply", "template": template},
        follow=True,
    )
    return response.content.decode()


def _volunteer(client: Client) -> User:
    volunteer = make_user(Role.INTAKE_VOLUNTEER)
    sign_in(client, volunteer)
    return volunteer


def test_each_case_gets_the_template_in_its_own_language(client: Client, intake_team: Team) -> None:
    _template("en", "We have your message.")
    _template("es", "Tenemos tu mensaje.")
    english, spanish = ask().case, ask().case
    Case.objects.filter(pk=spanish.pk).update(language="es")
    _volunteer(client)
    page = _send(client, english, spanish)
    assert "The answer waits for 2 people on their follow-up pages." in page
    member = intake_team.memberships.get().user
    keys = vault.unlock_with_password(member, PASSWORD)
    for case, text in ((english, "We have your message."), (spanish, "Tenemos tu mensaje.")):
        case.refresh_from_db()
        assert case.answered_at is not None
        thread = services.thread(case, vault.open_keyring(case.keyring, keys))
        assert [sent for _message, sent in thread] == [text]
    sent = AuditEntry.objects.filter(action="intake.message.sent")
    assert sorted(entry.details["request"] for entry in sent) == sorted(
        str(case.request_id) for case in (english, spanish)
    )


def test_a_language_without_the_template_stops_the_whole_action(client: Client) -> None:
    _template("en", "We have your message.")
    english, french = make_case(), make_case(language="fr")
    _volunteer(client)
    page = _send(client, english, french)
    assert "Nothing was sent." in page and "“Received” has no version in French (fr)" in page
    assert not Message.objects.exists()
    assert not AuditEntry.objects.filter(action="intake.message.sent").exists()
    english.refresh_from_db()
    assert english.answered_at is None


def test_a_quarantined_case_stops_a_template_that_is_not_neutral(client: Client) -> None:
    _template("en", "A partner will call you.")
    volunteer = _volunteer(client)
    fine = make_case()
    held = make_case(state="quarantined", reason="suspected_entrapment", assigned_to=volunteer)
    said = re.findall(r'<li class="message message-error">([^<]*)</li>', _send(client, fine, held))
    assert said == [
        "Nothing was sent. Quarantined cases get neutral templates only, and “Received” is "
        f"not neutral in their language. Untick {held.reference}."
    ]
    assert not Message.objects.exists()


def test_a_neutral_template_goes_to_quarantined_cases_too(client: Client) -> None:
    _template("en", "We have your message.", neutral=True)
    volunteer = _volunteer(client)
    fine = make_case()
    held = make_case(state="quarantined", reason="suspected_entrapment", assigned_to=volunteer)
    assert "2 people" in _send(client, fine, held)
    assert Message.objects.count() == 2
    assert AuditEntry.objects.filter(action="intake.message.sent").count() == 2


def test_a_case_changed_since_it_was_ticked_stops_the_action(client: Client) -> None:
    _template("en", "We have your message.")
    fine, changed = make_case(), make_case()
    ticked = _tick(fine, changed)
    Case.objects.filter(pk=changed.pk).update(version=2)
    _volunteer(client)
    response = client.post(
        "/staff/cases/bulk/",
        {"chosen": ticked, "action": "reply", "template": "Received"},
        follow=True,
    )
    assert "Someone else changed this case" in response.content.decode()
    assert not Message.objects.exists()


def test_the_template_must_be_chosen_and_exist(client: Client) -> None:
    _template("en", "We have your message.")
    case = make_case()
    _volunteer(client)
    assert "Choose the reply template." in _send(client, case, template="")
    assert "This reply template no longer exists." in _send(client, case, template="Gone")
    assert not Message.objects.exists()


def test_the_queue_offers_the_template_names_once(client: Client) -> None:
    _template("en", "We have your message.")
    _template("es", "Tenemos tu mensaje.")
    volunteer = _volunteer(client)
    make_case(assigned_to=volunteer)
    page = client.get("/staff/cases/").content.decode()
    assert "Send a templated reply" in page and page.count('<option value="Received">') == 1


def test_cases_one_may_not_see_are_refused_before_anything_is_sent(client: Client) -> None:
    _template("en", "We have your message.")
    mine, someone_elses = make_case(), make_case(state="triaged")
    _volunteer(client)
    assert "not yours to change" in _send(client, mine, someone_elses)
    assert not Message.objects.exists()

"""Answers to the person: written or from a template in their language; a quarantined case
gets neutral templates only; coordinators keep the templates."""

import pytest
from django.test import Client

from conftest import make_user, sign_in
from waystation.accounts.models import Role
from waystation.audit.models import AuditEntry
from waystation.cases import services
from waystation.cases.models import Case, ReplyTemplate

from .factories import make_case

pytestmark = pytest.mark.django_db


def _templates() -> tuple[ReplyTemplate, ReplyTemplate, ReplyTemplate]:
    neutral = ReplyTemplate.objects.create(
        name="Received", language="en", text="We have your message.", neutral=True
    )
    warm = ReplyTemplate.objects.create(
        name="Next steps", language="en", text="A partner will call you.", neutral=False
    )
    spanish = ReplyTemplate.objects.create(
        name="Received", language="es", text="Tenemos tu mensaje.", neutral=True
    )
    return neutral, warm, spanish


def _sent(case: Case) -> int:
    return case.request.messages.count()


def test_a_template_in_the_cases_language_can_be_sent(client: Client) -> None:
    _neutral, warm, spanish = _templates()
    volunteer = make_user(Role.INTAKE_VOLUNTEER)
    case = make_case(assigned_to=volunteer)
    sign_in(client, volunteer)
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert "Next steps" in page and spanish.text not in page
    client.post(f"/staff/cases/{case.pk}/reply/", {"template": warm.pk, "version": 1})
    assert _sent(case) == 1
    other_language = client.post(
        f"/staff/cases/{case.pk}/reply/", {"template": spanish.pk, "version": 2}
    )
    assert other_language.status_code == 400 and _sent(case) == 1
    empty = client.post(f"/staff/cases/{case.pk}/reply/", {"text": " ", "version": 2})
    assert "Write an answer or choose a template." in empty.content.decode()


def test_a_quarantined_case_gets_neutral_templates_only(client: Client) -> None:
    neutral, warm, _spanish = _templates()
    volunteer = make_user(Role.INTAKE_VOLUNTEER)
    case = make_case(assigned_to=volunteer, state="quarantined", reason="suspected_entrapment")
    sign_in(client, volunteer)
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert "Answer to the person" not in page and "Next steps" not in page  # no free text
    reply = f"/staff/cases/{case.pk}/reply/"
    written = client.post(reply, {"text": "Come to the office.", "version": 1})
    assert written.status_code == 400 and _sent(case) == 0
    assert client.post(reply, {"template": warm.pk, "version": 1}).status_code == 400
    client.post(reply, {"template": neutral.pk, "text": "Come to the office.", "version": 1})
    assert _sent(case) == 1
    with pytest.raises(services.TransitionRefusedError):
        services.reply_to_person(case, "Anything", by=volunteer, template=warm)


def test_coordinators_keep_templates(client: Client) -> None:
    sign_in(client, make_user(Role.COORDINATOR))
    client.post(
        "/staff/cases/reply-templates/",
        {
            "name": "Received",
            "language": "fr",
            "text": "Nous avons votre message.",
            "neutral": "on",
        },
    )
    template = ReplyTemplate.objects.get()
    assert template.neutral and template.language == "fr"
    client.post(
        f"/staff/cases/reply-templates/{template.pk}/",
        {"name": "Received", "language": "fr", "text": "Bien reçu.", "neutral": ""},
    )
    template.refresh_from_db()
    assert template.text == "Bien reçu." and not template.neutral
    duplicate = client.post(
        "/staff/cases/reply-templates/", {"name": "Received", "language": "fr", "text": "x"}
    )
    assert duplicate.status_code == 400 and ReplyTemplate.objects.count() == 1
    actions = list(AuditEntry.objects.values_list("action", flat=True))
    assert "cases.reply_template.created" in actions and "cases.reply_template.changed" in actions


def test_an_answer_from_a_page_drawn_before_another_answer_is_refused_keeping_the_text(
    client: Client,
) -> None:
    volunteer = make_user(Role.INTAKE_VOLUNTEER)
    case = make_case(assigned_to=volunteer)
    services.reply_to_person(case, "We read your request.", by=make_user(Role.INTAKE_VOLUNTEER))
    sign_in(client, volunteer)
    stale = client.post(
        f"/staff/cases/{case.pk}/reply/", {"text": "Typed on an old page.", "version": 1}
    )
    page = stale.content.decode()
    assert stale.status_code == 400
    assert "Someone else changed this case while you were working on it." in page
    assert "Typed on an old page." in page
    assert _sent(case) == 1
    assert AuditEntry.objects.filter(action="intake.message.sent").count() == 1
    case.refresh_from_db()
    assert case.version == 2 and case.events.filter(kind="replied").count() == 1
    # The form shown again is drawn from the case as it is now: sending it is a choice.
    assert stale.context["reply_form"]["version"].value() == "2"
    again = client.post(
        f"/staff/cases/{case.pk}/reply/", {"text": "Typed on an old page.", "version": 2}
    )
    assert again.status_code == 302 and _sent(case) == 2


def test_an_answer_makes_forms_drawn_before_it_stale(client: Client) -> None:
    volunteer = make_user(Role.INTAKE_VOLUNTEER)
    case = make_case(assigned_to=volunteer)
    sign_in(client, volunteer)
    client.post(f"/staff/cases/{case.pk}/reply/", {"text": "We read your request.", "version": 1})
    moved = client.post(f"/staff/cases/{case.pk}/move/", {"target": "triaged", "version": 1})
    assert moved.status_code == 400 and "Someone else changed this case" in moved.content.decode()
    with pytest.raises(services.StaleCaseError):
        services.reply_to_person(case, "Again.", by=volunteer, expected_version=1)
    assert _sent(case) == 1

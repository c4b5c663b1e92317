"""A crisis response answers with a reply template, by name: one per language, offered
first on its cases' pages and chosen already in its queue; its surge page says which
languages of its open cases the template is not written in."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone, translation

from conftest import PASSWORD, make_user, migrate_to, sign_in
from waystation.accounts.models import Role, Team, User
from waystation.audit.models import AuditEntry
from waystation.cases import services
from waystation.cases.forms import CrisisForm, ReplyForm
from waystation.cases.models import Case, CrisisResponse, ReplyTemplate
from waystation.vault import services as vault

from .conftest import ask
from .factories import make_case

pytestmark = pytest.mark.django_db

ANSWER = "Kabul first answer"
BEFORE = [("cases", "0010_queue_region_language_indexes")]
AFTER = [("cases", "0011_crisis_reply_template_name")]


def _templates() -> dict[str, ReplyTemplate]:
    made = {
        "en": ReplyTemplate.objects.create(name=ANSWER, language="en", text="We are on it."),
        "es": ReplyTemplate.objects.create(name=ANSWER, language="es", text="Nos ocupamos."),
    }
    # Sorts before the crisis answer: the case page puts the crisis answer first anyway.
    ReplyTemplate.objects.create(name="Another answer", language="es", text="Otra respuesta.")
    return made


def _response(template: str = ANSWER, **fields: object) -> CrisisResponse:
    values: dict[str, object] = {
        "name": "Kabul evacuation",
        "countries": ["AF"],
        "starts_on": timezone.localdate() - timedelta(days=10),
        "ends_on": None,
        "reply_template_name": template,
        **fields,
    }
    return services.create_crisis_response(**values, by=make_user(Role.COORDINATOR))  # type: ignore[arg-type]


def _coordinator(client: Client) -> User:
    coordinator = make_user(Role.COORDINATOR)
    sign_in(client, coordinator)
    return coordinator


def _options(page: str, name: str) -> list[str]:
    """The options of the select called `name`, as written in the page."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select is not None
    return re.findall(r"<option[^>]*>[^<]*</option>", select.group(1))


# The migration


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_latest")
def test_the_migration_turns_a_responses_text_into_an_english_template_and_back() -> None:
    old = migrate_to(BEFORE)
    old_crisis = old.get_model("cases", "CrisisResponse")
    old_template = old.get_model("cases", "ReplyTemplate")
    # A family already called after the response: the migrated text must not join it.
    old_template.objects.create(name="Kabul evacuation", language="fr", text="Bien reçu.")
    today = timezone.localdate()
    first = old_crisis.objects.create(
        name="Kabul evacuation", countries=["AF"], starts_on=today, reply_template="We read you."
    )
    second = old_crisis.objects.create(
        name="Kabul evacuation",
        countries=["PK"],
        starts_on=today,
        reply_template="Hold on.",
        created_at=first.created_at + timedelta(seconds=1),
    )
    silent = old_crisis.objects.create(name="Quiet", countries=["NG"], starts_on=today)

    new = migrate_to(AFTER)
    new_crisis = new.get_model("cases", "CrisisResponse")
    new_template = new.get_model("cases", "ReplyTemplate")
    names = {r.pk: r.reply_template_name for r in new_crisis.objects.all()}
    assert names == {
        first.pk: "Kabul evacuation (2)",
        second.pk: "Kabul evacuation (3)",
        silent.pk: "",
    }
    made = {
        t.name: (t.language, t.text, t.neutral) for t in new_template.objects.filter(language="en")
    }
    assert made == {
        "Kabul evacuation (2)": ("en", "We read you.", False),
        "Kabul evacuation (3)": ("en", "Hold on.", False),
    }

    migrate_to(BEFORE)
    texts = {r.pk: r.reply_template for r in old_crisis.objects.all()}
    assert texts == {first.pk: "We read you.", second.pk: "Hold on.", silent.pk: ""}
    assert old_template.objects.count() == 3  # kept: they may have been translated since

    # Forward again: the templates made the first time are named again, none is added.
    migrate_to(AFTER)
    assert new_template.objects.count() == 3
    assert new_crisis.objects.get(pk=second.pk).reply_template_name == "Kabul evacuation (3)"


# Choosing the template


def test_the_crisis_form_offers_each_template_name_once_and_none() -> None:
    _templates()
    ReplyTemplate.objects.create(name="Received", language="fr", text="Bien reçu.")
    choices = CrisisForm().fields["reply_template_name"].choices  # type: ignore[attr-defined]
    assert [value for value, _label in choices] == ["", "Another answer", ANSWER, "Received"]
    with translation.override("en"):
        assert str(choices[0][1]) == "No template"


def test_coordinators_choose_the_template_by_name_and_a_gone_name_is_refused(
    client: Client,
) -> None:
    _templates()
    _coordinator(client)
    page = client.get("/staff/cases/crises/").content.decode()
    assert f'<option value="{ANSWER}">{ANSWER}</option>' in page
    assert 'href="/staff/cases/reply-templates/"' in page
    data = {"name": "Surge", "countries": "AF", "starts_on": "2026-11-01"}
    gone = client.post("/staff/cases/crises/", {**data, "reply_template_name": "Deleted"})
    assert gone.status_code == 400
    assert "This reply template no longer exists." in gone.content.decode()
    assert not CrisisResponse.objects.exists()
    client.post("/staff/cases/crises/", {**data, "reply_template_name": ANSWER})
    assert CrisisResponse.objects.get().reply_template_name == ANSWER


def test_changing_the_template_is_audited_without_its_name(client: Client) -> None:
    _templates()
    response = _response(template="")
    _coordinator(client)
    page = client.get(f"/staff/cases/crises/{response.pk}/edit/").content.decode()
    assert 'href="/staff/cases/reply-templates/"' in page
    changed = client.post(
        f"/staff/cases/crises/{response.pk}/edit/",
        {
            "name": response.name,
            "countries": "AF",
            "starts_on": response.starts_on.isoformat(),
            "reply_template_name": ANSWER,
        },
    )
    assert changed.status_code == 302
    response.refresh_from_db()
    assert response.reply_template_name == ANSWER
    entry = AuditEntry.objects.get(action="cases.crisis.changed")
    assert entry.details == {"changed": "reply_template_name", "ends_on": "", "tagged": 0}
    assert ANSWER not in str(entry.details)


def test_a_response_whose_template_was_renamed_can_still_be_saved(client: Client) -> None:
    response = _response(template="Renamed since")
    _coordinator(client)
    page = client.get(f"/staff/cases/crises/{response.pk}/edit/").content.decode()
    assert "Renamed since (no template has this name now)" in page
    saved = client.post(
        f"/staff/cases/crises/{response.pk}/edit/",
        {
            "name": "Kabul and Islamabad",
            "countries": "AF, PK",
            "starts_on": response.starts_on.isoformat(),
            "reply_template_name": "Renamed since",
        },
    )
    assert saved.status_code == 302
    response.refresh_from_db()
    assert (response.name, response.reply_template_name) == ("Kabul and Islamabad", "Renamed since")


# The case page


def test_a_crisis_case_page_offers_the_crisis_template_in_its_language_first_and_chosen(
    client: Client,
) -> None:
    made = _templates()
    response = _response()
    volunteer = make_user(Role.INTAKE_VOLUNTEER)
    case = make_case(country="AF", language="es", assigned_to=volunteer)
    assert case.crisis == response
    sign_in(client, volunteer)
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    options = _options(page, "template")
    assert options[1] == (
        f'<option value="{made["es"].pk}" selected>'
        f"{ANSWER} (es): the answer to the crisis “Kabul evacuation”</option>"
    )
    assert "Another answer (es)" in options[2] and made["en"].text not in page
    # Sent as chosen, with nothing written: the template in the case's language goes out.
    sent = client.post(
        f"/staff/cases/{case.pk}/reply/", {"template": made["es"].pk, "text": "", "version": 1}
    )
    assert sent.status_code == 302 and case.request.messages.count() == 1


def test_a_case_outside_the_crisis_gets_no_crisis_answer() -> None:
    _templates()
    _response()
    case = make_case(country="NG", language="es")
    form = ReplyForm(case=case, initial={"version": 1})
    names = [template.name for template in form.fields["template"].queryset]  # type: ignore[attr-defined]
    assert names == ["Another answer", ANSWER] and "template" not in form.initial


def test_a_crisis_case_in_a_language_without_the_template_is_told_so(client: Client) -> None:
    _templates()
    _response()
    volunteer = make_user(Role.INTAKE_VOLUNTEER)
    case = make_case(country="AF", language="fr", assigned_to=volunteer)
    sign_in(client, volunteer)
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert (
        f"The template of the crisis response, “{ANSWER}”, is not written in this case's "
        "language yet."
    ) in page
    assert " selected>" not in "".join(_options(page, "template")[1:])  # only the blank one


def test_a_quarantined_crisis_case_is_offered_no_crisis_answer() -> None:
    ReplyTemplate.objects.create(name=ANSWER, language="en", text="We are on it.", neutral=True)
    ReplyTemplate.objects.create(name="Received", language="en", text="Noted.", neutral=True)
    _response()
    case = make_case(country="AF", state="quarantined", reason="suspected_fraud")
    form = ReplyForm(case=case, initial={"version": 1})
    labels = [label for _value, label in form.fields["template"].choices]  # type: ignore[attr-defined]
    assert [str(label) for label in labels] == ["---------", f"{ANSWER} (en)", "Received (en)"]
    assert "template" not in form.initial


# The queue's bulk reply


def test_the_crisis_queue_sends_the_crisis_template_to_each_case_in_its_language(
    client: Client, intake_team: Team
) -> None:
    _templates()
    response = _response()
    english, spanish = ask(country="AF").case, ask(country="AF").case  # type: ignore[attr-defined]
    Case.objects.filter(pk=spanish.pk).update(language="es")
    spanish.refresh_from_db()
    sign_in(client, make_user(Role.INTAKE_VOLUNTEER))
    queue = client.get("/staff/cases/", {"state": "new", "crisis": response.pk}).content.decode()
    assert f'<option value="{ANSWER}" selected>{ANSWER}</option>' in _options(queue, "template")
    plain = client.get("/staff/cases/", {"state": "new"}).content.decode()
    assert f'<option value="{ANSWER}">{ANSWER}</option>' in _options(plain, "template")
    sent = client.post(
        "/staff/cases/bulk/",
        {
            "chosen": [f"{case.pk}:{case.version}" for case in (english, spanish)],
            "action": "reply",
            "template": ANSWER,
        },
        follow=True,
    )
    assert "The answer waits for 2 people on their follow-up pages." in sent.content.decode()
    keys = vault.unlock_with_password(intake_team.memberships.get().user, PASSWORD)
    for case, text in ((english, "We are on it."), (spanish, "Nos ocupamos.")):
        thread = services.thread(case, vault.open_keyring(case.keyring, keys))
        assert [message for _message, message in thread] == [text]


# The surge page


def test_the_surge_page_shows_the_template_languages_and_warns_of_missing_ones(
    client: Client,
) -> None:
    _templates()
    response = _response()
    for language in ("fr", "fr", "ar", "en"):
        make_case(country="AF", language=language)
    make_case(country="AF", language="ru", state="closed")  # not open: no warning for it
    sign_in(client, make_user(Role.INTAKE_VOLUNTEER))
    page = client.get(f"/staff/cases/crises/{response.pk}/").content.decode()
    assert f"Caseworkers send “{ANSWER}” to everyone in this crisis" in page
    assert "Written in: English (en), Spanish (es)" in page
    assert "Open cases in these languages cannot get it" in page
    assert "<li>French (fr): 2 open cases</li><li>Arabic (ar): 1 open case</li>" in page
    assert "Russian" not in page
    assert 'href="/staff/cases/reply-templates/"' not in page  # coordinators keep templates


def test_the_surge_page_names_the_languages_in_the_readers_language(client: Client) -> None:
    _templates()
    response = _response()
    make_case(country="AF", language="fr")
    sign_in(client, make_user(Role.COORDINATOR))
    client.cookies["lang"] = "fr"
    page = client.get(f"/staff/cases/crises/{response.pk}/").content.decode()
    assert "Anglais (en), Espagnol (es)" in page and "<li>Français (fr)" in page
    assert 'href="/staff/cases/reply-templates/"' in page


def test_the_surge_page_of_a_response_without_a_template_says_so(client: Client) -> None:
    response = _response(template="")
    gone = _response(template="Renamed since", name="Lagos")
    sign_in(client, make_user(Role.COORDINATOR))
    page = client.get(f"/staff/cases/crises/{response.pk}/").content.decode()
    assert "This response names no reply template." in page
    page = client.get(f"/staff/cases/crises/{gone.pk}/").content.decode()
    assert "No reply template is called “Renamed since” now" in page
    assert services.crisis_template(response) is None

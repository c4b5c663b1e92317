"""Fraud and entrapment signals: seen by staff on the case, never by the person."""

import io
import logging
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from PIL import Image

from conftest import PASSWORD, make_user, sign_in
from waystation.accounts.models import Role, Team
from waystation.cases import signals
from waystation.cases.models import Case
from waystation.cases.signals import Signal, register_signal, signals_for
from waystation.intake import services as intake
from waystation.intake.models import HelpRequest
from waystation.vault import crypto, files
from waystation.vault import services as vault
from waystation.vault.access import SealedValue

from .conftest import ask

pytestmark = pytest.mark.django_db

STORY = (
    "I was arrested in March during a raid on a private party and held for eleven days. The "
    "officers took my phone and found pictures of me with my partner. I was released on bail "
    "but the trial is next month and my lawyer says I could get fourteen years. My employer "
    "fired me when the story appeared in the newspaper."
)
# Pairs of narratives as they arrive: the same text with small changes, and different
# people's stories on the same subject.
NEAR_IDENTICAL = {
    "a few words changed": (
        STORY,
        STORY.replace("March", "April").replace("eleven", "twelve").replace("fired", "sacked"),
    ),
    "sentences reordered": (
        STORY,
        "The officers took my phone and found pictures of me with my partner. I was arrested "
        "in March during a raid on a private party and held for eleven days. My employer "
        "fired me when the story appeared in the newspaper. I was released on bail but the "
        "trial is next month and my lawyer says I could get fourteen years.",
    ),
    "a template with the names changed": (
        "My name is Daniel Ouma, I am 24 years old and I live in Kisumu. My family found out "
        "that I am gay and my father reported me to the police. Officers came to my house "
        "twice this month and my neighbours threatened to burn it down. Please help me to "
        "leave the country before they find me.",
        "My name is Joseph Mwangi, I am 27 years old and I live in Nakuru. My family found "
        "out that I am gay and my father reported me to the police. Officers came to my house "
        "twice this month and my neighbours threatened to burn it down. Please help me to "
        "leave the country before they find me.",
    ),
}
UNRELATED = {
    "another story": (
        STORY,
        "I am a lesbian from Chechnya. My relatives learned about my relationship and came "
        "to Moscow to take me back home. I escaped from them at the train station. Women who "
        "were taken back disappeared. I am hiding in a hostel but they have people looking "
        "for me.",
    ),
    "the same subject and phrases": (
        "My family found out that I am gay and my father reported me to the police. I was "
        "arrested and beaten in the station for three days until my mother paid the officers. "
        "Now I stay with a friend in another town and I cannot work.",
        "My family found out that I am gay when my sister saw my messages. My parents took me "
        "to a pastor who kept me in a church for a month and beat me to remove the demon. I "
        "escaped and I sleep in the market now.",
    ),
}


def _png(colour: str) -> bytes:
    image = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(image, format="PNG")
    return image.getvalue()


def _send_file(request: HelpRequest, data: bytes) -> None:
    """A file the person sends from their follow-up page, as the upload handler stores it."""
    file_key = crypto.new_key()
    writer = files.FileWriter(request.keyring, file_key, name="photo.png", content_type="image/png")
    writer.write(data)
    intake.add_evidence(request, writer.close(), file_key)


def _codes(case: Case, content: Any = None) -> list[str]:
    return [signal.code for signal in signals_for(case, content)]


def _received_days_ago(case: Case, days: int) -> None:
    earlier = case.received_at - timedelta(days=days)
    Case.objects.filter(pk=case.pk).update(received_at=earlier)
    HelpRequest.objects.filter(pk=case.request_id).update(received_at=earlier)
    case.refresh_from_db()


def _case_readable_by_a_volunteer(**answers: str) -> Case:
    """A request sealed to an intake volunteer with keys, and its case."""
    volunteer = make_user(Role.INTAKE_VOLUNTEER, keys=True)
    vault.ensure_team_key(Team.objects.get(memberships__user=volunteer))
    return ask(**answers).case  # type: ignore[attr-defined]


# --- One contact, several names ------------------------------------------------------------


def test_one_phone_behind_several_names_is_a_signal(intake_team, settings) -> None:  # type: ignore[no-untyped-def]
    first = ask(name="Ada Okafor", handle="+234 803 123 4567").case
    assert signals_for(first) == []
    ask(name="Ada Okafor", handle="0803 123 4567")  # the same person again: no signal
    assert signals_for(first) == []
    third = ask(name="Chidi Eze", handle="0803 123 4567").case
    [signal] = signals_for(third)
    assert signal.code == "contact_names" and signal.message.endswith("e-mail address: 2.")
    settings.CASES_SIGNAL_NAMES_PER_CONTACT = 3
    assert signals_for(third) == []


def test_signals_show_on_the_case_page_for_staff_only(intake_team, client: Client) -> None:  # type: ignore[no-untyped-def]
    ask(name="Ada Okafor", handle="+234 803 123 4567")
    case = ask(name="Chidi Eze", handle="0803 123 4567").case
    sign_in(client, make_user(Role.INTAKE_VOLUNTEER))
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert "Signals to check" in page and "e-mail address: 2." in page
    follow_up = Client().get("/follow-up/").content.decode()
    assert "Signals" not in follow_up and "Different names" not in follow_up


# --- The same evidence file ----------------------------------------------------------------


def test_the_same_file_in_two_requests_flags_both(intake_team, vault_storage) -> None:  # type: ignore[no-untyped-def]
    first, second, third = ask(), ask(), ask()
    _send_file(first, _png("red"))
    assert signals_for(first.case) == []
    _send_file(second, _png("red"))
    _send_file(third, _png("blue"))
    for request in (first, second):
        [signal] = signals_for(request.case)
        assert signal == Signal("evidence_shared", "The same evidence file is in 1 other request.")
    assert signals_for(third.case) == []


def test_a_file_sent_twice_to_one_request_is_not_a_signal(intake_team, vault_storage) -> None:  # type: ignore[no-untyped-def]
    request = ask()
    _send_file(request, _png("red"))
    _send_file(request, _png("red"))
    assert signals_for(request.case) == []


def test_evidence_threshold_is_a_setting(intake_team, vault_storage, settings) -> None:  # type: ignore[no-untyped-def]
    requests = [ask() for _ in range(3)]
    for request in requests:
        _send_file(request, _png("green"))
    [signal] = signals_for(requests[0].case)
    assert signal.message == "The same evidence file is in 2 other requests."
    settings.CASES_SIGNAL_EVIDENCE_MATCHES = 3
    assert signals_for(requests[0].case) == []


def test_counts_past_the_scan_limit_say_at_least(intake_team, vault_storage, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(signals, "SCAN_LIMIT", 2)
    requests = [ask() for _ in range(4)]
    for request in requests:
        _send_file(request, _png("green"))
    [signal] = signals_for(requests[0].case)
    assert signal.message == "The same evidence file is in at least 2 other requests."


# --- Bursts of near-identical narratives ---------------------------------------------------


@pytest.mark.parametrize(("first", "second"), NEAR_IDENTICAL.values(), ids=NEAR_IDENTICAL.keys())
def test_near_identical_narratives_flag(intake_team, settings, first: str, second: str) -> None:  # type: ignore[no-untyped-def]
    settings.CASES_SIGNAL_NARRATIVE_MATCHES = 1
    one, other = ask(narrative=first).case, ask(narrative=second).case
    for case in (one, other):
        [signal] = signals_for(case)
        assert signal.code == "narrative_burst"
        assert signal.message == (
            "Near-identical narrative in 1 other request received within 7 days of this one."
        )


@pytest.mark.parametrize(("first", "second"), UNRELATED.values(), ids=UNRELATED.keys())
def test_unrelated_narratives_do_not(intake_team, settings, first: str, second: str) -> None:  # type: ignore[no-untyped-def]
    settings.CASES_SIGNAL_NARRATIVE_MATCHES = 1
    one, other = ask(narrative=first).case, ask(narrative=second).case
    assert signals_for(one) == signals_for(other) == []


def test_a_burst_needs_enough_requests_within_the_window(intake_team, settings) -> None:  # type: ignore[no-untyped-def]
    first = ask(narrative=STORY).case
    second = ask(narrative=STORY.replace("eleven", "ten")).case
    assert signals_for(second) == []  # one other request: below the default of two
    third = ask(narrative=STORY.replace("March", "May")).case
    [signal] = signals_for(third)
    assert "in 2 other requests received within 7 days" in signal.message
    _received_days_ago(first, 8)
    assert signals_for(third) == []  # outside the window, not part of the burst
    assert signals_for(first) == []
    settings.CASES_SIGNAL_NARRATIVE_DAYS = 10
    assert _codes(first) == ["narrative_burst"]
    assert "within 10 days of this one" in signals_for(third)[0].message


def test_short_narratives_are_never_a_burst(intake_team) -> None:  # type: ignore[no-untyped-def]
    cases = [ask(narrative="Please help me, they will kill me.").case for _ in range(4)]
    assert signals_for(cases[-1]) == []


# --- A compromised partner -----------------------------------------------------------------


def test_a_request_naming_a_compromised_partner_is_flagged(settings) -> None:  # type: ignore[no-untyped-def]
    settings.INTAKE_PARTNERS = ["Rainbow Shelter Kampala", "Safe Passage"]
    settings.CASES_COMPROMISED_PARTNERS = ["rainbow shelter  KAMPALA"]
    case = _case_readable_by_a_volunteer(partner="Rainbow Shelter Kampala")
    content = {"partner": SealedValue("Rainbow Shelter Kampala")}
    [signal] = signals_for(case, content)
    assert signal == Signal(
        "compromised_partner", "This request names a partner organization listed as compromised."
    )
    assert signals_for(case, {"partner": SealedValue("Safe Passage")}) == []
    assert signals_for(case, {"partner": SealedValue("")}) == []
    # Damaged, or not opened by the reader: the rule cannot tell, and says nothing.
    assert signals_for(case, {"partner": SealedValue(error="damaged")}) == []
    assert signals_for(case) == []


def test_the_partner_signal_shows_once_the_reader_opens_the_case(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.INTAKE_PARTNERS = ["Rainbow Shelter Kampala"]
    settings.CASES_COMPROMISED_PARTNERS = ["Rainbow Shelter Kampala"]
    case = _case_readable_by_a_volunteer(partner="Rainbow Shelter Kampala")
    sign_in(client, Team.objects.get(role=Role.INTAKE_VOLUNTEER).memberships.get().user)
    locked = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert "listed as compromised" not in locked
    client.post("/staff/unlock/", {"password": PASSWORD})
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert "Signals to check" in page and "listed as compromised" in page


# --- Rules: turned off, added by other apps ------------------------------------------------


def test_a_disabled_rule_is_silent(intake_team, vault_storage, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CASES_SIGNAL_NARRATIVE_MATCHES = 1
    first, second = ask(narrative=STORY), ask(narrative=STORY)
    for request in (first, second):
        _send_file(request, _png("red"))
    assert _codes(first.case) == ["evidence_shared", "narrative_burst"]
    settings.CASES_SIGNALS_DISABLED = ["narrative_burst"]
    assert _codes(first.case) == ["evidence_shared"]
    settings.CASES_SIGNALS_DISABLED = ["narrative_burst", "evidence_shared"]
    assert signals_for(first.case) == []


@pytest.fixture
def rules(monkeypatch):  # type: ignore[no-untyped-def]
    """The registry as it is, restored after the test."""
    monkeypatch.setattr(signals, "_rules", dict(signals._rules))


def test_a_registered_rule_appears(intake_team, rules, settings, client: Client) -> None:  # type: ignore[no-untyped-def]
    def partner_registry_rule(case: Case, content: Any) -> str | None:
        return "Seen by the partner registry." if case.country == "NG" else None

    register_signal("partner_registry", partner_registry_rule)
    register_signal("partner_registry", partner_registry_rule)  # again: no change
    case, other = ask().case, ask(country="KE").case
    assert signals_for(case) == [Signal("partner_registry", "Seen by the partner registry.")]
    assert signals_for(other) == []
    sign_in(client, make_user(Role.INTAKE_VOLUNTEER))
    assert (
        "Seen by the partner registry." in client.get(f"/staff/cases/{case.pk}/").content.decode()
    )
    settings.CASES_SIGNALS_DISABLED = ["partner_registry"]
    assert signals_for(case) == []
    with pytest.raises(ValueError, match="partner_registry"):
        register_signal("partner_registry", lambda case, content: None)


def test_a_failing_rule_is_logged_without_content_and_skipped(  # type: ignore[no-untyped-def]
    intake_team, rules, caplog, client: Client
) -> None:
    def broken(case: Case, content: Any) -> str | None:
        raise ValueError(f"cannot read {content}")

    register_signal("broken", broken)
    case = ask(name="Ada Okafor").case
    sign_in(client, make_user(Role.INTAKE_VOLUNTEER))
    with caplog.at_level(logging.ERROR):
        response = client.get(f"/staff/cases/{case.pk}/")
    assert response.status_code == 200
    assert [r.getMessage() for r in caplog.records] == ["Signal rule broken failed (ValueError)."]


# --- Bounded, and never shown to the person ------------------------------------------------


def test_signal_queries_do_not_grow_with_the_matches(  # type: ignore[no-untyped-def]
    intake_team, vault_storage, settings, django_assert_max_num_queries
) -> None:
    requests = [ask(name="Ada Okafor", handle="0803 123 4567", narrative=STORY)]
    with django_assert_max_num_queries(7):
        assert signals_for(requests[0].case) == []
    for number in range(6):
        requests.append(ask(name=f"Person {number} Eze", handle="0803 123 4567", narrative=STORY))
        _send_file(requests[-1], _png("red"))
    _send_file(requests[0], _png("red"))
    with django_assert_max_num_queries(7):
        assert _codes(requests[0].case) == ["contact_names", "evidence_shared", "narrative_burst"]


def test_the_person_sees_nothing_of_the_signals(intake_team, vault_storage, settings) -> None:  # type: ignore[no-untyped-def]
    settings.INTAKE_PARTNERS = ["Rainbow Shelter Kampala"]
    settings.CASES_COMPROMISED_PARTNERS = ["Rainbow Shelter Kampala"]
    pages = []
    for _ in range(3):
        person = Client()
        form = person.get("/ask/").content.decode()
        token = re.search(r'name="form_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
        received = person.post(
            "/ask/",
            {
                "form_token": token,
                "country": "NG",
                "region": "Lagos",
                "narrative": STORY,
                "risk": "now",
                "documents": ["none"],
                "name": "Ada Okafor",
                "channel": "phone",
                "handle": "0803 123 4567",
                "partner": "Rainbow Shelter Kampala",
                "language": "en",
                "consent": "on",
            },
        )
        assert received.status_code == 200
        upload = io.BytesIO(_png("red"))
        upload.name = "photo.png"
        sent = person.post("/follow-up/files/", {"file": upload})
        pages += [received.content.decode(), sent.content.decode()]
        pages.append(person.get("/follow-up/").content.decode())
    assert _codes(Case.objects.order_by("received_at").last()) == [  # type: ignore[arg-type]
        "evidence_shared",
        "narrative_burst",
    ]
    for page in pages:
        for said in ("Signals to check", "evidence file", "Near-identical", "compromised"):
            assert said not in page

"""Asking for help: validation keeps answers, one form makes one request, sealed at once."""

import re

import pytest
from django.test import Client
from django.utils import timezone

from conftest import PASSWORD
from waystation.audit.models import AuditEntry
from waystation.intake import abuse, codes, services, views
from waystation.intake.models import HelpRequest, SubmissionToken
from waystation.vault import services as vault
from waystation.vault.fields import decrypt_value

from .conftest import ANSWERS

pytestmark = pytest.mark.django_db


def _form(client: Client) -> dict[str, object]:
    page = client.get("/ask/").content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    return {**ANSWERS, "form_token": token}


def _code(response) -> str:  # type: ignore[no-untyped-def]
    return re.search(r'class="secret follow-up-code">([\d ]+)<', response.content.decode()).group(1)


def test_request_is_sealed_and_acknowledged_with_a_code(client: Client, intake_team) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/ask/", _form(client))
    assert response.status_code == 200
    code = _code(response)
    assert len(codes.normalize(code) or "") == 28
    request = HelpRequest.objects.get()
    assert (request.country, request.region, request.risk) == ("NG", "Lagos", "now")
    member = intake_team.memberships.get().user
    key = vault.open_keyring(request.keyring, vault.unlock_with_password(member, PASSWORD))
    assert decrypt_value(key, request, "narrative") == ANSWERS["narrative"]
    assert decrypt_value(key, request, "contact")["handle"] == ANSWERS["handle"]
    assert AuditEntry.objects.filter(
        action="intake.request.received", object_id=request.pk
    ).exists()
    assert code.replace(" ", "") not in str(HelpRequest.objects.values().get())


def test_missing_risk_description_is_refused_and_answers_kept(client: Client, intake_team) -> None:  # type: ignore[no-untyped-def]
    data = {**_form(client), "narrative": "", "risk": ""}
    response = client.post("/ask/", data)
    content = response.content.decode()
    assert response.status_code == 400
    assert "Please describe the danger you face" in content
    assert "Choose how soon you are in danger" in content
    assert 'value="Lagos"' in content and "+234 803 123 4567" in content
    assert not HelpRequest.objects.exists()


def test_same_form_twice_makes_one_request_and_shows_the_same_code(  # type: ignore[no-untyped-def]
    client: Client, intake_team
) -> None:
    data = _form(client)
    first = client.post("/ask/", data)
    # A double click, or a reload after the answer was lost: the browser shows only the
    # second answer, which must carry the code the first one stored.
    again = Client().post("/ask/", data)
    assert again.status_code == 200
    assert _code(again) == _code(first)
    assert HelpRequest.objects.count() == 1
    assert again.cookies["fk"].value  # signed in to follow up, as after the first answer
    assert AuditEntry.objects.filter(action="intake.request.code_shown_again").count() == 1


def test_code_is_held_for_replay_only_encrypted_and_only_briefly(  # type: ignore[no-untyped-def]
    client: Client, intake_team
) -> None:
    data = _form(client)
    digits = (codes.normalize(_code(client.post("/ask/", data))) or "").encode()
    held = SubmissionToken.objects.get()
    assert digits not in bytes(held.sealed_code) and data["form_token"] not in str(held.token_hash)
    SubmissionToken.objects.update(used_at=timezone.now() - services.REPLAY_WINDOW)
    late = Client().post("/ask/", data)
    assert late.status_code == 409
    assert "follow-up-code" not in late.content.decode()
    services.sweep_submission_tokens(force=True)
    assert SubmissionToken.objects.get().sealed_code is None
    SubmissionToken.objects.update(used_at=timezone.now() - services.TOKEN_KEPT)
    services.sweep_submission_tokens(force=True)
    assert not SubmissionToken.objects.exists()


def test_blank_form_is_built_once_with_fresh_tokens_per_visitor(client: Client) -> None:
    pages = [Client().get("/ask/").content.decode() for _ in range(2)]
    for page in pages:
        assert views.CSRF_PLACEHOLDER not in page and views.FORM_TOKEN_PLACEHOLDER not in page
    tokens = [re.search(r'name="form_token" value="([^"]+)"', page).group(1) for page in pages]
    csrf = [re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', p).group(1) for p in pages]
    assert tokens[0] != tokens[1] and csrf[0] != csrf[1]
    assert abuse.token_age(tokens[0]) is not None


def test_honeypot_learns_nothing_and_stores_nothing(client: Client, intake_team) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/ask/", {**_form(client), "website": "http://spam.example"})
    assert response.status_code == 200 and _code(response)
    assert not HelpRequest.objects.exists()


def test_not_ready_keeps_answers(client: Client) -> None:
    response = client.post("/ask/", _form(client))
    assert response.status_code == 503
    assert "Your answers are still here" in response.content.decode()
    assert 'value="Lagos"' in response.content.decode()


def test_database_failure_keeps_answers(client: Client, intake_team, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from django.db import OperationalError

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("database is locked")

    monkeypatch.setattr(services, "submit_request", broken)
    response = client.post("/ask/", _form(client))
    assert response.status_code == 503 and 'value="Lagos"' in response.content.decode()


def test_same_phone_is_linked_without_telling_the_person(  # type: ignore[no-untyped-def]
    client: Client, intake_team, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post("/ask/", _form(client))
        second = client.post(
            "/ask/", {**_form(client), "name": "Someone Else", "handle": "0803 123 4567"}
        )
    assert first.status_code == second.status_code == 200
    earlier, later = HelpRequest.objects.order_by("received_at")
    assert later.duplicate_of == earlier
    assert "already" not in second.content.decode().lower()


def test_no_address_or_browser_is_stored(client: Client, intake_team, caplog) -> None:  # type: ignore[no-untyped-def]
    client.post(
        "/ask/",
        _form(client),
        REMOTE_ADDR="203.0.113.77",
        HTTP_USER_AGENT="CanaryBrowser/9.9",
        HTTP_X_FORWARDED_FOR="198.51.100.5",
    )
    dump = str(list(HelpRequest.objects.values())) + str(list(AuditEntry.objects.values()))
    for trace in ("203.0.113.77", "198.51.100.5", "CanaryBrowser"):
        assert trace not in dump and trace not in caplog.text


def test_references_do_not_count_requests(intake_team) -> None:  # type: ignore[no-untyped-def]
    refs = {codes.new_reference() for _ in range(200)}
    assert len(refs) == 200 and all(re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", r) for r in refs)
    # Every letter of the alphabet turns up in every place: no position is fixed.
    for place in (0, 3, 5, 8):
        assert len({r[place] for r in refs | {codes.new_reference() for _ in range(800)}}) == 32


def test_follow_up_codes_are_28_digits_drawn_in_every_place() -> None:
    drawn = [codes.new_code() for _ in range(500)]
    assert all(re.fullmatch(r"\d{4}( \d{4}){6}", code) for code in drawn)
    assert len(set(drawn)) == 500
    for place in (0, 1, 17, 33):
        assert {code[place] for code in drawn} == set("0123456789")


def test_home_lists_configured_outside_resources(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.OUTSIDE_RESOURCES = [("Legal aid network", "https://legal.example/")]
    content = client.get("/").content.decode()
    assert 'href="https://legal.example/"' in content and "Legal aid network" in content
    assert "We try to answer within 14 days" in content


def test_a_name_sound_alone_does_not_link(  # type: ignore[no-untyped-def]
    client: Client, intake_team, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/ask/", {**_form(client), "name": "Alexey", "handle": "", "channel": ""})
        client.post("/ask/", {**_form(client), "name": "Aleksei", "handle": "", "channel": ""})
        client.post(
            "/ask/",
            {**_form(client), "name": "Alexey", "handle": "", "channel": "", "country": "KE"},
        )
    _first, second, third = HelpRequest.objects.order_by("received_at")
    assert second.duplicate_of is None  # same sound, different spelling: left to staff
    assert third.duplicate_of is None  # same name, another country


def test_same_full_name_in_the_same_country_is_linked(client: Client, intake_team) -> None:  # type: ignore[no-untyped-def]
    alone = {"handle": "", "channel": ""}
    client.post("/ask/", {**_form(client), **alone, "name": "Ada Grace Okafor"})
    client.post("/ask/", {**_form(client), **alone, "name": "Okafor Ada"})
    client.post("/ask/", {**_form(client), **alone, "name": "Ada Mensah"})
    client.post("/ask/", {**_form(client), **alone, "name": "Ada"})
    first, same, other_surname, given_name_only = HelpRequest.objects.order_by("received_at")
    assert same.duplicate_of is None  # "Okafor Ada" is not every word of "Ada Grace Okafor"
    assert other_surname.duplicate_of is None and given_name_only.duplicate_of is None
    client.post("/ask/", {**_form(client), **alone, "name": "Grace Okafor Ada"})
    assert HelpRequest.objects.order_by("received_at").last().duplicate_of == first


def test_country_list_follows_language_and_keeps_the_choice(client: Client) -> None:
    client.cookies["lang"] = "fr"
    assert ">Allemagne<" in client.get("/ask/").content.decode()
    client.cookies["lang"] = "en"
    page = client.post("/ask/", {"country": "KE"}).content.decode()
    assert ">Germany<" in page and '<option value="KE" selected>Kenya</option>' in page


def test_partner_list_is_offered_only_when_configured_and_sealed(  # type: ignore[no-untyped-def]
    client: Client, intake_team, settings
) -> None:
    assert 'name="partner"' not in client.get("/ask/").content.decode()
    settings.INTAKE_PARTNERS = ["Rainbow Alliance", "Safe Haven Network"]
    page = client.get("/ask/").content.decode()
    assert '<option value="Safe Haven Network">Safe Haven Network</option>' in page
    refused = client.post("/ask/", {**_form(client), "partner": "Police Unit 7"})
    assert refused.status_code == 400 and 'value="Lagos"' in refused.content.decode()
    assert (
        client.post("/ask/", {**_form(client), "partner": "Safe Haven Network"}).status_code == 200
    )
    request = HelpRequest.objects.get()
    member = intake_team.memberships.get().user
    key = vault.open_keyring(request.keyring, vault.unlock_with_password(member, PASSWORD))
    assert decrypt_value(key, request, "partner") == "Safe Haven Network"

"""Crisis responses: requests tagged by country and date, their own queue, surge figures."""

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from conftest import make_user, sign_in
from waystation.accounts.models import Role
from waystation.audit.models import AuditEntry
from waystation.cases import services
from waystation.cases.models import Case, CaseEvent, CrisisResponse

from .conftest import ask
from .factories import make_case

pytestmark = pytest.mark.django_db


def _response(**fields: object) -> CrisisResponse:
    defaults: dict[str, object] = {
        "name": "Kabul evacuation",
        "countries": ["AF", "PK"],
        "starts_on": timezone.localdate() - timedelta(days=10),
        "ends_on": None,
        "reply_template_name": "",
    }
    return services.create_crisis_response(**{**defaults, **fields}, by=make_user(Role.COORDINATOR))  # type: ignore[arg-type]


def test_requests_from_its_countries_in_its_dates_are_tagged(intake_team) -> None:  # type: ignore[no-untyped-def]
    response = _response()
    assert ask(country="AF").case.crisis == response
    assert ask(country="NG").case.crisis is None
    CrisisResponse.objects.filter(pk=response.pk).update(ends_on=date(2000, 1, 1))
    assert ask(country="PK").case.crisis is None


def test_a_new_response_tags_the_requests_already_received(intake_team) -> None:  # type: ignore[no-untyped-def]
    earlier = make_case(country="AF")
    old = make_case(country="AF", received_at=timezone.now() - timedelta(days=400))
    response = _response()
    earlier.refresh_from_db()
    old.refresh_from_db()
    assert earlier.crisis == response and old.crisis is None
    entry = AuditEntry.objects.get(action="cases.crisis.created")
    assert entry.details == {"tagged": 1}


def test_coordinators_define_responses_and_bad_input_keeps_the_form(client: Client) -> None:
    sign_in(client, make_user(Role.COORDINATOR))
    refused = client.post(
        "/staff/cases/crises/",
        {
            "name": "Surge",
            "countries": "AF, XX1",
            "starts_on": "2026-11-01",
            "ends_on": "2026-10-01",
        },
    )
    content = refused.content.decode()
    assert refused.status_code == 400 and "Not a country code: XX1" in content
    assert 'value="Surge"' in content and not CrisisResponse.objects.exists()
    backwards = client.post(
        "/staff/cases/crises/",
        {"name": "Surge", "countries": "AF", "starts_on": "2026-11-01", "ends_on": "2026-10-01"},
    )
    assert "The end comes before the start." in backwards.content.decode()
    created = client.post(
        "/staff/cases/crises/", {"name": "Surge", "countries": "af, pk", "starts_on": "2026-11-01"}
    )
    response = CrisisResponse.objects.get()
    assert created["Location"] == f"/staff/cases/crises/{response.pk}/"
    assert response.countries == ["AF", "PK"]


def test_surge_figures_count_arrivals_age_and_answers(client: Client) -> None:
    response = _response()
    now = timezone.now()
    make_case(country="AF", crisis=response, received_at=now - timedelta(days=3))
    make_case(country="AF", crisis=response, answered_at=now, answer_due_at=now + timedelta(days=1))
    make_case(country="AF", crisis=response, answer_due_at=now - timedelta(days=1))
    figures = services.surge_figures(response)
    assert sum(n for _day, n in figures.arrivals) == 3
    assert figures.open_cases == 3 and figures.oldest_unanswered_days == 3
    assert (figures.answered_in_time, figures.answered_late_or_overdue) == (1, 1)
    sign_in(client, make_user(Role.INTAKE_VOLUNTEER))
    page = client.get(f"/staff/cases/crises/{response.pk}/").content.decode()
    assert "Kabul evacuation" in page and "Lagos" not in page


def test_the_queue_filters_by_crisis(client: Client) -> None:
    response = _response()
    tagged = make_case(country="AF")  # tagged as it arrives
    make_case(country="NG")
    sign_in(client, make_user(Role.INTAKE_VOLUNTEER))
    shown = client.get("/staff/cases/", {"state": "new", "crisis": response.pk})
    assert [c.reference for c in shown.context["page"].cases] == [tagged.reference]
    assert Case.objects.count() == 2


def test_cases_tagged_by_a_new_response_get_a_timeline_event_and_one_entry_counts_them() -> None:
    earlier = [make_case(country="AF"), make_case(country="PK")]
    elsewhere = make_case(country="NG")
    response = _response()
    coordinator = AuditEntry.objects.get(action="cases.crisis.created").actor_id
    for case in earlier:
        case.refresh_from_db()
        assert case.crisis == response and case.version == 2  # open forms are stale now
        [event] = case.events.filter(kind=CaseEvent.Kind.CRISIS)
        assert event.by_id == coordinator
    assert not elsewhere.events.filter(kind=CaseEvent.Kind.CRISIS).exists()
    entry = AuditEntry.objects.get(action="cases.crisis.created")
    assert entry.object_id == response.pk and entry.details == {"tagged": 2}


def _edit(client: Client, response: CrisisResponse, **fields: str):  # type: ignore[no-untyped-def]
    data = {
        "name": response.name,
        "countries": ", ".join(response.countries),
        "starts_on": response.starts_on.isoformat(),
        "ends_on": response.ends_on.isoformat() if response.ends_on else "",
        "reply_template_name": response.reply_template_name,
        **fields,
    }
    return client.post(f"/staff/cases/crises/{response.pk}/edit/", data)


def test_coordinators_change_a_response_and_its_queue_takes_in_the_new_country(
    client: Client,
) -> None:
    response = _response()
    kenya = make_case(country="KE")
    sign_in(client, make_user(Role.COORDINATOR))
    page = client.get(f"/staff/cases/crises/{response.pk}/edit/").content.decode()
    assert 'value="Kabul evacuation"' in page and 'value="AF, PK"' in page
    changed = _edit(client, response, name="Kabul and Nairobi", countries="af, pk, ke")
    assert changed["Location"] == f"/staff/cases/crises/{response.pk}/"
    response.refresh_from_db()
    assert (response.name, response.countries) == ("Kabul and Nairobi", ["AF", "KE", "PK"])
    kenya.refresh_from_db()
    assert kenya.crisis == response and kenya.events.filter(kind=CaseEvent.Kind.CRISIS).exists()
    entry = AuditEntry.objects.get(action="cases.crisis.changed")
    assert entry.details == {"changed": "name,countries", "ends_on": "", "tagged": 1}
    assert "Kabul and Nairobi" not in str(entry.details)  # identifiers and counts only


def test_ending_a_response_stops_tagging_and_keeps_the_cases_tagged(  # type: ignore[no-untyped-def]
    client: Client, intake_team
) -> None:
    response = _response()
    tagged = ask(country="AF").case
    sign_in(client, make_user(Role.COORDINATOR))
    yesterday = timezone.localdate() - timedelta(days=1)
    _edit(client, response, ends_on=yesterday.isoformat(), countries="AF")
    response.refresh_from_db()
    assert response.ends_on == yesterday
    assert ask(country="AF").case.crisis is None
    tagged.refresh_from_db()
    assert tagged.crisis == response  # the end and the narrower countries untag nothing
    entry = AuditEntry.objects.get(action="cases.crisis.changed")
    assert entry.details == {
        "changed": "countries,ends_on",
        "ends_on": yesterday.isoformat(),
        "tagged": 0,
    }


def test_bad_changes_keep_the_form_and_no_change_writes_no_entry(client: Client) -> None:
    response = _response()
    sign_in(client, make_user(Role.COORDINATOR))
    backwards = _edit(client, response, name="Renamed", ends_on="2000-01-01")
    content = backwards.content.decode()
    assert backwards.status_code == 400 and "The end comes before the start." in content
    assert 'value="Renamed"' in content
    response.refresh_from_db()
    assert response.name == "Kabul evacuation" and response.ends_on is None
    assert _edit(client, response).status_code == 302
    assert not AuditEntry.objects.filter(action="cases.crisis.changed").exists()


def test_only_coordinators_change_responses(client: Client) -> None:
    response = _response()
    for role in (Role.INTAKE_VOLUNTEER, Role.CASEWORKER, Role.SURGE_VOLUNTEER, None):
        sign_in(client, make_user(role))
        assert client.get(f"/staff/cases/crises/{response.pk}/edit/").status_code == 404
        assert _edit(client, response, name="Taken over").status_code == 404
    response.refresh_from_db()
    assert response.name == "Kabul evacuation"
    sign_in(client, make_user(Role.COORDINATOR))
    surge_page = client.get(f"/staff/cases/crises/{response.pk}/").content.decode()
    assert f"/staff/cases/crises/{response.pk}/edit/" in surge_page

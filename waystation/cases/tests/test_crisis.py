"""Crisis responses: requests tagged by country and date, their own queue, surge figures."""

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from conftest import make_user, sign_in
from waystation.accounts.models import Role
from waystation.audit.models import AuditEntry
from waystation.cases import services
from waystation.cases.models import Case, CrisisResponse

from .conftest import ask
from .factories import make_case

pytestmark = pytest.mark.django_db


def _response(**fields: object) -> CrisisResponse:
    defaults: dict[str, object] = {
        "name": "Kabul evacuation",
        "countries": ["AF", "PK"],
        "starts_on": timezone.localdate() - timedelta(days=10),
        "ends_on": None,
        "reply_template": "",
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

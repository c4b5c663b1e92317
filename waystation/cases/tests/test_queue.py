"""The queue's region filter and its counts by language, on index-backed queries."""

import pytest
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.utils import timezone

from conftest import make_user, sign_in
from waystation.accounts.models import Role
from waystation.cases import queue
from waystation.cases.models import Case

from .factories import make_case

pytestmark = pytest.mark.django_db


def _references(response) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(case.reference for case in response.context["page"].cases)


def test_the_queue_filters_by_region_whatever_its_case_and_spacing(client: Client) -> None:
    lagos = [make_case(), make_case(region="LAGOS")]
    harcourt = make_case(region="Port Harcourt")
    make_case(region="Lagos Island")
    sign_in(client, make_user(Role.INTAKE_VOLUNTEER))
    shown = client.get("/staff/cases/", {"state": "new", "region": "  lagos "})
    assert _references(shown) == sorted(case.reference for case in lagos)
    assert shown.context["form"]["region"].value() == "  lagos "
    spaced = client.get("/staff/cases/", {"state": "new", "region": "port   HARCOURT"})
    assert _references(spaced) == [harcourt.reference]
    assert client.get("/staff/cases/", {"region": "Kano"}).context["page"].cases == []


def test_a_region_longer_than_the_request_form_allows_gives_the_default_queue(
    client: Client,
) -> None:
    made = sorted(make_case(region=region).reference for region in ("Lagos", "Kano"))
    sign_in(client, make_user(Role.INTAKE_VOLUNTEER))
    response = client.get("/staff/cases/", {"state": "new", "region": "x" * 81})
    assert response.status_code == 200 and _references(response) == made
    assert "region" in response.context["form"].errors


def test_the_queue_counts_by_language_with_the_other_filters(client: Client) -> None:
    for language in ("en", "en", "fr", "ar"):
        make_case(language=language)
    make_case(language="fr", country="KE")
    make_case(language="uk", state="triaged")  # another state: not counted
    sign_in(client, make_user(Role.INTAKE_VOLUNTEER))
    everything = client.get("/staff/cases/", {"state": "new"})
    assert dict(everything.context["by_language"]) == {"en": 2, "fr": 2, "ar": 1}
    assert everything.context["by_language"][0][1] == 2  # largest first
    # Counts by language keep the other filters and leave their own out.
    kenya = client.get("/staff/cases/", {"state": "new", "country": "KE", "language": "en"})
    assert dict(kenya.context["by_language"]) == {"fr": 1}
    assert dict(kenya.context["by_country"]) == {"NG": 2}
    assert "Languages:" in kenya.content.decode()


def test_counts_by_state_cover_every_state_not_only_new() -> None:
    make_case()
    make_case(state="triaged")
    make_case(state="triaged", country="KE")
    counted = queue.counts(Case.objects.all(), queue.Filters(country="NG"), "state")
    assert counted == {"new": 1, "triaged": 1}


def test_the_queue_with_its_counts_does_not_grow_with_the_cases(  # type: ignore[no-untyped-def]
    client: Client, django_assert_max_num_queries
) -> None:
    volunteer = make_user(Role.INTAKE_VOLUNTEER)
    sign_in(client, volunteer)
    make_case(assigned_to=volunteer)
    query = {"state": "new", "region": "lagos"}
    client.get("/staff/cases/", query)  # warm the session and the sign-in checks
    with django_assert_max_num_queries(15) as few:
        client.get("/staff/cases/", query)
    for n in range(24):
        make_case(
            assigned_to=volunteer if n % 2 else None,
            language=["en", "fr", "ar", "fa"][n % 4],
            country=["NG", "KE", "UG"][n % 3],
            risk=["now", "weeks", "ongoing"][n % 3],
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/staff/cases/", query)
    assert len(response.context["page"].cases) == 25
    assert sum(n for _language, n in response.context["by_language"]) == 25


def test_the_region_filter_reads_its_index() -> None:
    make_case()
    # Other regions, so the planner sees how few rows the region keeps (PostgreSQL weighs
    # one index against another by the table's statistics).
    for _ in range(40):
        make_case(region="Abuja")
    filtered = queue.Filters(region="Lagos").apply(Case.objects.all(), timezone.now())
    sql, params = filtered.order_by(*queue.ORDER)[:51].query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Few rows in a test: make the planner show whether it can use the index at all.
            cursor.execute("ANALYZE cases_case")
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert "case_region_order" in plan


@pytest.mark.parametrize("facet", ["country", "risk_rank", "language"])
def test_the_counts_read_one_index_alone(facet: str) -> None:
    if connection.vendor == "postgresql":
        pytest.skip(
            "PostgreSQL reads an index alone only on pages VACUUM marked all-visible, which "
            "cannot run inside a test's transaction (bench/cases_queue.py --explain shows it)"
        )
    for language in ("en", "fr"):
        make_case(language=language)
    filters = queue.Filters(country="NG", risk="now", language="en")
    selected = filters.without("risk" if facet == "risk_rank" else facet).apply(
        Case.objects.all(), timezone.now()
    )
    rows = selected.order_by().values_list(facet).annotate(n=Count("*"))
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    # Every column counted or filtered is in the index: no row is read.
    assert "COVERING INDEX case_state_facets" in plan

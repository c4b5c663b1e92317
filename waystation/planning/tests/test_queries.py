"""The planning pages and "My tasks" with milestones cost the same number of queries however
many rows they show: each is measured with a few rows, then with many more."""

import pytest
from django.test import Client
from pytest_django.fixtures import DjangoAssertNumQueries

from conftest import PASSWORD, make_user, same_cost, sign_in
from waystation.accounts.models import Role, Team
from waystation.planning import services
from waystation.planning.models import Pathway
from waystation.vault import services as vault

from .conftest import member, unlocked, verified_case

pytestmark = pytest.mark.django_db


def test_the_plan_page_costs_the_same_for_many_documents_and_milestones(
    client: Client,
    intake_team: Team,
    caseworkers: Team,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    case = verified_case(intake_team, caseworkers)
    ana = member(caseworkers)
    key = vault.open_keyring(case.keyring, vault.unlock_with_password(ana, PASSWORD))
    unlocked(client, ana)
    added = 0

    def add_rows(count: int) -> None:
        nonlocal added
        for _ in range(count):
            added += 1
            services.add_document(
                case,
                services.DocumentValues(kind="passport", status="held", country="UG"),
                by=ana,
                keyring_key=key,
            )
            services.add_milestone(
                case,
                f"Step {added}",
                owner="caseworker",
                due_on=None,
                assignee=ana,
                by=ana,
                keyring_key=key,
            )

    page = same_cost(
        client,
        f"/staff/planning/cases/{case.pk}/",
        add_rows,
        django_assert_max_num_queries,
        ceiling=45,
    )
    assert page.count("Step ") == 12


def test_my_tasks_cost_the_same_for_many_milestones_on_many_cases(
    client: Client,
    intake_team: Team,
    caseworkers: Team,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    ana = member(caseworkers)
    keys = vault.unlock_with_password(ana, PASSWORD)
    unlocked(client, ana)

    def add_rows(count: int) -> None:
        for _ in range(count):
            case = verified_case(intake_team, caseworkers)
            services.choose_pathway(
                case,
                Pathway.WORK,
                destination="CA",
                expected_version=None,
                by=ana,
                keyring_key=vault.open_keyring(case.keyring, keys),
            )

    page = same_cost(client, "/staff/cases/tasks/", add_rows, django_assert_max_num_queries)
    # The work template has two steps for staff (and two for the person, not yet due).
    assert page.count("Plan milestone") == 12 * 2


def test_the_templates_page_costs_one_read(
    client: Client, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    sign_in(client, make_user(Role.COORDINATOR))
    client.get("/staff/planning/templates/")
    with django_assert_max_num_queries(12):
        assert client.get("/staff/planning/templates/").status_code == 200

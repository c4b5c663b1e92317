"""The funding lists and the meeting page cost the same number of queries however many rows
they show: each is measured with a few rows, then with many more."""

import pytest
from django.test import Client
from pytest_django.fixtures import DjangoAssertNumQueries

from conftest import same_cost, sign_in
from waystation.accounts.models import Team, User
from waystation.funding import committee
from waystation.funding.models import Criterion

from .conftest import submitted_request
from .factories import deposit, make_fund
from .test_committee import _key, _score_and_vote

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("rates")]


def test_the_funds_list(
    client: Client, finance: list[User], django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    sign_in(client, finance[0])
    count = iter(range(100))

    def add(n: int) -> None:
        for _ in range(n):
            deposit(make_fund(f"Fund {next(count)}", countries=["UG"]), "10")

    page = same_cost(client, "/staff/funding/funds/", add, django_assert_max_num_queries)
    assert page.count("Fund ") >= 12


def test_the_meeting_page_and_payments(
    client: Client,
    intake_team: Team,
    caseworkers: Team,
    members: list[User],
    finance: list[User],
    rubric: list[Criterion],
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    from django.utils import timezone

    from waystation.funding.models import Meeting

    deposit(make_fund("General"), "100000")
    meeting = committee.create_meeting(timezone.localdate(), quorum=1, by=members[0])
    committee.set_meeting_status(meeting, Meeting.Status.OPEN, by=members[0])
    names = iter(f"Person {n}" for n in range(100))

    def add(n: int) -> None:
        for _ in range(n):
            request = submitted_request(
                intake_team, caseworkers, [("airfare", "EUR", "100")], name=next(names)
            )
            item = committee.add_to_agenda(meeting, request, by=members[0])
            _score_and_vote(item, members[:1], rubric, "fund")
            committee.decide(
                item, committee.Decision("fund"), by=members[0], key=_key(meeting, members[0])
            )

    sign_in(client, members[0])
    page = same_cost(
        client,
        f"/staff/funding/meetings/{meeting.pk}/",
        add,
        django_assert_max_num_queries,
        ceiling=60,
    )
    assert page.count("Agreed") == 0 and page.count("F-") >= 12
    finance_client = sign_in(Client(), finance[0])
    with django_assert_max_num_queries(20):
        payments = finance_client.get("/staff/funding/payments/")
    assert payments.status_code == 200 and payments.content.decode().count("/authorize/") == 12

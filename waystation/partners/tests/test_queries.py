"""The individual verifiers' list costs the same number of queries however many verifiers
it shows, their names read or not: measured with a few, then many."""

import pytest
from django.test import Client
from pytest_django.fixtures import DjangoAssertNumQueries

from conftest import PASSWORD, make_user, sign_in
from waystation.accounts.models import Role, User
from waystation.partners import verifiers
from waystation.partners.models import IndividualVerifier

pytestmark = pytest.mark.django_db


def _add_verifiers(coordinator: User, count: int) -> None:
    for _ in range(count):
        verifiers.add_verifier(
            kind="relocated",
            countries=["NG", "GH"],
            name=f"Verifier {IndividualVerifier.objects.count()}",
            contact="Signal +44 7700 900456",
            by=coordinator,
        )


@pytest.mark.parametrize("unlock", [False, True], ids=["locked", "unlocked"])
def test_the_verifiers_list_costs_the_same_for_many_verifiers(
    client: Client, django_assert_max_num_queries: DjangoAssertNumQueries, unlock: bool
) -> None:
    coordinator = make_user(Role.COORDINATOR, keys=True)
    sign_in(client, coordinator)
    if unlock:
        client.post("/staff/unlock/", {"password": PASSWORD})
    _add_verifiers(coordinator, 2)
    assert client.get("/staff/verifiers/").status_code == 200  # warm the session
    with django_assert_max_num_queries(20) as few:
        assert client.get("/staff/verifiers/").status_code == 200
    _add_verifiers(coordinator, 10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get("/staff/verifiers/").content.decode()
    assert page.count('<td><a href="/staff/verifiers/') == 12
    assert page.count(">Verifier ") == (12 if unlock else 0)

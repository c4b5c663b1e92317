import uuid

import pytest
from django.test import Client

from conftest import make_user, sign_in
from waystation.accounts.models import Role
from waystation.audit.services import log_action

pytestmark = pytest.mark.django_db


def test_coordinator_browses_and_filters(coordinator_client: Client, coordinator) -> None:  # type: ignore[no-untyped-def]
    target = uuid.uuid4()
    log_action(coordinator, "accounts.user.locked", object_type="user", object_id=target)
    log_action(None, "accounts.login.failed", details={"factor": "password"})
    page = coordinator_client.get("/staff/audit/", {"action": "accounts.user"}).content.decode()
    assert "accounts.user.locked" in page and "accounts.login.failed" not in page
    page = coordinator_client.get("/staff/audit/", {"object_id": str(target)}).content.decode()
    assert str(target) in page and "accounts.login.failed" not in page


def test_bad_filter_gets_a_message_not_an_error(coordinator_client: Client) -> None:
    response = coordinator_client.get("/staff/audit/", {"actor": "not-a-uuid", "since": "never"})
    assert response.status_code == 400
    assert "Enter a valid UUID" in response.content.decode()
    assert 'value="not-a-uuid"' in response.content.decode()


def test_pages_older_entries_by_position(coordinator_client: Client) -> None:
    for n in range(60):
        log_action(None, "tests.thing.done", details={"n": n})
    first = coordinator_client.get("/staff/audit/").content.decode()
    assert "Older entries" in first
    older = coordinator_client.get("/staff/audit/", {"before": "11"}).content.decode()
    assert "<td>10</td>" in older and "<td>11</td>" not in older


def test_list_queries_do_not_grow_with_entries(
    coordinator_client: Client,
    coordinator,  # type: ignore[no-untyped-def]
    django_assert_max_num_queries,
) -> None:
    for _ in range(40):
        log_action(coordinator, "tests.thing.done")
    with django_assert_max_num_queries(10):
        coordinator_client.get("/staff/audit/")


@pytest.mark.parametrize("role", [Role.CASEWORKER, Role.FINANCE, Role.PARTNER])
def test_non_coordinators_get_404(client: Client, role: str) -> None:
    sign_in(client, make_user(role))
    assert client.get("/staff/audit/").status_code == 404

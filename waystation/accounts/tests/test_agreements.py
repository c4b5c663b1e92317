"""The confidentiality agreement gate: nothing beyond it until the current version is accepted."""

from typing import Any

import pytest
from django.test import Client

from conftest import make_user, sign_in
from waystation.accounts import services
from waystation.accounts.access import pending_agreements
from waystation.accounts.models import Agreement, AgreementAcceptance, Role
from waystation.audit.models import AuditEntry
from waystation.pages.tests.matrix import url_for, url_names

pytestmark = pytest.mark.django_db

OPEN_BEFORE_AGREEMENT = {
    "accounts:login",
    "accounts:verify",
    "accounts:logout",
    "accounts:lock",
    "accounts:enrol",
    "accounts:password_change",
    "accounts:reauth",
    "accounts:agreement",
    "intake:home",
    "set_language",
}


def test_a_default_agreement_is_published_from_the_start() -> None:
    assert Agreement.objects.filter(role="", version=1).exists()


def test_gate_closes_every_other_staff_url(client: Client) -> None:
    coordinator = make_user(Role.COORDINATOR, accepted=False)
    sign_in(client, coordinator)
    objects = {"person": coordinator, "agreement": Agreement.objects.get()}
    for name in sorted(url_names() - OPEN_BEFORE_AGREEMENT):
        url = url_for(name, objects)
        if not url.startswith("/staff/"):
            continue
        response = client.get(url)
        assert response.status_code == 302, name
        assert response["Location"].startswith("/staff/agreement/"), name


def test_new_version_forces_acceptance_again(client: Client) -> None:
    coordinator = make_user(Role.COORDINATOR)
    user = make_user(Role.CASEWORKER)
    sign_in(client, user)
    assert client.get("/staff/").status_code == 200
    services.publish_agreement("", "Agreement", "New text", by=coordinator)
    assert client.get("/staff/")["Location"].startswith("/staff/agreement/")
    page = client.get("/staff/agreement/").content.decode()
    assert "New text" in page
    refused = client.post("/staff/agreement/", {})
    assert "Tick the box" in refused.content.decode()
    client.post("/staff/agreement/", {"accept": "on"})
    assert client.get("/staff/").status_code == 200
    assert AgreementAcceptance.objects.filter(user=user, agreement__version=2).exists()
    assert AuditEntry.objects.filter(
        action="accounts.agreement.accepted", actor_id=user.pk
    ).exists()


def test_role_agreement_applies_only_to_that_role() -> None:
    coordinator = make_user(Role.COORDINATOR)
    finance = make_user(Role.FINANCE)
    host = make_user(Role.HOST)
    services.publish_agreement(Role.FINANCE, "Money", "Handle funds with care.", by=coordinator)
    assert [a.title for a in pending_agreements(finance)] == ["Money"]
    assert pending_agreements(host) == []


def test_only_the_latest_version_of_each_is_pending_in_one_query(
    django_assert_num_queries: Any,
) -> None:
    coordinator = make_user(Role.COORDINATOR)
    host = make_user(Role.HOST)
    services.publish_agreement(Role.HOST, "Hosts", "v1", by=coordinator)
    services.publish_agreement(Role.HOST, "Hosts", "v2", by=coordinator)
    services.publish_agreement(Role.FINANCE, "Money", "v1", by=coordinator)
    assert host.roles == {Role.HOST}
    # Every staff request asks this: one query, whatever the versions and roles.
    with django_assert_num_queries(1):
        pending = pending_agreements(host)
    # make_user accepted the agreement for everyone; the hosts' first version is outdated.
    assert [(a.role, a.version) for a in pending] == [(Role.HOST, 2)]


def test_versions_are_numbered_per_group() -> None:
    coordinator = make_user(Role.COORDINATOR)
    a = services.publish_agreement("", "General", "v2", by=coordinator)
    b = services.publish_agreement(Role.HOST, "Hosts", "v1", by=coordinator)
    c = services.publish_agreement(Role.HOST, "Hosts", "v2", by=coordinator)
    assert (a.version, b.version, c.version) == (2, 1, 2)


def test_coordinator_publishes_and_sees_who_accepted(coordinator_client: Client) -> None:
    host = make_user(Role.HOST, email="hana@example.org", accepted=False)
    response = coordinator_client.post(
        "/staff/agreements/new/",
        {
            "role": "",
            "title": "Our agreement",
            "body": "Keep every case to yourself.",
        },
    )
    agreement = Agreement.objects.get(title="Our agreement")
    assert response["Location"] == f"/staff/agreements/{agreement.pk}/"
    # The coordinator is bound by the new version too.
    assert coordinator_client.get(response["Location"])["Location"].startswith("/staff/agreement/")
    coordinator_client.post("/staff/agreement/", {"accept": "on"})
    detail = coordinator_client.get(response["Location"]).content.decode()
    assert "hana@example.org" in detail.split("Not accepted yet")[1]
    services.accept_agreements(host, [agreement])
    detail = coordinator_client.get(response["Location"]).content.decode()
    assert "hana@example.org" in detail.split("Not accepted yet")[0]
    listing = coordinator_client.get("/staff/agreements/").content.decode()
    assert "Our agreement" in listing


def test_publish_form_keeps_what_was_typed(coordinator_client: Client) -> None:
    response = coordinator_client.post(
        "/staff/agreements/new/", {"role": "", "title": "", "body": "Typed text stays."}
    )
    assert response.status_code == 200
    assert "Typed text stays." in response.content.decode()
    assert "This field is required" in response.content.decode()

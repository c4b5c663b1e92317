"""The verification pages cost the same number of queries however many cases, files,
attestation requests and decisions they show: each is measured with a few, then many."""

import itertools
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import DjangoAssertNumQueries

from conftest import PASSWORD, make_user, same_cost, sign_in
from waystation.accounts.models import Role, Team
from waystation.cases.tests.factories import make_case
from waystation.partners.attestations import cancel_attestation, create_attestation
from waystation.partners.tests.factories import make_partner
from waystation.vault import services as vault
from waystation.verification import services
from waystation.verification.models import Decision

from .conftest import in_verification, member, png, send_file, unlocked
from .factories import verify

pytestmark = pytest.mark.django_db


def test_the_overview_costs_the_same_for_many_cases_and_many_due(
    client: Client, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    caseworker = make_user(Role.CASEWORKER)
    team = Team.objects.get(memberships__user=caseworker)
    sign_in(client, caseworker)
    past = timezone.localdate() - timedelta(days=1)

    def add_cases(count: int) -> None:
        for _ in range(count):
            make_case(state="in_verification", team=team)
            verified = make_case(state="in_verification", team=team)
            decision = verify(verified)
            Decision.objects.filter(pk=decision.pk).update(review_due_on=past)

    page = same_cost(client, "/staff/verification/", add_cases, django_assert_max_num_queries)
    assert page.count('<td><a href="/staff/verification/') == 24


def test_the_overview_costs_coordinators_the_same_for_many_due(
    client: Client, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    sign_in(client, make_user(Role.COORDINATOR))
    past = timezone.localdate() - timedelta(days=1)

    def add_due(count: int) -> None:
        for _ in range(count):
            decision = verify(make_case(state="in_verification"))
            Decision.objects.filter(pk=decision.pk).update(review_due_on=past)

    page = same_cost(client, "/staff/verification/", add_due, django_assert_max_num_queries)
    # Coordinators see the references and dates, with no link to the cases.
    assert page.count("<td>Verified</td>") == 12
    assert '<td><a href="/staff/verification/' not in page


@pytest.mark.usefixtures("vault_storage")
def test_the_case_page_costs_the_same_for_many_files_requests_and_decisions(
    client: Client,
    intake_team: Team,
    caseworkers: Team,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    case = in_verification(intake_team, caseworkers, name="Ada Okafor")
    reader = member(caseworkers)
    key = vault.open_keyring(case.keyring, vault.unlock_with_password(reader, PASSWORD))
    partner = make_partner()
    colours = itertools.cycle(["red", "green", "blue", "white", "black", "yellow"])
    numbers = itertools.count()
    unlocked(client, reader)

    def add_sources(count: int) -> None:
        for number in itertools.islice(numbers, count):
            evidence = send_file(case, png(next(colours)))
            services.review_evidence(
                case,
                evidence,
                kind="photo",
                status="consistent",
                notes=f"Notes {number} here",
                by=reader,
                keyring_key=key,
                expected_version=0,
            )
            attestation, _token = create_attestation(
                case, addressee=partner, fields=["first_name"], by=reader, keyring_key=key
            )
            if number % 2:
                cancel_attestation(attestation, by=reader, reason="staff")
            proposal = services.propose_verified(
                case, f"Summary {number} here", by=reader, keyring_key=key, expected_version=None
            )
            services.withdraw_proposal(case, proposal.pk, by=reader)

    page = same_cost(
        client,
        f"/staff/verification/{case.pk}/",
        add_sources,
        django_assert_max_num_queries,
        ceiling=40,
    )
    for number in range(12):
        assert f"Notes {number} here" in page and f"Summary {number} here" in page
    assert page.count('<code dir="ltr">') == 12  # each file's fingerprint
    assert "Attestations waiting for an answer</dt><dd>6</dd>" in page
    assert "Attestations expired or cancelled</dt><dd>6</dd>" in page

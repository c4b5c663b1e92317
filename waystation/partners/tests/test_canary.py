"""The canary test for the partner network: markers in every answer of a referral and in a
partner's safe contact must not appear in the database, files, sessions, cache, logs or
mail; nor must the follow-up codes shown to the partner. The same for attestations: what a
link discloses (the first name, the question), the verifier's answer, an individual
verifier's name and contact, and the links' tokens."""

import logging
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from conftest import PASSWORD, make_user, sign_in
from waystation.accounts.models import Role, Team
from waystation.cases import services as cases
from waystation.cases.models import Case
from waystation.cases.tests.conftest import ask
from waystation.partners import services as partners
from waystation.partners.models import AttestationRequest, IndividualVerifier, Partner
from waystation.vault import services as vault
from waystation.vault.tests.markers import MARKERS, assert_no_traces, seized_places

from .conftest import referral_data
from .factories import make_partner, make_partner_user


@pytest.mark.django_db(transaction=True)
def test_nothing_a_partner_sends_leaks_anywhere(  # type: ignore[no-untyped-def]
    intake_team, vault_storage, caplog, capfd
) -> None:
    caplog.set_level(logging.DEBUG)
    coordinator = sign_in(Client(), make_user(Role.COORDINATOR, keys=True))
    partner = make_partner(countries=("NG",))
    portal = sign_in(Client(), make_partner_user(partner))
    codes = []
    for marker in MARKERS.values():
        registered = coordinator.post(
            "/staff/partners/new/",
            {
                "name": f"Canary shelter {len(codes)}",
                "kind": "shelter",
                "countries": "NG",
                "trust": "1",
                "contact_channel": "other",
                "contact_handle": f"{marker} contact",
            },
        )
        assert registered.status_code == 302
        response = portal.post(
            "/partners/refer/",
            referral_data(
                region="Lagos",
                nationalities=f"{marker} nation",
                narrative=f"{marker} what happened to them " * 3,
                name=f"{marker} name",
                channel="email",
                handle=f"{marker.lower()}@canary.example",
                safe_times=f"{marker} evenings",
            ),
        )
        assert response.status_code == 200
        codes.append(re.search(r'follow-up-code">([\d ]+)<', response.content.decode()).group(1))  # type: ignore[union-attr]
    assert Partner.objects.count() == 1 + len(MARKERS)
    places = seized_places(vault_storage, caplog, capfd)
    assert_no_traces(places, MARKERS)
    for place, content in places.items():
        for code in codes:
            assert code.replace(" ", "").encode() not in content and code.encode() not in content, (
                place
            )


def _link(response) -> str:  # type: ignore[no-untyped-def]
    """The link on the page shown once to the caseworker who asked."""
    assert response.status_code == 200, response.content.decode()[:2000]
    found = re.search(
        r'value="http://testserver(/partners/attest/[^"/]+/)"', response.content.decode()
    )
    assert found is not None
    return found.group(1)


@pytest.mark.django_db(transaction=True)
def test_nothing_asked_or_answered_about_a_person_leaks_anywhere(  # type: ignore[no-untyped-def]
    intake_team, vault_storage, caplog, capfd
) -> None:
    """Markers in a request's name (the disclosed first name), the question a caseworker
    writes, the verifier's answer and comments, and an individual verifier's name and
    contact: shown to the people meant to see them, found nowhere on the server."""
    caplog.set_level(logging.DEBUG)
    coordinator_user = make_user(Role.COORDINATOR, keys=True)
    caseworker = make_user(Role.CASEWORKER, keys=True)
    intake_member = intake_team.memberships.get().user
    coordinator = sign_in(Client(), coordinator_user)
    coordinator.post("/staff/unlock/", {"password": PASSWORD})
    staff = sign_in(Client(), caseworker)
    staff.post("/staff/unlock/", {"password": PASSWORD})
    partner = partners.create_partner(
        name="Rainbow Lagos",
        kind=Partner.Kind.LGBTQI_ORGANIZATION,
        countries=["NG"],
        trust=Partner.Trust.ESTABLISHED,
        contact={"channel": "signal", "handle": "+44 7700 900123"},
        by=coordinator_user,
    )
    today = timezone.localdate()
    partners.record_agreement(
        partner,
        version="2024",
        signed_on=today - timedelta(days=30),
        expires_on=today + timedelta(days=300),
        by=coordinator_user,
    )
    traces: dict[str, str | bytes] = dict(MARKERS)
    for script, marker in MARKERS.items():
        added = coordinator.post(
            "/staff/verifiers/",
            {
                "kind": "relocated",
                "countries": "NG",
                "name": f"{marker} verifier",
                "contact": f"Signal {marker} contact",
            },
        )
        assert added.status_code == 302
        entry = IndividualVerifier.objects.order_by("-added_at", "-pk").first()
        assert entry is not None
        request = ask(name=f"{marker} Okafor")
        cases.assign_case(
            request.case,
            team=Team.objects.get(role=Role.CASEWORKER),
            user=caseworker,
            by=intake_member,
            keys=vault.unlock_with_password(intake_member, PASSWORD),
        )
        case = Case.objects.get(pk=request.case.pk)
        for addressee in (f"partner:{partner.pk}", f"verifier:{entry.pk}"):
            case.refresh_from_db()
            asked = staff.post(
                f"/staff/cases/{case.pk}/attestations/new/",
                {
                    "addressee": addressee,
                    "disclose": ["first_name", "region", "question"],
                    "question": f"Did {marker} sing in the choir?",
                    "days": "7",
                    "version": str(case.version),
                },
            )
            link = _link(asked)
            if addressee.startswith("verifier:"):
                assert f"Signal {marker} contact" in asked.content.decode()
            traces[f"{script} token to {addressee.partition(':')[0]}"] = link.split("/")[-2]
            verifier = Client()
            assert verifier.get(link).status_code == 200
            opened = verifier.post(link)
            question = verifier.get(opened["Location"]).content.decode()
            assert marker in question and f"Did {marker} sing in the choir?" in question
            thanks = verifier.post(
                opened["Location"],
                {
                    "knows": "yes",
                    "how": f"{marker} how we met",
                    "certainty": "certain",
                    "comments": f"{marker} comments",
                },
            )
            assert thanks.status_code == 200
        page = staff.get(f"/staff/cases/{case.pk}/").content.decode()
        assert page.count(f"{marker} how we met") == 2 and f"{marker} comments" in page
        assert f"{marker} verifier" in page
    assert AttestationRequest.objects.filter(answered_at__isnull=False).count() == 2 * len(MARKERS)
    listing = coordinator.get("/staff/verifiers/").content.decode()
    assert all(f"{marker} verifier" in listing for marker in MARKERS.values())
    assert_no_traces(seized_places(vault_storage, caplog, capfd), traces)

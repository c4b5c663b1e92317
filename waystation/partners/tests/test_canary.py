"""The canary test for the partner network: markers in every answer of a referral and in a
partner's safe contact must not appear in the database, files, sessions, cache, logs or
mail; nor must the follow-up codes shown to the partner."""

import logging
import re

import pytest
from django.test import Client

from conftest import make_user, sign_in
from waystation.accounts.models import Role
from waystation.partners.models import Partner
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

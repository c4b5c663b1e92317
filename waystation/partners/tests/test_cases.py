"""Referrals on the staff side: the queue's "referred by a partner" filter, the partner on
the case page, and the signal on cases referred by a partner flagged compromised."""

import pytest
from django.test import Client
from django.utils import timezone

from conftest import make_user, sign_in
from waystation.accounts.models import Role
from waystation.cases.signals import signals_for
from waystation.cases.tests.factories import make_case
from waystation.partners import services
from waystation.partners.signals import CODE

from .factories import make_partner, make_referral

pytestmark = pytest.mark.django_db


def _references(response) -> set[str]:  # type: ignore[no-untyped-def]
    return {case.reference for case in response.context["page"].cases}


def test_the_queue_filters_cases_referred_by_a_partner(client: Client) -> None:
    first, second = make_partner(name="Rainbow Lagos"), make_partner(name="Safe Harbour")
    by_first = make_referral(first).request.case
    by_second = make_referral(second).request.case
    public = make_case()
    sign_in(client, make_user(Role.INTAKE_VOLUNTEER))
    everyone = client.get("/staff/cases/", {"state": "new"})
    assert _references(everyone) == {by_first.reference, by_second.reference, public.reference}
    assert "Rainbow Lagos" in everyone.content.decode()  # offered in the filter
    any_partner = client.get("/staff/cases/", {"state": "new", "referred_by": "any"})
    assert _references(any_partner) == {by_first.reference, by_second.reference}
    one = client.get("/staff/cases/", {"state": "new", "referred_by": str(first.pk)})
    assert _references(one) == {by_first.reference}
    assert "via a partner" in one.content.decode()
    ignored = client.get("/staff/cases/", {"state": "new", "referred_by": "nobody"})
    assert ignored.status_code == 200 and len(_references(ignored)) == 3


def test_the_case_page_says_which_partner_referred_the_person(client: Client) -> None:
    partner = make_partner(name="Rainbow Lagos")
    case = make_referral(partner).request.case
    other = make_case()
    sign_in(client, make_user(Role.INTAKE_VOLUNTEER))
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert "Referred by" in page and "Rainbow Lagos" in page
    assert "Referred by" not in client.get(f"/staff/cases/{other.pk}/").content.decode()


def test_cases_referred_by_a_compromised_partner_carry_a_signal(client: Client) -> None:
    partner = make_partner()
    case = make_referral(partner).request.case
    public = make_case()
    assert CODE not in {signal.code for signal in signals_for(case)}
    services.set_compromised(
        partner, compromised=True, reason="infiltrated", by=make_user(Role.COORDINATOR)
    )
    [signal] = [signal for signal in signals_for(case) if signal.code == CODE]
    assert "flagged compromised on" in signal.message
    assert timezone.localdate().isoformat() in signal.message
    assert CODE not in {signal.code for signal in signals_for(public)}
    sign_in(client, make_user(Role.INTAKE_VOLUNTEER))
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert "Signals to check" in page and "partner organization flagged compromised" in page
    services.set_compromised(
        partner, compromised=False, reason="checked_safe", by=make_user(Role.COORDINATOR)
    )
    assert CODE not in {signal.code for signal in signals_for(case)}


def test_the_signal_can_be_turned_off_like_any_other(settings) -> None:  # type: ignore[no-untyped-def]
    partner = make_partner(compromised_at=timezone.now())
    case = make_referral(partner).request.case
    assert CODE in {signal.code for signal in signals_for(case)}
    settings.CASES_SIGNALS_DISABLED = [CODE]
    assert CODE not in {signal.code for signal in signals_for(case)}

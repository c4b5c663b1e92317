"""In a real browser: someone at a partner signs in, refers a person and gets the follow-up
code once; the portal's pages and the registry's partner page pass the accessibility
checks."""

from typing import Any

import pytest

from conftest import NEEDS_CHROMIUM, PASSWORD, make_user, new_page, totp_token
from waystation.accounts.models import Membership, Role, Team
from waystation.intake.tests import axe
from waystation.partners.models import Referral
from waystation.vault import services as vault

from .factories import make_partner, make_partner_user

pytestmark = NEEDS_CHROMIUM


@pytest.fixture
def axe_source() -> str:
    """axe-core's script; asked for before the browser, so a skip launches nothing."""
    return axe.source()


def _sign_in(page, base: str, user) -> None:  # type: ignore[no-untyped-def]
    from django_otp.plugins.otp_totp.models import TOTPDevice

    page.goto(f"{base}/staff/sign-in/")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/staff/sign-in/code/**")
    page.fill("input[name=code]", totp_token(TOTPDevice.objects.get(user=user)))
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/staff/")


@pytest.mark.django_db(transaction=True)
def test_a_partner_refers_a_person_on_accessible_pages(  # type: ignore[no-untyped-def]
    live_server, browser, axe_source
) -> None:
    intake = Team.objects.create(name="Intake", role=Role.INTAKE_VOLUNTEER)
    Membership.objects.create(team=intake, user=make_user(None, keys=True))
    vault.ensure_team_key(intake)
    partner = make_partner(name="Rainbow Accra", countries=("GH", "TG"))
    someone = make_partner_user(partner, email="esi@example.org")
    base = live_server.url.replace("127.0.0.1", "localhost")
    # The CSP forbids the injected axe script: this context alone ignores it.
    page, outside = new_page(browser, locale="en-GB", bypass_csp=True)
    _sign_in(page, base, someone)

    page.click("nav a[href='/partners/']")
    page.wait_for_url(f"{base}/partners/")
    found: dict[str, list[dict[str, Any]]] = {"list": axe.blocking_violations(page, axe_source)}
    page.click("a[href='/partners/refer/']")
    page.wait_for_url(f"{base}/partners/refer/")
    page.select_option("select[name=country]", "GH")
    page.fill("input[name=region]", "Kumasi")
    page.fill("textarea[name=narrative]", "He was beaten by a gang and the police did nothing.")
    page.check("input[name=risk][value=weeks]")
    page.check("input[name=documents][value=valid_passport]")
    page.check("input[name=consent]")
    with page.expect_navigation():
        page.click("form[action='/partners/refer/'] button[type=submit]")
    # Not confirmed as a member: refused, with the answers kept.
    assert "Confirm that the person is a member" in page.content()
    assert page.input_value("input[name=region]") == "Kumasi"
    found["refused"] = axe.blocking_violations(page, axe_source)
    page.check("input[name=member_confirmed]")
    with page.expect_navigation():
        page.click("form[action='/partners/refer/'] button[type=submit]")
    code = page.text_content(".follow-up-code") or ""
    assert len(code.split()) == 7 and "shown only this once" in page.content()
    found["sent"] = axe.blocking_violations(page, axe_source)
    referral = Referral.objects.get()
    page.goto(f"{base}/partners/referrals/{referral.pk}/")
    assert "Received" in page.content() and "Kumasi" not in page.content()
    found["referral"] = axe.blocking_violations(page, axe_source)

    coordinator = make_user(Role.COORDINATOR, email="kofi@example.org")
    staff, _outside = new_page(browser, locale="en-GB", bypass_csp=True)
    _sign_in(staff, base, coordinator)
    staff.goto(f"{base}/staff/partners/{partner.pk}/")
    assert "Rainbow Accra" in staff.content()
    found["partner page"] = axe.blocking_violations(staff, axe_source)
    assert not any(found.values()), axe.describe(found)
    assert referral.request.case.referred_by == partner and outside == []

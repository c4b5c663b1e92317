"""In a real browser: a volunteer merges a duplicate with the keyboard only, and the case
page, with its duplicates and the merged history, passes the accessibility checks."""

from typing import Any

import pytest

from conftest import NEEDS_CHROMIUM, PASSWORD, make_user, new_page, totp_token
from waystation.accounts.models import Role, Team
from waystation.cases.models import Case
from waystation.intake.tests import axe
from waystation.vault import services as vault

from .test_browser import _tab_to
from .test_duplicate_decisions import _ask

pytestmark = NEEDS_CHROMIUM

PHONE = "+233 24 123 4567"


@pytest.fixture
def axe_source() -> str:
    """axe-core's script; asked for before the browser, so a skip launches nothing."""
    return axe.source()


@pytest.mark.django_db(transaction=True)
def test_merging_with_the_keyboard_on_an_accessible_page(  # type: ignore[no-untyped-def]
    live_server, browser, axe_source
) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    # The CSP forbids the injected axe script: this context alone ignores it.
    page, outside = new_page(browser, locale="en-GB", bypass_csp=True)
    volunteer = make_user(Role.INTAKE_VOLUNTEER, email="ama@example.org", keys=True)
    vault.ensure_team_key(Team.objects.get(memberships__user=volunteer))
    keep = _ask("First request.", name="Kwame Mensah", handle=PHONE)
    merged = _ask("Second request.", name="Kwame Mensah", handle=PHONE)
    base = live_server.url.replace("127.0.0.1", "localhost")

    page.goto(f"{base}/staff/sign-in/")
    page.fill("input[name=email]", volunteer.email)
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/staff/sign-in/code/**")
    page.fill("input[name=code]", totp_token(TOTPDevice.objects.get(user=volunteer)))
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/staff/")

    page.goto(f"{base}/staff/cases/{keep.pk}/")
    found: dict[str, list[dict[str, Any]]] = {
        "suggested": axe.blocking_violations(page, axe_source)
    }
    _tab_to(page, f"form[action$='/duplicates/{merged.pk}/'] button[value=merge_here]", 200)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert f"Merged case {merged.reference}" in page.content()
    found["merged"] = axe.blocking_violations(page, axe_source)
    assert not any(found.values()), axe.describe(found)
    merged.refresh_from_db()
    assert merged.state == "duplicate" and merged.duplicate_of_id == keep.pk
    assert Case.objects.count() == 2 and outside == []

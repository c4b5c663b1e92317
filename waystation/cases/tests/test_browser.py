"""In a real browser, with the keyboard only: an intake volunteer signs in, opens the
queue, reads a request and triages it."""

import pytest

from conftest import NEEDS_CHROMIUM, PASSWORD, make_user, new_page, totp_token
from waystation.accounts.models import Role, Team
from waystation.cases.models import Case
from waystation.vault import services as vault

from .conftest import ask

pytestmark = NEEDS_CHROMIUM


def _tab_to(page, selector: str, limit: int = 60) -> None:  # type: ignore[no-untyped-def]
    """Press Tab until the focused element matches `selector`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


@pytest.mark.django_db(transaction=True)
def test_intake_volunteer_triages_with_the_keyboard_only(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    from django_otp.plugins.otp_totp.models import TOTPDevice

    page, outside = new_page(browser, locale="en-GB")
    volunteer = make_user(Role.INTAKE_VOLUNTEER, email="ama@example.org", keys=True)
    vault.ensure_team_key(Team.objects.get(memberships__user=volunteer))
    case = ask(name="Kwame Mensah").case
    base = live_server.url.replace("127.0.0.1", "localhost")

    page.goto(f"{base}/staff/sign-in/")
    _tab_to(page, "input[name=email]")
    page.keyboard.type(volunteer.email)
    _tab_to(page, "input[name=password]")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/staff/sign-in/code/**")
    _tab_to(page, "input[name=code]")
    page.keyboard.type(totp_token(TOTPDevice.objects.get(user=volunteer)))
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/staff/")

    _tab_to(page, "a[href='/staff/cases/']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/staff/cases/")
    _tab_to(page, f"a[href='/staff/cases/{case.pk}/']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/staff/cases/{case.pk}/")

    # Signing in with the password unlocked the keys: the request reads at once.
    assert "Unlock your keys" not in page.content()
    assert "The police came to my house twice this month." in page.content()

    _tab_to(page, "select[name=target]")
    page.keyboard.type("Triaged")
    _tab_to(page, "form[action$='/move/'] button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/staff/cases/")
    assert "The case is now “Triaged”." in page.content()
    case.refresh_from_db()
    assert case.state == "triaged" and case.answered_at is not None
    assert Case.objects.count() == 1 and outside == []

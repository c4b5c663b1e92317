"""In a real browser: sign in with a second factor, then read the staff site in Arabic."""

import os

import pytest

from conftest import NEEDS_CHROMIUM, PASSWORD, make_user, new_page, totp_token
from waystation.accounts.models import Role

pytestmark = NEEDS_CHROMIUM


@pytest.fixture
def browser_page(browser):  # type: ignore[no-untyped-def]
    return new_page(browser, locale="en-GB")


@pytest.mark.django_db(transaction=True)
def test_sign_in_with_second_factor_then_arabic_right_to_left(
    live_server, browser_page, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from django_otp.plugins.otp_totp.models import TOTPDevice

    page, outside = browser_page
    user = make_user(Role.CASEWORKER, email="rania@example.org")
    device = TOTPDevice.objects.get(user=user)
    base = live_server.url.replace("127.0.0.1", "localhost")

    page.goto(f"{base}/staff/")
    assert page.url.startswith(f"{base}/staff/sign-in/")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Code").fill(totp_token(device))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/staff/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Hello")

    page.get_by_label("Language").select_option("ar")
    page.get_by_role("button", name="Change language").click()
    page.wait_for_load_state()
    html = page.locator("html")
    assert html.get_attribute("dir") == "rtl" and html.get_attribute("lang") == "ar"
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    # The header's actions sit on the left in a right-to-left layout.
    title = page.locator(".site-title").bounding_box()
    actions = page.locator(".session-actions").bounding_box()
    assert title and actions and title["x"] > actions["x"]
    page.screenshot(path=os.environ.get("WAYSTATION_SCREENSHOT", str(tmp_path / "rtl.png")))

    # At 320 px wide nothing scrolls sideways and the lock button stays on screen.
    page.set_viewport_size({"width": 320, "height": 640})
    for path in ("/staff/", "/staff/account/", "/"):
        page.goto(f"{base}{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, path
    page.goto(f"{base}/staff/")
    lock = page.locator(".session-actions .button-danger").bounding_box()
    assert lock and lock["x"] >= 0 and lock["x"] + lock["width"] <= 320
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert outside == []

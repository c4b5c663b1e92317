"""In a real browser: ask for help and follow up without JavaScript, in Arabic and Spanish;
leave at once with quick exit; no serious accessibility problem on any public page."""

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.utils import translation
from PIL import Image

from conftest import BROWSER_TIMEOUT_MS as TIMEOUT_MS
from conftest import NEEDS_CHROMIUM, new_page
from waystation.intake import codes, questions, services
from waystation.intake.forms import CodeForm, EvidenceForm, RequestForm
from waystation.intake.models import Document, Evidence, HelpRequest, Message, Risk

from . import axe
from .conftest import ANSWERS

REPLY = {
    "en": "We read your request. Are you safe tonight?",
    "ar": "قرأنا طلبك. هل أنت بأمان الليلة؟",
    "es": "Leímos tu solicitud. ¿Estás a salvo esta noche?",
}

QUESTION = "Where are you staying tonight?"

pytestmark = [*NEEDS_CHROMIUM, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def axe_source() -> str:
    """axe-core's script; asked for before the browser, so a skip launches nothing."""
    return axe.source()


@pytest.fixture
def site_url(live_server, settings) -> str:  # type: ignore[no-untyped-def]
    """The live server's address; quick exit leads to its own safety page, so nothing the
    tests do leaves this machine."""
    url: str = live_server.url.replace("127.0.0.1", "localhost")
    settings.QUICK_EXIT_URL = f"{url}/safety/"
    return url


@pytest.fixture
def sent(intake_team):  # type: ignore[no-untyped-def]
    """A request sent in English, with one answer from the intake team; and its code."""
    answers = services.Answers(
        country="NG",
        region="Lagos",
        nationalities=["NG"],
        narrative=ANSWERS["narrative"],
        risk="now",
        organization="",
        documents=["national_id"],
    )
    request, code = services.submit_request(answers, language="en", form_token="browser")
    services.staff_reply(request, REPLY["en"], by=intake_team.memberships.get().user)
    return request, code


@pytest.fixture
def asked():  # type: ignore[no-untyped-def]
    """An extra question as a later app asks it (intake.questions), of every request until
    answered: these tests need no other app."""
    answered: set[object] = set()

    def pending(request: HelpRequest, language: str) -> list[questions.Question]:
        if request.pk in answered:
            return []
        return [questions.Question("browser", "where", QUESTION, "en", QUESTION)]

    def mark(request: HelpRequest) -> bool:
        answered.add(request.pk)
        return True

    questions.register_source("browser", pending=pending, answered=mark)
    yield
    questions.unregister_source("browser")


def _in(language: str, text: Any) -> str:
    """`text` (a template's literal or a form's lazy label) as the site shows it."""
    with translation.override(language):
        return translation.gettext(text) if isinstance(text, str) else str(text)


def _assert_language(page, language: str) -> None:  # type: ignore[no-untyped-def]
    html = page.locator("html")
    assert html.get_attribute("lang") == language
    assert html.get_attribute("dir") == ("rtl" if language == "ar" else "ltr")


def _image(image_format: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(out, format=image_format)
    return out.getvalue()


def _eventually(page, check: Callable[[], bool]) -> None:  # type: ignore[no-untyped-def]
    """Wait, boundedly, for something that happens outside the page's own events."""
    for _ in range(TIMEOUT_MS // 50):
        if check():
            return
        page.wait_for_timeout(50)
    assert check(), f"still not true after {TIMEOUT_MS} ms"


def _open_follow_up(page, site_url: str, language: str, code: str) -> None:  # type: ignore[no-untyped-def]
    # Come back later, as the person would: the session from asking has ended.
    language_cookies = [c for c in page.context.cookies() if c["name"] == "lang"]
    page.context.clear_cookies()
    page.context.add_cookies(language_cookies)
    page.goto(f"{site_url}/follow-up/")
    page.get_by_label(_in(language, CodeForm.base_fields["code"].label)).fill(code)
    page.get_by_role("button", name=_in(language, "Open"), exact=True).click()
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == _in(language, "Messages")


@pytest.mark.parametrize(
    ("language", "switch", "image_format"),
    [("ar", "language form", "PNG"), ("es", "browser language", "JPEG")],
)
def test_ask_and_follow_up_without_javascript(  # type: ignore[no-untyped-def]
    browser, site_url, intake_team, asked, language, switch, image_format
) -> None:
    from playwright.sync_api import expect

    locale = language if switch == "browser language" else "en-GB"
    page, outside = new_page(browser, java_script_enabled=False, locale=locale)
    page.goto(f"{site_url}/")
    # On a fresh page the keyboard reaches quick exit before anything else.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.classList.contains('quick-exit')")
    if switch == "language form":
        _assert_language(page, "en")
        page.get_by_label("Language", exact=True).select_option(language)
        page.get_by_role("button", name="Change language").click()
    _assert_language(page, language)
    if language == "ar":
        assert page.evaluate("() => getComputedStyle(document.body).direction") == "rtl"

    page.get_by_role("main").get_by_role("link", name=_in(language, "Ask for help")).click()
    _assert_language(page, language)
    fields = RequestForm.base_fields
    page.get_by_label(_in(language, fields["country"].label)).select_option("NG")
    page.get_by_label(_in(language, fields["region"].label)).fill(ANSWERS["region"])
    page.get_by_label(_in(language, fields["narrative"].label)).fill(ANSWERS["narrative"])
    page.get_by_role("radio", name=_in(language, Risk.NOW.label)).check()
    page.get_by_role("checkbox", name=_in(language, Document.NATIONAL_ID.label)).check()
    page.get_by_role("checkbox", name=_in(language, fields["consent"].label)).check()
    page.get_by_role("button", name=_in(language, "Send my request")).click()

    _assert_language(page, language)
    code = page.locator(".follow-up-code").inner_text()
    # Digits read left to right in a right-to-left page too.
    assert page.locator(".follow-up-code").evaluate("el => getComputedStyle(el).direction") == "ltr"
    assert len(codes.normalize(code) or "") == codes.DIGITS
    request = HelpRequest.objects.get()
    assert (request.country, request.region, request.risk) == ("NG", "Lagos", "now")
    assert request.language == language

    # The extra questions wait below the code; the answers go as one sealed message.
    page.get_by_label(QUESTION).fill("With my aunt")
    page.get_by_role("button", name=_in(language, "Send my answers")).click()
    expect(page.get_by_role("status")).to_have_text(
        _in(language, "Thank you. Your answers were sent.")
    )
    _assert_language(page, language)
    assert page.get_by_label(QUESTION).count() == 0
    assert Message.objects.filter(request=request, sender=Message.Sender.PERSON).count() == 1

    page.get_by_role("navigation").get_by_role("link", name=_in(language, "Follow up")).click()
    _open_follow_up(page, site_url, language, code)
    _assert_language(page, language)
    expect(
        page.get_by_text(_in(language, "No answer yet. Please check again later."))
    ).to_be_visible()

    member = intake_team.memberships.get().user
    services.staff_reply(request, REPLY[language], by=member)
    page.goto(f"{site_url}/follow-up/")
    expect(page.locator(".thread-message")).to_contain_text(REPLY[language])

    extension = image_format.lower()
    page.get_by_label(_in(language, EvidenceForm.base_fields["file"].label)).set_input_files(
        {
            "name": f"photo.{extension}",
            "mimeType": f"image/{extension}",
            "buffer": _image(image_format),
        }
    )
    page.get_by_role("button", name=_in(language, "Send file")).click()
    expect(page.get_by_role("status")).to_have_text(_in(language, "Your file was received."))
    _assert_language(page, language)
    assert Evidence.objects.filter(request=request).count() == 1
    assert HelpRequest.objects.count() == 1
    assert outside == []


def test_request_form_help_and_errors_are_announced_with_their_fields(  # type: ignore[no-untyped-def]
    browser, site_url
) -> None:
    # Django points each widget's aria-describedby at `<id>_helptext` and `<id>_error`;
    # _request_fields.html must render those ids, or screen readers read neither.
    from playwright.sync_api import expect

    fields = RequestForm.base_fields
    page, _outside = new_page(browser, java_script_enabled=False, locale="en-GB")
    page.goto(f"{site_url}/ask/")
    for name in ("narrative", "name"):
        field = page.get_by_label(str(fields[name].label))
        expect(field).to_have_accessible_description(str(fields[name].help_text), timeout=1_000)

    page.get_by_role("button", name="Send my request").click()
    for name in ("country", "region", "narrative", "consent"):
        field = page.get_by_label(str(fields[name].label))
        expect(field).to_have_attribute("aria-invalid", "true")
        error = page.locator(".field-invalid", has=field).locator(".errorlist")
        expect(field).to_have_accessible_description(
            re.compile(re.escape(error.inner_text().strip())), timeout=1_000
        )


@pytest.mark.parametrize("leave", ["Shift three times", "quick exit link"])
def test_quick_exit_leaves_in_place_and_ends_the_follow_up_session(  # type: ignore[no-untyped-def]
    browser, site_url, sent, leave
) -> None:
    from playwright.sync_api import expect

    _request, code = sent
    page, outside = new_page(browser, locale="en-GB")
    _open_follow_up(page, site_url, "en", code)
    expect(page.locator(".thread-message")).to_contain_text(REPLY["en"])
    history = page.evaluate("() => history.length")
    session_key = next(c["value"] for c in page.context.cookies() if c["name"] == "sid")

    with page.expect_request(f"{site_url}/exit/"):
        if leave == "Shift three times":
            for _ in range(3):
                page.keyboard.press("Shift")
        else:
            page.get_by_role("link", name="Quick exit").click()
    page.wait_for_url(f"{site_url}/safety/")
    # location.replace: the follow-up page is not one step back in the history.
    assert page.evaluate("() => history.length") == history
    # The page that sent the beacon is gone, so its answer is not the page's to see: the
    # server's side shows it arrived, then the browser has dropped the session's cookies.
    _eventually(page, lambda: not Session.objects.filter(session_key=session_key).exists())
    _eventually(page, lambda: not {"sid", "fk"} & {c["name"] for c in page.context.cookies()})

    page.goto(f"{site_url}/follow-up/")
    expect(page.get_by_label(_in("en", CodeForm.base_fields["code"].label))).to_be_visible()
    assert page.locator(".thread-message").count() == 0
    assert REPLY["en"] not in page.content()
    assert outside == []


@pytest.mark.parametrize("language", ["en", "ar"])
def test_public_pages_have_no_serious_accessibility_violations(  # type: ignore[no-untyped-def]
    axe_source, browser, site_url, sent, asked, language
) -> None:
    _request, code = sent
    # The CSP forbids the injected axe script: this context alone ignores it.
    page, outside = new_page(browser, locale=language, bypass_csp=True)
    found: dict[str, list[dict[str, Any]]] = {}

    for path in ("/", "/ask/", "/follow-up/", "/safety/", "/countries/", "/countries/ug/"):
        page.goto(f"{site_url}{path}")
        _assert_language(page, language)
        found[path] = axe.blocking_violations(page, axe_source)

    page.goto(f"{site_url}/ask/")
    page.get_by_role("button", name=_in(language, "Send my request")).click()
    assert page.locator(".errorlist").count() > 0
    found["/ask/ with errors"] = axe.blocking_violations(page, axe_source)

    _open_follow_up(page, site_url, language, code)
    assert page.locator(".thread-message").count() == 1
    assert page.get_by_label(QUESTION).count() == 1
    found["/follow-up/ signed in, with a question"] = axe.blocking_violations(page, axe_source)
    page.get_by_role("button", name=_in(language, "Send my answers")).click()
    assert page.get_by_role("alert").count() == 1
    found["/follow-up/ with an empty answer"] = axe.blocking_violations(page, axe_source)

    assert not any(found.values()), axe.describe(found)
    assert outside == []

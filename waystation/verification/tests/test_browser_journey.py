"""In a real browser, the whole journey of issue 6: a partner refers a person; an intake
volunteer assigns and triages the case; a caseworker sends it to verification and creates an
attestation link for the partner; someone at the partner answers through the link without an
account; the caseworker reads the answer and proposes "verified", cannot confirm it
themselves, and a second caseworker confirms it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import NEEDS_CHROMIUM, make_user, new_page
from waystation.accounts.models import Role, Team, User
from waystation.cases.models import Case, State
from waystation.intake.tests import axe
from waystation.partners import services as partners
from waystation.partners.models import AttestationRequest, Partner, Referral
from waystation.partners.tests.factories import make_partner_user
from waystation.partners.tests.test_browser import _sign_in
from waystation.verification.models import Decision

from .conftest import member

pytestmark = [*NEEDS_CHROMIUM, pytest.mark.usefixtures("vault_storage")]

FIRST, SURNAME = "Zebulon", "Okafordiyaxe"
NARRATIVE = "Men from her street beat her twice and the police laughed at her."
QUESTION = "Did she sing in the Canaryhall choir in 2019?"
HOW = "We sang together in the Canaryhall choir for three years."
SUMMARY = "Referred by Rainbow Lagos; their attestation is certain and fits the request."
CONTACT = {"channel": "signal", "handle": "+44 7700 900123"}


def _partner() -> Partner:
    """A partner registered by a coordinator with keys (its safe channel sealed), serving
    Nigeria, with a data-sharing agreement in force."""
    coordinator = make_user(Role.COORDINATOR, keys=True)
    partner = partners.create_partner(
        name="Rainbow Lagos",
        kind=Partner.Kind.LGBTQI_ORGANIZATION,
        countries=["NG"],
        trust=Partner.Trust.ESTABLISHED,
        contact=CONTACT,
        by=coordinator,
    )
    today = timezone.localdate()
    partners.record_agreement(
        partner,
        version="2024",
        signed_on=today - timedelta(days=30),
        expires_on=today + timedelta(days=300),
        by=coordinator,
    )
    return partner


def _staff_page(browser, base: str, user: User):  # type: ignore[no-untyped-def]
    """A fresh context (English pages, axe allowed in) with `user` signed in through the
    sign-in pages, which also unlocks their keys."""
    page, outside = new_page(browser, locale="en-GB", bypass_csp=True)
    _sign_in(page, base, user)
    return page, outside


def _submit(page, form: str, *, status: int = 200) -> None:  # type: ignore[no-untyped-def]
    """Press the form's submit button; the page it leads to has `status`."""
    with page.expect_navigation() as answered:
        page.click(f"{form} button[type=submit]")
    response = answered.value
    assert response is not None and response.status == status, page.content()[:3000]


@pytest.mark.django_db(transaction=True)
def test_a_referred_person_is_attested_and_verified_by_two_people(  # type: ignore[no-untyped-def]
    live_server, browser, intake_team: Team, caseworkers: Team
) -> None:
    axe_source = axe.source()
    partner = _partner()
    someone = make_partner_user(partner, email="esi@example.org")
    volunteer = intake_team.memberships.get().user
    ana, ben = member(caseworkers, 0), member(caseworkers, 1)
    base = live_server.url.replace("127.0.0.1", "localhost")
    found = {}

    # Someone at the partner signs in and refers the person.
    page, outside = _staff_page(browser, base, someone)
    page.click("nav a[href='/partners/']")
    page.wait_for_url(f"{base}/partners/")
    page.click("a[href='/partners/refer/']")
    page.wait_for_url(f"{base}/partners/refer/")
    page.select_option("select[name=country]", "NG")
    page.fill("input[name=region]", "Lagos")
    page.fill("textarea[name=narrative]", NARRATIVE)
    page.check("input[name=risk][value=weeks]")
    page.check("input[name=documents][value=none]")
    page.fill("input[name=name]", f"{FIRST} {SURNAME}")
    page.select_option("select[name=language]", "en")
    page.check("input[name=consent]")
    page.check("input[name=member_confirmed]")
    _submit(page, "form[action='/partners/refer/']")
    assert len((page.text_content(".follow-up-code") or "").split()) == 7
    case = Referral.objects.get(partner=partner).request.case
    assert (case.state, case.referred_by) == (State.NEW, partner)

    # The intake volunteer reads it in the queue, gives it to a caseworker and triages it.
    intake, intake_outside = _staff_page(browser, base, volunteer)
    intake.click("nav a[href='/staff/cases/']")
    intake.wait_for_url(f"{base}/staff/cases/")
    intake.click(f"a[href='/staff/cases/{case.pk}/']")
    intake.wait_for_url(f"{base}/staff/cases/{case.pk}/")
    assert NARRATIVE in intake.content() and "Rainbow Lagos" in intake.content()
    intake.select_option("select[name=team]", str(caseworkers.pk))
    intake.select_option("select[name=user]", str(ana.pk))
    _submit(intake, "form[action$='/assign/']")
    assert "The case is assigned." in intake.content()
    intake.select_option("select[name=target]", State.TRIAGED)
    _submit(intake, "form[action$='/move/']")
    assert intake.url == f"{base}/staff/cases/"  # triaged: it left the intake queue
    assert "The case is now “Triaged”." in intake.content()

    # The caseworker sends it to verification and asks the partner about the person.
    work, work_outside = _staff_page(browser, base, ana)
    work.goto(f"{base}/staff/cases/{case.pk}/")
    work.select_option("select[name=target]", State.IN_VERIFICATION)
    _submit(work, "form[action$='/move/']")
    assert "The case is now “In verification”." in work.content()
    work.get_by_role("link", name="Ask a partner or a verifier whether they know").click()
    work.wait_for_url(f"{base}/staff/cases/{case.pk}/attestations/new/")
    work.select_option("select[name=addressee]", f"partner:{partner.pk}")
    work.check("input[name=disclose][value=first_name]")
    work.check("input[name=disclose][value=question]")
    work.fill("textarea[name=question]", QUESTION)
    _submit(work, f"form[action='/staff/cases/{case.pk}/attestations/new/']")
    assert "shown only this once" in work.content() and CONTACT["handle"] in work.content()
    link = work.input_value("#attestation-link")
    assert link.startswith(f"{base}/partners/attest/")

    # Someone at the partner opens the link in a browser with no account, and answers.
    answering, answering_outside = new_page(browser, java_script_enabled=False, locale="en-GB")
    answering.goto(link)
    answering.get_by_role("button", name="Open the question").click()
    answering.wait_for_url("**/partners/attest/open/**")
    shown = answering.content()
    assert FIRST in shown and QUESTION in shown
    for hidden in (SURNAME, NARRATIVE, "Lagos"):
        assert hidden not in shown
    answering.get_by_label("Yes, I know this person").check()
    answering.get_by_label("How do you know them?").fill(HOW)
    answering.get_by_label("Certain").check()
    answering.get_by_role("button", name="Send the answer").click()
    answering.wait_for_load_state()
    assert "Thank you" in answering.content()
    assert AttestationRequest.objects.get(case=case).answered_at is not None

    # The caseworker sees the answer on the case.
    work.goto(f"{base}/staff/cases/{case.pk}/")
    answers = work.locator("table.attestations").inner_text()
    for expected in ("Rainbow Lagos", "Yes, I know this person", "Certain", HOW):
        assert expected in answers
    found["case with the answer"] = axe.blocking_violations(work, axe_source)

    # They propose "verified" on the verification page, and cannot confirm it themselves.
    work.get_by_role("link", name="Evidence and decisions").click()
    work.wait_for_url(f"{base}/staff/verification/{case.pk}/")
    assert "1 (partner organizations: 1, individual verifiers: 0)" in work.content()
    work.check("input[name=outcome][value=verified]")
    work.fill("textarea[name=summary]", SUMMARY)
    _submit(work, f"form[action='/staff/verification/{case.pk}/decisions/']")
    assert "A different staff member must confirm it." in work.content()
    assert "You proposed this: a different staff member must confirm it." in work.content()
    assert work.get_by_role("button", name="Confirm: the case is verified").count() == 0
    found["verification with a proposal"] = axe.blocking_violations(work, axe_source)
    # The page offers no confirmation to its proposer; sent anyway (the withdraw form,
    # pointed at the confirmation), it is refused.
    work.evaluate(
        """(action) => {
            const form = document.querySelector("form[action$='/decisions/withdraw/']");
            form.action = action;
        }""",
        f"/staff/verification/{case.pk}/decisions/confirm/",
    )
    _submit(work, f"form[action='/staff/verification/{case.pk}/decisions/confirm/']", status=400)
    refusal = work.locator(".form-errors[role=alert]").inner_text()
    assert "You proposed this: a different staff member must confirm it." in refusal
    case.refresh_from_db()
    proposal = Decision.objects.get(case=case)
    assert case.state == State.IN_VERIFICATION and proposal.status == Decision.Status.PROPOSED

    # A second caseworker confirms it: the case is verified.
    second, second_outside = _staff_page(browser, base, ben)
    second.click("nav a[href='/staff/verification/']")
    second.wait_for_url(f"{base}/staff/verification/")
    second.click(f"a[href='/staff/verification/{case.pk}/']")
    second.wait_for_url(f"{base}/staff/verification/{case.pk}/")
    assert "awaiting a second reviewer" in second.content()
    _submit(second, f"form[action='/staff/verification/{case.pk}/decisions/confirm/']")
    assert "Confirmed: the case is verified." in second.content()
    case = Case.objects.get(pk=case.pk)
    proposal.refresh_from_db()
    assert case.state == State.VERIFIED
    assert (proposal.status, proposal.proposed_by, proposal.confirmed_by) == (
        Decision.Status.DECIDED,
        ana,
        ben,
    )
    assert not any(found.values()), axe.describe(found)
    everywhere = [outside, intake_outside, work_outside, answering_outside, second_outside]
    assert all(requests == [] for requests in everywhere)

"""In a real browser: a Case Committee meeting from agenda to decision, by two members who
score and vote, then the payment authorized by one finance member and released by another;
every page passes the accessibility checks and asks nothing of another site."""

from decimal import Decimal

import pytest

from conftest import NEEDS_CHROMIUM
from waystation.accounts.models import Team, User
from waystation.funding import ledger
from waystation.funding.models import AgendaItem, Criterion, Disbursement, FundingRequest
from waystation.intake.tests import axe
from waystation.verification.tests.test_browser_journey import _staff_page, _submit

from .conftest import submitted_request
from .factories import deposit, make_fund

pytestmark = [*NEEDS_CHROMIUM, pytest.mark.usefixtures("vault_storage", "rates")]


@pytest.mark.django_db(transaction=True)
def test_a_meeting_decides_and_two_finance_members_pay(  # type: ignore[no-untyped-def]
    live_server,
    browser,
    intake_team: Team,
    caseworkers: Team,
    members: list[User],
    finance: list[User],
    rubric: list[Criterion],
) -> None:
    axe_source = axe.source()
    request = submitted_request(intake_team, caseworkers, [("airfare", "EUR", "640")])
    fund = make_fund("General")
    deposit(fund, "2000")
    base = live_server.url.replace("127.0.0.1", "localhost")
    found = {}

    chair, chair_outside = _staff_page(browser, base, members[0])
    chair.click("nav a[href='/staff/funding/meetings/']")
    chair.wait_for_url(f"{base}/staff/funding/meetings/")
    chair.fill("input[name=quorum]", "2")
    _submit(chair, "form[action='/staff/funding/meetings/']")
    meeting_url = chair.url
    chair.select_option("select[name=request]", str(request.pk))
    _submit(chair, "form[action$='/agenda/']")
    _submit(chair, "form[action$='/status/']")
    item = AgendaItem.objects.get(request=request)
    assert "Threatened by neighbours" in chair.content()

    def score_and_vote(page) -> None:  # type: ignore[no-untyped-def]
        for criterion in rubric:
            page.fill(f"#score-{item.pk}-{criterion.pk}", "5")
        _submit(page, f"form[action='/staff/funding/items/{item.pk}/scores/']")
        page.select_option(
            f"form[action='/staff/funding/items/{item.pk}/vote/'] select[name=choice]", "fund"
        )
        _submit(page, f"form[action='/staff/funding/items/{item.pk}/vote/']")

    score_and_vote(chair)
    second, second_outside = _staff_page(browser, base, members[1])
    second.goto(meeting_url)
    score_and_vote(second)
    found["meeting"] = axe.blocking_violations(second, axe_source)

    chair.goto(meeting_url)
    form = f"form[action='/staff/funding/items/{item.pk}/decision/']"
    chair.select_option(f"{form} select[name=outcome]", "fund")
    chair.fill(f"{form} textarea[name=minutes]", "Urgent and well planned.")
    _submit(chair, form)
    assert "The decision is recorded." in chair.content()
    assert FundingRequest.objects.get(pk=request.pk).status == "funded"

    payment = Disbursement.objects.get()
    first, first_outside = _staff_page(browser, base, finance[0])
    first.click("nav a[href='/staff/funding/payments/']")
    first.wait_for_url(f"{base}/staff/funding/payments/")
    found["payments"] = axe.blocking_violations(first, axe_source)
    form = f"form[action='/staff/funding/payments/{payment.pk}/authorize/']"
    first.select_option(f"{form} select", "purchase")
    first.fill(f"{form} input[name$='reference']", "PNR 7XK2QL")
    _submit(first, form)
    assert "You authorized it: a different finance member releases it." in first.content()

    other, other_outside = _staff_page(browser, base, finance[1])
    other.goto(f"{base}/staff/funding/payments/")
    _submit(other, f"form[action='/staff/funding/payments/{payment.pk}/release/']")
    assert "Released: the money has left the fund." in other.content()
    payment.refresh_from_db()
    assert (payment.status, payment.authorized_by, payment.released_by) == (
        "released",
        finance[0],
        finance[1],
    )
    assert ledger.balances(fund)[ledger.Kind.SPENT] == Decimal("640.00")

    assert not any(found.values()), axe.describe(found)
    for outside in (chair_outside, second_outside, first_outside, other_outside):
        assert outside == []

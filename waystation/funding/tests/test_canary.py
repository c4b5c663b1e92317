"""The canary test for funding: markers in what a caseworker writes for the committee (the
pseudonymized summary), the committee's minutes and its reason for paying from another fund
than proposed, and a payment's reference must not appear in the database, files, backups,
sessions, cache, logs or mail once they have been written and read back; a receipt's file
name and what its metadata holds are not kept at all (not even on its pages or in its
download: only its clean copy is)."""

import io
import logging

import pytest
from django.test import Client
from django.utils import timezone
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from waystation.accounts.models import Team, User
from waystation.funding.models import AgendaItem, Criterion, Disbursement, FundingRequest, Meeting
from waystation.vault.tests.markers import MARKERS, assert_no_traces, seized_places
from waystation.verification.tests.conftest import member, png, unlocked

from .factories import deposit, make_fund, planned_case


def _png_with_comment(comment: str) -> bytes:
    """A photo carrying `comment` in its metadata (an iTXt chunk, in any script)."""
    info = PngInfo()
    info.add_itxt("Comment", comment)
    out = io.BytesIO()
    Image.open(io.BytesIO(png())).save(out, format="PNG", pnginfo=info)
    assert comment.encode() in out.getvalue()
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("rates")
def test_nothing_of_a_funding_request_leaks_anywhere(  # type: ignore[no-untyped-def]
    intake_team: Team,
    caseworkers: Team,
    members: list[User],
    finance: list[User],
    rubric: list[Criterion],
    vault_storage,
    caplog,
    capfd,
) -> None:
    caplog.set_level(logging.DEBUG)
    general = make_fund("General")
    deposit(general, "100000")
    ana = unlocked(Client(), member(caseworkers))
    chair = unlocked(Client(), members[0])
    others = [unlocked(Client(), person) for person in members[1:]]
    payer, releaser = (unlocked(Client(), person) for person in finance)
    chair.post(
        "/staff/funding/meetings/", {"held_on": timezone.localdate().isoformat(), "quorum": 3}
    )
    meeting = Meeting.objects.get()
    chair.post(f"/staff/funding/meetings/{meeting.pk}/status/", {"status": "open"})
    for marker in MARKERS.values():
        case = planned_case(intake_team, caseworkers, name="Noor Haddad", country="UG")
        ana.post(f"/staff/funding/cases/{case.pk}/")
        request = FundingRequest.objects.get(case=case)
        url = f"/staff/funding/requests/{request.pk}/"
        ana.post(
            f"{url}items/",
            {
                "item-TOTAL_FORMS": 1,
                "item-INITIAL_FORMS": 0,
                "item-0-category": "airfare",
                "item-0-currency": "EUR",
                "item-0-estimate": "500",
            },
        )
        assert ana.post(f"{url}summary/", {"summary": f"{marker} summary"}).status_code == 302
        assert f"{marker} summary" in ana.get(url).content.decode()
        assert ana.post(f"{url}submit/").status_code == 302
        chair.post(f"/staff/funding/meetings/{meeting.pk}/agenda/", {"request": str(request.pk)})
        item = AgendaItem.objects.get(request=request)
        for client in (chair, *others):
            client.post(
                f"/staff/funding/items/{item.pk}/scores/", {f"score-{c.pk}": "4" for c in rubric}
            )
            client.post(f"/staff/funding/items/{item.pk}/vote/", {"choice": "fund"})
        decided = chair.post(
            f"/staff/funding/items/{item.pk}/decision/",
            {
                "outcome": "fund",
                "minutes": f"{marker} minutes",
                "fund": str(general.pk),
                "override_reason": f"{marker} override",
            },
        )
        assert decided.status_code == 302, decided.content.decode()[:2000]
        page = chair.get(f"/staff/funding/meetings/{meeting.pk}/").content.decode()
        assert f"{marker} summary" in page and f"{marker} minutes" in page
        assert f"{marker} override" in page
        payment = Disbursement.objects.get(request=request)
        prefix = f"p-{payment.pk}"
        authorized = payer.post(
            f"/staff/funding/payments/{payment.pk}/authorize/",
            {
                f"{prefix}-channel": "remittance",
                f"{prefix}-reference": f"{marker} reference",
                f"{prefix}-version": payment.version,
            },
        )
        assert authorized.status_code == 302
        assert (
            releaser.post(
                f"/staff/funding/payments/{payment.pk}/release/", {"version": 2}
            ).status_code
            == 302
        )
        receipt = io.BytesIO(_png_with_comment(f"{marker} comment") + f"{marker} tail".encode())
        receipt.name = f"{marker} receipt.png"
        sent = releaser.post(
            f"/staff/funding/payments/{payment.pk}/receipts/", {"kind": "ticket", "file": receipt}
        )
        assert sent.status_code == 302
        request_page = ana.get(url).content.decode()
        assert f"/staff/funding/receipts/{payment.receipts.get().pk}/" in request_page
        assert marker not in request_page
        download = ana.get(f"/staff/funding/receipts/{payment.receipts.get().pk}/")
        body = b"".join(download.streaming_content)
        assert body.startswith(b"\x89PNG") and marker.encode() not in body
    assert Disbursement.objects.filter(status="released").count() == len(MARKERS)
    assert_no_traces(seized_places(vault_storage, caplog, capfd), MARKERS)

"""The canary test for verification: markers in what reviewers write (evidence review notes,
the summaries of every kind of decision) must not appear in the database, files, backups,
sessions, cache, logs or mail once they have been written and read back."""

import logging

import pytest
from django.test import Client

from waystation.accounts.models import Team
from waystation.cases.models import Case, ReplyTemplate
from waystation.vault.tests.markers import MARKERS, assert_no_traces, seized_places
from waystation.verification.models import Decision

from .conftest import in_verification, member, png, send_file, unlocked


def _decide(client: Client, case: Case, **data: str) -> None:
    """A decision through the page, on the case as it is now."""
    case.refresh_from_db()
    sent = client.post(
        f"/staff/verification/{case.pk}/decisions/", {"version": case.version, **data}
    )
    assert sent.status_code == 302, sent.content.decode()[:2000]


@pytest.mark.django_db(transaction=True)
def test_nothing_reviewers_write_leaks_anywhere(  # type: ignore[no-untyped-def]
    intake_team: Team, caseworkers: Team, vault_storage, caplog, capfd
) -> None:
    caplog.set_level(logging.DEBUG)
    ReplyTemplate.objects.create(name="More", language="en", text="Please tell us more.")
    ana = unlocked(Client(), member(caseworkers, 0))
    ben = unlocked(Client(), member(caseworkers, 1))
    for colour, marker in zip(("red", "green", "blue", "white"), MARKERS.values(), strict=True):
        case = in_verification(intake_team, caseworkers)
        url = f"/staff/verification/{case.pk}/"
        evidence = send_file(case, png(colour))
        prefix = f"review-{evidence.pk}"
        reviewed = ana.post(
            f"{url}reviews/",
            {
                "evidence": evidence.pk,
                f"{prefix}-kind": "family_letter",
                f"{prefix}-status": "consistent",
                f"{prefix}-notes": f"{marker} review notes",
                f"{prefix}-version": 0,
            },
        )
        assert reviewed.status_code == 302
        _decide(ana, case, outcome="more_info", template="More", summary=f"{marker} asked for more")
        _decide(ana, case, outcome="verified", summary=f"{marker} proposed verified")
        proposal = Decision.objects.get(case=case, status="proposed")
        confirmed = ben.post(f"{url}decisions/confirm/", {"decision": proposal.pk})
        assert confirmed.status_code == 302
        _decide(
            ben, case, outcome="declined", reason="not_verifiable", summary=f"{marker} declined"
        )
        page = ana.get(url).content.decode()
        for written in ("review notes", "asked for more", "proposed verified", "declined"):
            assert f"{marker} {written}" in page
    assert Decision.objects.count() == 3 * len(MARKERS)
    assert_no_traces(seized_places(vault_storage, caplog, capfd), MARKERS)

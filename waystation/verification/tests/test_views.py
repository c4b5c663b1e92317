"""The verification pages: evidence with its fingerprint, reviews, staff adding files,
decisions by two people, verifiers, the due list, and 404 for everyone else."""

import hashlib
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from conftest import PASSWORD, make_user, sign_in
from waystation.accounts.models import Membership, Role, Team
from waystation.audit.models import AuditEntry
from waystation.cases.models import Case, State
from waystation.cases.signals import signals_for
from waystation.cases.tests.factories import make_case
from waystation.intake.models import Evidence
from waystation.vault import services as vault
from waystation.vault.fields import decrypt_value
from waystation.vault.models import EncryptedFile, KeyringGrant
from waystation.verification.models import Decision, EvidenceReview

from .conftest import in_verification, member, png, send_file, unlocked
from .factories import verify

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("vault_storage")]


def _url(case: Case, action: str = "") -> str:
    return f"/staff/verification/{case.pk}/{action}"


def _decide(client: Client, case: Case, **data: object) -> object:
    return client.post(_url(case, "decisions/"), {"version": case.version, **data})


# --- Evidence --------------------------------------------------------------------------------


def test_the_page_shows_each_file_with_the_fingerprint_of_its_original(
    client: Client, intake_team: Team, caseworkers: Team
) -> None:
    case = in_verification(intake_team, caseworkers)
    evidence = send_file(case, png())
    reader = member(caseworkers)
    unlocked(client, reader)
    page = client.get(_url(case))
    assert page.status_code == 200
    text = page.content.decode()
    assert hashlib.sha256(png()).hexdigest() in text
    assert "Not reviewed yet" in text and "Other" in text
    assert f"/staff/cases/{case.pk}/evidence/{evidence.pk}/" in text
    assert AuditEntry.objects.filter(
        action="verification.case.read", actor_id=reader.pk, object_id=case.pk
    ).exists()


def test_without_the_case_key_no_fingerprint_and_no_audit_of_a_read(
    client: Client, intake_team: Team, caseworkers: Team
) -> None:
    case = in_verification(intake_team, caseworkers)
    send_file(case, png())
    sign_in(client, member(caseworkers))  # keys not unlocked
    text = client.get(_url(case)).content.decode()
    assert hashlib.sha256(png()).hexdigest() not in text
    assert "Unlock your keys" in text
    assert not AuditEntry.objects.filter(action="verification.case.read").exists()


def test_a_review_is_sealed_audited_and_a_stale_one_refused_keeping_what_was_typed(
    client: Client, intake_team: Team, caseworkers: Team
) -> None:
    case = in_verification(intake_team, caseworkers)
    evidence = send_file(case, png())
    unlocked(client, member(caseworkers))
    prefix = f"review-{evidence.pk}"

    def review(version: int, notes: str) -> object:
        return client.post(
            _url(case, "reviews/"),
            {
                "evidence": evidence.pk,
                f"{prefix}-kind": "police_record",
                f"{prefix}-status": "consistent",
                f"{prefix}-notes": notes,
                f"{prefix}-version": version,
            },
        )

    assert review(0, "Stamp matches the station.")["Location"] == _url(case)  # type: ignore[index]
    saved = EvidenceReview.objects.get(evidence=evidence)
    assert (saved.kind, saved.status, saved.version) == ("police_record", "consistent", 1)
    assert b"Stamp" not in bytes(saved.notes)
    key = vault.open_keyring(
        case.keyring, vault.unlock_with_password(member(caseworkers), PASSWORD)
    )
    assert decrypt_value(key, saved, "notes") == "Stamp matches the station."
    entry = AuditEntry.objects.get(action="verification.evidence.reviewed")
    assert entry.details == {
        "case": str(case.pk),
        "evidence": str(evidence.pk),
        "kind": "police_record",
        "status": "consistent",
    }

    stale = review(0, "Typed on an old page.")
    assert stale.status_code == 400  # type: ignore[attr-defined]
    text = stale.content.decode()  # type: ignore[attr-defined]
    assert "Someone else reviewed this item" in text and "Typed on an old page." in text
    saved.refresh_from_db()
    assert saved.version == 1


def test_a_file_of_another_case_cannot_be_reviewed(
    client: Client, intake_team: Team, caseworkers: Team
) -> None:
    case, other = in_verification(intake_team, caseworkers), make_case()
    foreign = Evidence.objects.create(
        request_id=other.request_id,
        original=EncryptedFile.objects.create(
            keyring_id=other.keyring_id, storage_name="x", sealed_meta=b"", stored_size=0
        ),
        sealed_keys=b"",
    )
    unlocked(client, member(caseworkers))
    response = client.post(_url(case, "reviews/"), {"evidence": foreign.pk})
    assert response.status_code == 404
    assert client.post(_url(case, "reviews/"), {"evidence": "not-an-id"}).status_code == 404


def test_staff_add_a_file_with_its_kind(
    client: Client, intake_team: Team, caseworkers: Team
) -> None:
    case = in_verification(intake_team, caseworkers)
    adder = member(caseworkers)
    unlocked(client, adder)
    upload = SimpleUploadedFile("letter.png", png("green"), content_type="image/png")
    response = client.post(_url(case, "evidence/"), {"kind": "partner_letter", "file": upload})
    assert response.status_code == 302
    review = EvidenceReview.objects.get(case=case)
    assert (review.kind, review.status, review.evidence.request_id) == (
        "partner_letter",
        "pending",
        case.request_id,
    )
    assert hashlib.sha256(png("green")).hexdigest() in client.get(_url(case)).content.decode()
    entry = AuditEntry.objects.get(action="verification.evidence.added")
    assert entry.actor_id == adder.pk and entry.details["kind"] == "partner_letter"


def test_a_file_staff_add_that_another_request_holds_is_a_fraud_signal(
    client: Client, intake_team: Team, caseworkers: Team
) -> None:
    case = in_verification(intake_team, caseworkers, narrative="They beat me at the market.")
    elsewhere = in_verification(intake_team, caseworkers, narrative="My family threw me out.")
    unrelated = in_verification(intake_team, caseworkers, narrative="I was fired for who I am.")
    send_file(elsewhere, png("red"))  # the person of another request sent this very file
    send_file(unrelated, png("blue"))
    unlocked(client, member(caseworkers))
    shared = "The same evidence file is in 1 other request."
    assert shared not in client.get(_url(case)).content.decode()
    upload = SimpleUploadedFile("letter.png", png("red"), content_type="image/png")
    added = client.post(_url(case, "evidence/"), {"kind": "partner_letter", "file": upload})
    assert added.status_code == 302
    assert shared in client.get(_url(case)).content.decode()
    for each in (case, elsewhere):
        assert "evidence_shared" in {signal.code for signal in signals_for(each)}
    assert "evidence_shared" not in {signal.code for signal in signals_for(unrelated)}


def test_a_file_of_a_disallowed_type_is_refused_and_nothing_is_kept(
    client: Client, intake_team: Team, caseworkers: Team, vault_storage
) -> None:  # type: ignore[no-untyped-def]
    case = in_verification(intake_team, caseworkers)
    unlocked(client, member(caseworkers))
    upload = SimpleUploadedFile(
        "notes.html", b"<script>alert(1)</script>", content_type="image/png"
    )
    response = client.post(_url(case, "evidence/"), {"kind": "media_report", "file": upload})
    assert response.status_code == 400
    text = response.content.decode()
    assert "Only photos (JPEG, PNG) and PDF documents can be kept." in text
    assert '<option value="media_report" selected>' in text  # what was chosen stays
    assert not Evidence.objects.exists() and not EvidenceReview.objects.exists()
    assert not EncryptedFile.objects.exists()
    assert not [path for path in vault_storage.rglob("*") if path.is_file()]
    assert not AuditEntry.objects.filter(action__startswith="verification.evidence").exists()


def test_a_file_too_large_is_refused_and_nothing_is_kept(
    client: Client, intake_team: Team, caseworkers: Team, settings, vault_storage
) -> None:  # type: ignore[no-untyped-def]
    settings.EVIDENCE_MAX_BYTES = 50
    case = in_verification(intake_team, caseworkers)
    unlocked(client, member(caseworkers))
    upload = SimpleUploadedFile("big.png", png() + b"0" * 100, content_type="image/png")
    response = client.post(_url(case, "evidence/"), {"kind": "photo", "file": upload})
    assert response.status_code == 413
    assert "This file is too large." in response.content.decode()
    assert not Evidence.objects.exists() and not EncryptedFile.objects.exists()
    assert not [path for path in vault_storage.rglob("*") if path.is_file()]


def test_an_upload_needs_the_csrf_token(intake_team: Team, caseworkers: Team) -> None:
    case = in_verification(intake_team, caseworkers)
    client = Client(enforce_csrf_checks=True)
    sign_in(client, member(caseworkers))
    upload = SimpleUploadedFile("a.png", png(), content_type="image/png")
    response = client.post(_url(case, "evidence/"), {"kind": "photo", "file": upload})
    assert response.status_code == 403
    assert not Evidence.objects.exists()


# --- Decisions -------------------------------------------------------------------------------


def test_two_different_people_verify_through_the_pages(
    client: Client, intake_team: Team, caseworkers: Team
) -> None:
    case = in_verification(intake_team, caseworkers)
    ana, ben = member(caseworkers, 0), member(caseworkers, 1)
    unlocked(client, ana)
    proposed = _decide(client, case, outcome="verified", summary="Partner answered; letter fits.")
    assert proposed["Location"] == _url(case)  # type: ignore[index]
    decision = Decision.objects.get(case=case)
    page = client.get(_url(case)).content.decode()
    assert "You proposed this: a different staff member must confirm it." in page
    assert "Partner answered; letter fits." in page

    refused = client.post(_url(case, "decisions/confirm/"), {"decision": decision.pk})
    assert refused.status_code == 400
    assert "different staff member must confirm" in refused.content.decode()
    case.refresh_from_db()
    assert case.state == "in_verification"

    other = unlocked(Client(), ben)
    other.post(_url(case, "decisions/confirm/"), {"decision": decision.pk})
    case.refresh_from_db()
    decision.refresh_from_db()
    assert (case.state, decision.status, decision.confirmed_by) == ("verified", "decided", ben)
    assert "Verified on" in other.get(_url(case)).content.decode()


def test_a_confirmation_needs_unlocked_keys(
    client: Client, intake_team: Team, caseworkers: Team
) -> None:
    case = in_verification(intake_team, caseworkers)
    proposal = Decision.objects.create(
        case=case,
        keyring_id=case.keyring_id,
        outcome="verified",
        status="proposed",
        proposed_by=member(caseworkers, 0),
    )
    sign_in(client, member(caseworkers, 1))
    response = client.post(_url(case, "decisions/confirm/"), {"decision": proposal.pk})
    assert response.status_code == 400 and "Unlock your keys first" in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.status == "proposed"


def test_declining_without_a_reason_keeps_what_was_typed(
    client: Client, intake_team: Team, caseworkers: Team
) -> None:
    case = in_verification(intake_team, caseworkers)
    unlocked(client, member(caseworkers))
    response = _decide(client, case, outcome="declined", summary="No partner knows them.")
    assert response.status_code == 400  # type: ignore[attr-defined]
    text = response.content.decode()  # type: ignore[attr-defined]
    assert "Choose a reason for declining." in text and "No partner knows them." in text
    assert not Decision.objects.exists()
    declined = _decide(
        client, case, outcome="declined", reason="not_verifiable", summary="No partner knows them."
    )
    case.refresh_from_db()
    assert case.state == "declined" and declined.status_code == 302  # type: ignore[attr-defined]


def test_a_decision_on_a_stale_page_is_refused(
    client: Client, intake_team: Team, caseworkers: Team
) -> None:
    case = in_verification(intake_team, caseworkers)
    unlocked(client, member(caseworkers))
    response = client.post(
        _url(case, "decisions/"),
        {"version": case.version + 1, "outcome": "verified", "summary": "Checked."},
    )
    assert response.status_code == 400
    assert "Someone else changed this case" in response.content.decode()
    assert not Decision.objects.exists()


# --- Verifiers -------------------------------------------------------------------------------


def test_a_verifier_sees_cases_in_verification_and_reads_them_once_shared(
    client: Client, intake_team: Team, caseworkers: Team
) -> None:
    case = in_verification(intake_team, caseworkers)
    send_file(case, png())
    triaged = make_case(state="triaged")
    verifier = make_user(Role.VERIFIER, keys=True)
    verifiers = Team.objects.get(memberships__user=verifier)
    vault.ensure_team_key(verifiers)
    reader = unlocked(Client(), verifier)
    assert reader.get(_url(triaged)).status_code == 404
    assert reader.get("/staff/cases/").status_code == 404  # no queue
    page = reader.get(_url(case)).content.decode()
    assert "Your keys do not open this case" in page
    assert hashlib.sha256(png()).hexdigest() not in page
    overview = reader.get("/staff/verification/").content.decode()
    assert case.reference in overview and 'href="/staff/verification/"' in overview  # nav

    unlocked(client, member(caseworkers))
    client.post(_url(case, "share/"), {"team": verifiers.pk})
    assert AuditEntry.objects.filter(action="verification.case.shared", object_id=case.pk).exists()
    shared = reader.get(_url(case)).content.decode()
    assert hashlib.sha256(png()).hexdigest() in shared
    evidence = Evidence.objects.get(request__case=case)
    file_url = f"/staff/cases/{case.pk}/evidence/{evidence.pk}/"
    assert file_url in shared  # verifiers judge evidence: they open its clean copy
    shown = reader.get(file_url)
    assert shown.status_code == 200 and shown["Content-Type"] == "image/png"

    verify(case, proposer=member(caseworkers), confirmer=verifier)
    assert not KeyringGrant.objects.filter(keyring=case.keyring, team_key__team=verifiers).exists()
    assert reader.get(_url(case)).status_code == 404  # out of verification, out of sight


def test_sharing_needs_a_verifier_team(
    client: Client, intake_team: Team, caseworkers: Team
) -> None:
    case = in_verification(intake_team, caseworkers)
    unlocked(client, member(caseworkers))
    response = client.post(_url(case, "share/"), {"team": caseworkers.pk})
    assert response.status_code == 400
    assert not AuditEntry.objects.filter(action="verification.case.shared").exists()


# --- Re-verification on the pages -----------------------------------------------------------


def test_due_cases_are_listed_for_coordinators_without_a_way_in(
    client: Client, coordinator
) -> None:  # type: ignore[no-untyped-def]
    due, fresh = make_case(state="planning"), make_case(state="planning")
    Decision.objects.filter(pk=verify(due).pk).update(
        review_due_on=timezone.localdate() - timedelta(days=1)
    )
    verify(fresh)
    sign_in(client, coordinator)
    text = client.get("/staff/verification/").content.decode()
    assert due.reference in text and fresh.reference not in text
    assert _url(due) not in text
    assert client.get(_url(due)).status_code == 404


def test_the_case_page_says_when_re_verification_is_due(client: Client) -> None:
    caseworker = make_user(Role.CASEWORKER)
    case = make_case(state="planning", assigned_to=caseworker)
    decision = verify(case)
    sign_in(client, caseworker)
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert "Verified on" in page and "Re-verification due." not in page
    assert _url(case) in page
    Decision.objects.filter(pk=decision.pk).update(review_due_on=timezone.localdate())
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert "Re-verification due." in page
    assert "Re-verification due" in client.get(_url(case)).content.decode()


# --- Who gets in -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "action"),
    [
        ("get", ""),
        ("post", "reviews/"),
        ("post", "evidence/"),
        ("post", "decisions/"),
        ("post", "decisions/confirm/"),
        ("post", "decisions/withdraw/"),
        ("post", "share/"),
    ],
)
def test_foreign_and_missing_cases_are_404(client: Client, method: str, action: str) -> None:
    caseworker = make_user(Role.CASEWORKER)
    foreign = make_case(state="in_verification", assigned_to=make_user(Role.CASEWORKER))
    missing = Case(pk=foreign.request_id)  # a UUID that is no case
    sign_in(client, caseworker)
    for case in (foreign, missing):
        assert getattr(client, method)(_url(case, action)).status_code == 404


def test_outsiders_and_other_roles_get_404(client: Client) -> None:
    case = make_case(state="in_verification")
    for role in (None, Role.COORDINATOR, Role.FINANCE, Role.PARTNER):
        user = make_user(role)
        Case.objects.filter(pk=case.pk).update(assigned_to=user)
        sign_in(client, user)
        assert client.get(_url(case)).status_code == 404
    assert client.get("/staff/verification/").status_code == 404  # the partner


def test_a_verifier_in_a_caseworker_team_keeps_the_team_cases(client: Client) -> None:
    verifier = make_user(Role.VERIFIER)
    team = Team.objects.create(name="Caseworkers", role=Role.CASEWORKER)
    Membership.objects.create(team=team, user=verifier)
    case = make_case(state=State.PLANNING, team=team)
    sign_in(client, verifier)
    assert client.get(_url(case)).status_code == 200

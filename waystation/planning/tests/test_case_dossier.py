"""The dossier from the case's page: re-authenticated, encrypted to the caseworker's
passphrase, audited, never stored; refused with a clear message when the passphrase is weak
or mistyped, the keys are locked or the case is not verified."""

import io
import time

import pytest
from django.test import Client
from pypdf import PasswordType, PdfReader

from conftest import make_user, sign_in
from waystation.accounts.access import SESSION_REAUTH_AT
from waystation.accounts.models import Role, Team
from waystation.audit.models import AuditEntry
from waystation.cases.models import Case
from waystation.verification.tests.conftest import png, send_file

from .conftest import in_verification, member, unlocked

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("vault_storage")]

PASSPHRASE = "plum-river-4417-sable-orbit"


def _export(client: Client, case: Case, **data: object) -> object:
    return client.post(
        f"/staff/planning/cases/{case.pk}/dossier/export/",
        {"passphrase": PASSPHRASE, "passphrase_again": PASSPHRASE, **data},
    )


def _text(pdf: bytes, passphrase: str = PASSPHRASE) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.decrypt(passphrase) != PasswordType.NOT_DECRYPTED
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_dossier_opens_only_with_the_passphrase(ana: Client, case: Case) -> None:
    evidence = send_file(case, png("red"))
    page = ana.get(f"/staff/planning/cases/{case.pk}/dossier/")
    assert page.status_code == 200 and str(evidence.pk) in page.content.decode()
    ana.post(f"/staff/planning/cases/{case.pk}/pathway/", {"pathway": "inland_asylum"})
    sent = _export(ana, case, evidence=[str(evidence.pk)])
    assert sent.status_code == 200
    assert sent["Content-Type"] == "application/pdf"
    assert sent["Content-Disposition"] == f'attachment; filename="dossier-{case.reference}.pdf"'
    pdf = sent.content
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.is_encrypted
    assert reader.decrypt("not-the-passphrase-at-all") == PasswordType.NOT_DECRYPTED
    assert b"Amani" not in pdf and "Amani".encode("utf-16-be") not in pdf
    text = _text(pdf)
    assert case.reference in text and "Amani Okello" in text and "Uganda" in text
    assert "Verified on" in text and "In-land asylum claim" in text
    # The fingerprint of the original, as it reached the organization.
    import hashlib

    digest = hashlib.sha256(png("red")).hexdigest()
    assert digest[:16] in text.replace("\n", "")
    entry = AuditEntry.objects.get(action="planning.dossier.exported")
    assert entry.object_id == case.pk and entry.actor_id == case.assigned_to_id
    assert entry.details == {"evidence_listed": 1, "evidence_included": 1}


def test_a_weak_or_mistyped_passphrase_is_refused_with_nothing_exported(
    ana: Client, case: Case
) -> None:
    short = _export(ana, case, passphrase="short", passphrase_again="short")
    assert short.status_code == 400 and "at least 16 characters" in short.content.decode()
    mistyped = _export(ana, case, passphrase_again=PASSPHRASE + "x")
    assert mistyped.status_code == 400
    assert "The two passphrases differ." in mistyped.content.decode()
    assert not AuditEntry.objects.filter(action="planning.dossier.exported").exists()


def test_an_old_sign_in_must_be_proven_again_first(ana: Client, case: Case) -> None:
    session = ana.session
    session[SESSION_REAUTH_AT] = time.time() - 24 * 3600
    session.save()
    sent = _export(ana, case, return_to=f"/staff/planning/cases/{case.pk}/dossier/")
    assert sent.status_code == 302 and sent["Location"].startswith("/staff/account/confirm/")
    assert not AuditEntry.objects.filter(action="planning.dossier.exported").exists()


def test_an_unverified_case_gets_no_dossier(
    client: Client, intake_team: Team, caseworkers: Team
) -> None:
    case = in_verification(intake_team, caseworkers)
    Case.objects.filter(pk=case.pk).update(assigned_to=member(caseworkers))
    unlocked(client, member(caseworkers))
    sent = _export(client, case)
    assert sent.status_code == 400 and "This case is not verified" in sent.content.decode()


def test_locked_keys_get_a_message_not_a_file(client: Client, case: Case) -> None:
    sign_in(client, case.assigned_to)
    sent = _export(client, case)
    assert sent.status_code == 400 and "Unlock your keys first" in sent.content.decode()


def test_outsiders_get_404(client: Client, case: Case) -> None:
    sign_in(client, make_user(Role.CASEWORKER))
    assert _export(client, case).status_code == 404

"""Cases without the intake form's cryptography, for tests of access and pages."""

import secrets
from typing import Any

from django.utils import timezone

from waystation.cases.models import Case
from waystation.cases.services import open_case
from waystation.intake.codes import new_reference
from waystation.intake.models import Evidence, HelpRequest
from waystation.vault.models import EncryptedFile, Keyring


def make_case(**fields: Any) -> Case:
    """A stored request with empty sealed fields and its case, then `fields` set on the case."""
    request = HelpRequest.objects.create(
        keyring=Keyring.objects.create(),
        reference=new_reference(),
        country=fields.pop("country", "NG"),
        region="Lagos",
        risk=fields.pop("risk", "now"),
        language="en",
        consented_at=timezone.now(),
        follow_up_lookup=secrets.token_hex(32),
        person_public_key=secrets.token_bytes(32),
        inbox_public_key=secrets.token_bytes(32),
    )
    case = open_case(request)
    if fields:
        Case.objects.filter(pk=case.pk).update(**fields)
        case.refresh_from_db()
    return case


def make_evidence(case: Case, *, derivative: bool = True) -> Evidence:
    """A file of the case's request with stand-in encrypted files (nothing stored, no keys),
    for tests of who reaches it; opening it fails as a damaged file would."""

    def stand_in() -> EncryptedFile:
        return EncryptedFile.objects.create(
            keyring_id=case.keyring_id,
            storage_name=secrets.token_hex(16),
            sealed_meta=b"",
            stored_size=0,
        )

    return Evidence.objects.create(
        request_id=case.request_id,
        original=stand_in(),
        derivative=stand_in() if derivative else None,
        sealed_keys=secrets.token_bytes(80),
    )

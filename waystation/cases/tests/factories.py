"""Cases without the intake form's cryptography, for tests of access and pages."""

import secrets
from typing import Any

from django.utils import timezone

from waystation.cases.models import Case
from waystation.cases.services import open_case
from waystation.intake.codes import new_reference
from waystation.intake.models import HelpRequest
from waystation.vault.models import Keyring


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

"""Fraud and entrapment signals, for staff only: never shown to the person, never changing
what the person is told. Each signal says what was seen, in counts, so a caseworker can
check it; none decides anything by itself.

Computed from blind-index tokens (equality only, no plaintext): one phone number or e-mail
address behind requests under several different full names.
"""

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from waystation.intake.models import HelpRequest
from waystation.vault.blind import current_key_version
from waystation.vault.models import BlindIndexToken

from .models import Case

CONTACT_KINDS = (BlindIndexToken.Kind.PHONE, BlindIndexToken.Kind.EMAIL)
# Requests read when following one contact: a contact on thousands of requests is a
# signal already, and reading more would cost every case page.
SCAN_LIMIT = 500


@dataclass(frozen=True)
class Signal:
    code: str
    message: str


def signals_for(case: Case) -> list[Signal]:
    found = []
    names = _names_behind_contact(case)
    if names >= settings.CASES_SIGNAL_NAMES_PER_CONTACT:
        found.append(
            Signal(
                "contact_names",
                _(
                    "Different names on requests with this request's phone number or e-mail "
                    "address: %(names)d."
                )
                % {"names": names},
            )
        )
    return found


def _names_behind_contact(case: Case) -> int:
    """How many different full names share this request's phone numbers or e-mail
    addresses (this request's own name included; requests without a full name do not
    count)."""
    version = current_key_version()
    contacts = list(
        BlindIndexToken.objects.filter(
            keyring_id=case.keyring_id, kind__in=CONTACT_KINDS, key_version=version
        ).values_list("kind", "token")
    )
    if not contacts:
        return 0
    keyrings: set[uuid.UUID] = set()
    for kind, token in contacts:
        keyrings.update(
            BlindIndexToken.objects.filter(kind=kind, token=token, key_version=version).values_list(
                "keyring_id", flat=True
            )[:SCAN_LIMIT]
        )
    requests = HelpRequest.objects.filter(keyring_id__in=keyrings).values_list(
        "keyring_id", flat=True
    )
    return (
        BlindIndexToken.objects.filter(
            keyring_id__in=list(requests),
            kind=BlindIndexToken.Kind.FULL_NAME,
            key_version=version,
        )
        .values("token")
        .distinct()
        .count()
    )

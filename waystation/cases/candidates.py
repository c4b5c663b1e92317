"""Possible duplicates of a case, as its page shows them: the duplicate finder run over the
cases the reader may open and can decrypt, with each candidate's reasons in words."""

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from waystation.accounts.models import User
from waystation.vault.access import NotUnlockedError, keyring_key
from waystation.vault.fields import decrypt_value
from waystation.vault.services import KeysUnavailableError

from . import duplicates
from .access import visible_cases
from .models import Case

REASONS = {
    "same phone": _("same phone"),
    "same e-mail": _("same e-mail"),
    "similar e-mail": _("similar e-mail"),
    "same full name": _("same full name"),
    "similar name": _("similar name"),
    "same date of birth": _("same date of birth"),
    "similar date of birth": _("similar date of birth"),
    "same region": _("same region"),
    "similar region": _("similar region"),
}
SHOWN = 5


@dataclass(frozen=True)
class Shown:
    case: Case
    score: float
    reasons: list[str]


def _person(case: Case, key: bytes) -> duplicates.Person:
    request = case.request
    contact: dict[str, Any] = decrypt_value(key, request, "contact") or {}
    handle = str(contact.get("handle") or "").strip()
    is_email = "@" in handle
    return duplicates.Person(
        full_name=str(decrypt_value(key, request, "name") or ""),
        phones=(handle,) if handle and not is_email else (),
        emails=(handle,) if is_email else (),
        country=case.country,
        region=case.region,
    )


def possible_duplicates(request: HttpRequest, case: Case, key: bytes, user: User) -> list[Shown]:
    """The best few candidates for `case`, among the cases `user` may open and decrypt."""
    by_keyring: dict[Any, Case] = {}

    def load(keyring_ids: list[Any]) -> dict[Any, duplicates.Person]:
        people = {}
        for other in (
            visible_cases(user)
            .filter(keyring_id__in=keyring_ids)
            .select_related("request", "keyring")
        ):
            try:
                people[other.keyring_id] = _person(other, keyring_key(request, other.keyring))
            except (NotUnlockedError, KeysUnavailableError):
                continue
            by_keyring[other.keyring_id] = other
        return people

    found = duplicates.find_duplicates(_person(case, key), load, exclude=case.keyring_id)
    return [
        Shown(by_keyring[c.keyring_id], c.score, [str(REASONS.get(r, r)) for r in c.reasons])
        for c in found[:SHOWN]
    ]

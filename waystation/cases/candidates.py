"""Possible duplicates of a case, as its page shows them: the duplicate finder run over the
cases the reader may open and can decrypt, with each candidate's reasons in words. Pairs
staff already decided about are shown as decisions instead, never as suggestions."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from waystation.accounts.models import User
from waystation.vault.access import NotUnlockedError, keyring_key
from waystation.vault.fields import decrypt_value
from waystation.vault.services import KeysUnavailableError

from . import duplicates
from .access import CASE_ROLES, visible_cases
from .models import Case, DuplicateDecision, State

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


def possible_duplicates(
    request: HttpRequest,
    case: Case,
    key: bytes,
    user: User,
    decisions: dict[uuid.UUID, DuplicateDecision] | None = None,
) -> list[Shown]:
    """The best few candidates for `case`, among the cases `user` may open and decrypt, but
    those already decided about (`decisions`, the page's `decisions_about`, read if not
    given)."""
    by_keyring: dict[Any, Case] = {}
    decided = list(decisions_about(case) if decisions is None else decisions)

    def load(keyring_ids: list[Any]) -> dict[Any, duplicates.Person]:
        people = {}
        for other in (
            visible_cases(user)
            .filter(keyring_id__in=keyring_ids)
            .exclude(pk__in=decided)
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


@dataclass(frozen=True)
class Decided:
    """A decision about this case and another, as the page shows it: the other case's
    reference always; a link and buttons only when the reader may open it."""

    other: Case
    kind: str
    label: str
    by: str
    at: datetime
    visible: bool
    # The other case is merged into this one: its history is on this page.
    merged_here: bool
    # Neither case is merged into the other now (a merged case must be reopened first).
    changeable: bool


@dataclass(frozen=True)
class Decisions:
    same: list[Decided]  # linked or merged: the same person
    dismissed: list[Decided]
    # The reader holds a role that opens case pages, hence may decide.
    may_decide: bool

    def __bool__(self) -> bool:
        return bool(self.same or self.dismissed)


def decisions_about(case: Case) -> dict[uuid.UUID, DuplicateDecision]:
    """Every decision about `case`, by the other case's id."""
    rows = DuplicateDecision.objects.filter(Q(first=case) | Q(second=case)).select_related("by")
    return {row.second_id if row.first_id == case.pk else row.first_id: row for row in rows}


def _merged_one_way(case: Case, other: Case) -> bool:
    return case.state == State.DUPLICATE and case.duplicate_of_id == other.pk


def duplicate_decisions(
    case: Case, user: User, decisions: dict[uuid.UUID, DuplicateDecision] | None = None
) -> Decisions:
    """What staff decided about `case` and other cases, newest first. No content: the
    other case's reference and state, the decision, who and when. `decisions` as
    `decisions_about` gives them, read if not given."""
    if decisions is None:
        decisions = decisions_about(case)
    others = Case.objects.in_bulk(list(decisions))
    visible = set(visible_cases(user).filter(pk__in=list(decisions)).values_list("pk", flat=True))
    shown = sorted(
        (
            Decided(
                other=others[pk],
                kind=decision.kind,
                label=str(DuplicateDecision.Kind(decision.kind).label),
                by=decision.by.display_name if decision.by else "",
                at=decision.at,
                visible=pk in visible,
                merged_here=decision.kind == DuplicateDecision.Kind.MERGED
                and _merged_one_way(others[pk], case),
                changeable=decision.kind != DuplicateDecision.Kind.MERGED
                or not (_merged_one_way(others[pk], case) or _merged_one_way(case, others[pk])),
            )
            for pk, decision in decisions.items()
        ),
        key=lambda d: d.at,
        reverse=True,
    )
    dismissed = DuplicateDecision.Kind.DISMISSED
    return Decisions(
        same=[d for d in shown if d.kind != dismissed],
        dismissed=[d for d in shown if d.kind == dismissed],
        may_decide=user.has_role(*CASE_ROLES),
    )

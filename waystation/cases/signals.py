"""Fraud and entrapment signals, for staff only: never shown to the person, never changing
what the person is told. Each signal says what was seen, in counts, so a caseworker can
check it; none decides anything by itself.

A signal is a rule registered under a code (`register_signal`): a function given the case
and, when the reader has opened it, what the person wrote (field name to plaintext; None
otherwise), returning a message or None. Rules in this module:

- contact_names: one phone number or e-mail address behind requests under several full
  names (blind-index equality, no plaintext).
- evidence_shared: the same evidence file (keyed SHA-256) in other requests.
- narrative_burst: near-identical narratives (shared bands of a keyed MinHash) in other
  requests received within CASES_SIGNAL_NARRATIVE_DAYS of this one.
- compromised_partner: the request names a partner listed in CASES_COMPROMISED_PARTNERS
  (needs the decrypted request, so it is silent until the reader has opened it).

Later apps register their own rules from their AppConfig.ready() without editing this
module. CASES_SIGNALS_DISABLED turns rules off by code. Every query is bounded (SCAN_LIMIT
token rows) and uses the (kind, token) index or the keyring's.
"""

import logging
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from waystation.intake.models import HelpRequest
from waystation.vault.access import SealedValue
from waystation.vault.blind import NARRATIVE_MIN_SHARED_BANDS, current_key_version
from waystation.vault.models import BlindIndexToken

from .models import Case

logger = logging.getLogger(__name__)

Kind = BlindIndexToken.Kind
CONTACT_KINDS = (Kind.PHONE, Kind.EMAIL)
# Token rows read by one lookup: a value on thousands of requests is a signal already, and
# reading more would cost every case page. Counts that reach it are shown as "at least".
SCAN_LIMIT = 500

# What a rule gets: the case, and the request's fields as plaintext when the reader has
# opened them (None otherwise). It returns the message to show, or None.
Rule = Callable[[Case, Mapping[str, Any] | None], str | None]


@dataclass(frozen=True)
class Signal:
    code: str
    message: str


_rules: dict[str, Rule] = {}


def register_signal(code: str, rule: Rule) -> None:
    """Show `rule`'s message on every case page it returns one for, under `code` (which
    CASES_SIGNALS_DISABLED names to turn it off). Rules run in the order registered.
    Registering the same function again does nothing; raises ValueError when another rule
    already has the code."""
    if _rules.get(code, rule) is not rule:
        raise ValueError(f"another signal rule is registered as {code!r}")
    _rules[code] = rule


def signals_for(case: Case, content: Mapping[str, SealedValue] | None = None) -> list[Signal]:
    """The signals every enabled rule finds on the case. `content` is what the reader
    opened (`open_sealed_fields`), if anything; damaged fields are left out. A rule that
    fails is logged by its code alone (never content) and skipped, so the page still
    shows."""
    opened = None
    if content is not None:
        opened = {name: sealed.value for name, sealed in content.items() if not sealed.error}
    disabled = set(settings.CASES_SIGNALS_DISABLED)
    found = []
    memo = _one_look.set({})
    try:
        for code, rule in list(_rules.items()):
            if code in disabled:
                continue
            try:
                message = rule(case, opened)
            except Exception as error:
                logger.error("Signal rule %s failed (%s).", code, type(error).__name__)
                continue
            if message:
                found.append(Signal(code, message))
    finally:
        _one_look.reset(memo)
    return found


# The case's own tokens, read once for all the rules of one look (`_own_tokens`).
_one_look: ContextVar[dict[Any, list[tuple[str, str]]] | None] = ContextVar(
    "signal_tokens", default=None
)


# --- Rules ---------------------------------------------------------------------------------


def _contact_names(case: Case, content: Mapping[str, Any] | None) -> str | None:
    names = _names_behind_contact(case)
    if names < settings.CASES_SIGNAL_NAMES_PER_CONTACT:
        return None
    return _(
        "Different names on requests with this request's phone number or e-mail address: %(names)d."
    ) % {"names": names}


def _names_behind_contact(case: Case) -> int:
    """How many different full names share this request's phone numbers or e-mail
    addresses (this request's own name included; requests without a full name do not
    count)."""
    version = current_key_version()
    contacts = [(kind, token) for kind in CONTACT_KINDS for token in _own_tokens(case, kind)]
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
    # Every token of these keyrings (a few dozen each), through the keyring index: with the
    # kind as well, SQLite's planner reads every full name in the table instead.
    tokens = BlindIndexToken.objects.filter(
        keyring_id__in=list(requests), key_version=version
    ).values_list("kind", "token")
    return len({token for kind, token in tokens if kind == Kind.FULL_NAME})


def _own_tokens(case: Case, kind: str) -> list[str]:
    # Read once for all the rules of one `signals_for`, by the keyring alone (a few dozen
    # rows): with the kind as well, SQLite's planner prefers the (kind, token) index and
    # reads every token of that kind.
    memo = _one_look.get()
    rows = memo.get(case.keyring_id) if memo is not None else None
    if rows is None:
        rows = list(
            BlindIndexToken.objects.filter(
                keyring_id=case.keyring_id, key_version=current_key_version()
            ).values_list("kind", "token")[:SCAN_LIMIT]
        )
        if memo is not None:
            memo[case.keyring_id] = rows
    return [token for row_kind, token in rows if row_kind == kind]


def _evidence_shared(case: Case, content: Mapping[str, Any] | None) -> str | None:
    files = _own_tokens(case, Kind.EVIDENCE)
    if not files:
        return None
    rows = list(
        BlindIndexToken.objects.filter(
            kind=Kind.EVIDENCE, token__in=files, key_version=current_key_version()
        )
        .exclude(keyring_id=case.keyring_id)
        .values_list("keyring_id", flat=True)[:SCAN_LIMIT]
    )
    others = HelpRequest.objects.filter(keyring_id__in=set(rows)).count()
    if others < settings.CASES_SIGNAL_EVIDENCE_MATCHES:
        return None
    if len(rows) >= SCAN_LIMIT:
        return _("The same evidence file is in at least %(count)d other requests.") % {
            "count": others
        }
    return ngettext(
        "The same evidence file is in %(count)d other request.",
        "The same evidence file is in %(count)d other requests.",
        others,
    ) % {"count": others}


def _narrative_burst(case: Case, content: Mapping[str, Any] | None) -> str | None:
    bands = _own_tokens(case, Kind.NARRATIVE)
    if not bands:
        return None
    days = settings.CASES_SIGNAL_NARRATIVE_DAYS
    window = timedelta(days=days)
    # Probed row by row through the request's keyring index, so the cost follows the rows
    # sharing a band (at most SCAN_LIMIT), not the number of requests in the window.
    nearby = HelpRequest.objects.filter(
        keyring_id=OuterRef("keyring_id"),
        received_at__gte=case.received_at - window,
        received_at__lte=case.received_at + window,
    )
    rows = list(
        BlindIndexToken.objects.filter(
            Exists(nearby),
            kind=Kind.NARRATIVE,
            token__in=bands,
            key_version=current_key_version(),
        )
        .exclude(keyring_id=case.keyring_id)
        .values_list("keyring_id", flat=True)[:SCAN_LIMIT]
    )
    shared = Counter(rows)
    others = sum(1 for count in shared.values() if count >= NARRATIVE_MIN_SHARED_BANDS)
    if others < settings.CASES_SIGNAL_NARRATIVE_MATCHES:
        return None
    within = ngettext("%(days)d day", "%(days)d days", days) % {"days": days}
    if len(rows) >= SCAN_LIMIT:
        return _(
            "Near-identical narrative in at least %(count)d other requests received within "
            "%(within)s of this one."
        ) % {"count": others, "within": within}
    return ngettext(
        "Near-identical narrative in %(count)d other request received within %(within)s of "
        "this one.",
        "Near-identical narrative in %(count)d other requests received within %(within)s of "
        "this one.",
        others,
    ) % {"count": others, "within": within}


def _partner_name(name: str) -> str:
    return " ".join(name.split()).casefold()


def _compromised_partner(case: Case, content: Mapping[str, Any] | None) -> str | None:
    if content is None or not content.get("partner"):
        return None
    flagged = {_partner_name(name) for name in settings.CASES_COMPROMISED_PARTNERS}
    if _partner_name(str(content["partner"])) not in flagged:
        return None
    return _("This request names a partner organization listed as compromised.")


register_signal("contact_names", _contact_names)
register_signal("evidence_shared", _evidence_shared)
register_signal("narrative_burst", _narrative_burst)
register_signal("compromised_partner", _compromised_partner)

"""The individual verifiers: people outside the organization, without an account, whom
caseworkers may ask whether they know a person (a person already relocated, a member of an
international network). Coordinators keep them; name and contact are sealed."""

import uuid

from django.db import transaction
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from waystation.accounts.models import Role, User
from waystation.audit.services import log_action
from waystation.vault import services as vault
from waystation.vault.access import NotUnlockedError, UnreadableError, read_sealed

from .attestations import AttestationRefusedError, cancel_attestation, verifier_name
from .models import AttestationRequest, IndividualVerifier
from .services import CONTACT_ROLES


def _verifier_keyring() -> vault.PreparedKeyring:
    """A new key for a verifier's name and contact, sealed to the current key of every
    coordinator, caseworker and verifier team a member holds (public keys only: nobody's
    unlocked keys are needed). Raises AttestationRefusedError when no coordinator team holds
    keys yet (the details could never be read again)."""
    coordinators = vault.held_team_keys(Role.COORDINATOR)
    if not coordinators:
        raise AttestationRefusedError(
            _(
                "No coordinator team holds encryption keys yet, so these details could not be "
                "read again. Set up your keys (sign in once with them), then try again."
            )
        )
    others = [
        key
        for role in CONTACT_ROLES
        if role != Role.COORDINATOR
        for key in vault.held_team_keys(role)
    ]
    return vault.prepare_keyring([*coordinators, *others])


def add_verifier(
    *, kind: str, countries: list[str], name: str, contact: str, by: User
) -> IndividualVerifier:
    """Register an individual verifier; name and contact are sealed under a new keyring
    (see `_verifier_keyring`). Raises AttestationRefusedError, recording nothing."""
    prepared = _verifier_keyring()
    verifier = IndividualVerifier(
        kind=kind, countries=sorted(set(countries)), keyring=prepared.keyring, added_by=by
    )
    verifier.seal(prepared.key, name=name, contact=contact)
    with transaction.atomic():
        vault.save_prepared_keyring(prepared)
        verifier.save(force_insert=True)
        log_action(
            by,
            "partners.verifier.added",
            verifier,
            details={"kind": kind, "countries": len(verifier.countries)},
        )
    return verifier


def change_verifier(
    verifier: IndividualVerifier,
    *,
    kind: str,
    countries: list[str],
    name: str,
    contact: str,
    by: User,
    keys: vault.UnlockedKeys,
) -> IndividualVerifier:
    """Change a verifier's entry; name and contact are sealed again under its keyring, which
    the coordinator's keys must open (vault.KeysUnavailableError otherwise)."""
    key = vault.open_keyring(verifier.keyring, keys)
    with transaction.atomic():
        current = IndividualVerifier.objects.select_for_update().get(pk=verifier.pk)
        current.kind = kind
        current.countries = sorted(set(countries))
        current.seal(key, name=name, contact=contact)
        current.save(update_fields=["kind", "countries", "name", "contact"])
        log_action(by, "partners.verifier.changed", current, details={"kind": kind})
    return current


def set_verifier_active(verifier: IndividualVerifier, *, active: bool, by: User) -> int:
    """Deactivate a verifier (their unanswered links are cancelled, what those disclosed is
    erased) or make them active again. Returns how many links were cancelled."""
    with transaction.atomic():
        current = IndividualVerifier.objects.select_for_update().get(pk=verifier.pk)
        if current.active == active:
            return 0
        current.active = active
        current.save(update_fields=["active"])
        outstanding = list(
            AttestationRequest.objects.filter(
                verifier=current, answered_at__isnull=True, cancelled_at__isnull=True
            )
            if not active
            else []
        )
        for attestation in outstanding:
            cancel_attestation(attestation, by=by, reason="verifier_deactivated")
        log_action(
            by,
            "partners.verifier.deactivated" if not active else "partners.verifier.reactivated",
            current,
            details={"cancelled": len(outstanding)},
        )
    return len(outstanding)


def get_verifier_for_coordinator(user: User, pk: uuid.UUID) -> IndividualVerifier:
    """The verifier `pk`, for a coordinator; Http404 for anyone else or none."""
    if not user.has_role(Role.COORDINATOR):
        raise Http404
    verifier = IndividualVerifier.objects.filter(pk=pk).select_related("keyring").first()
    if verifier is None:
        raise Http404
    return verifier


def verifier_directory(request: HttpRequest, user: User) -> list[tuple[IndividualVerifier, str]]:
    """Every individual verifier, active first, with the name the reader's keys open ("" where
    they do not). Showing names is audited, once for the list."""
    listed = (
        IndividualVerifier.objects.select_related("keyring")
        .prefetch_related(vault.grants_prefetch("keyring"))
        .order_by("-active", "added_at", "pk")
    )
    rows = [(verifier, verifier_name(request, verifier)) for verifier in listed]
    shown = sum(1 for _verifier, name in rows if name)
    if shown:
        log_action(
            user,
            "partners.verifier.listed",
            object_type="individualverifier",
            details={"shown": shown},
        )
    return rows


def verifier_details(
    request: HttpRequest, verifier: IndividualVerifier, *, by: User
) -> dict[str, str] | None:
    """The verifier's name and contact for the signed-in reader (audited), or None when
    their keys do not open them (locked, not granted, or damaged)."""
    try:
        details = {
            "name": str(read_sealed(request, verifier, "name") or ""),
            "contact": str(read_sealed(request, verifier, "contact") or ""),
        }
    except (NotUnlockedError, vault.KeysUnavailableError, UnreadableError):
        return None
    log_action(by, "partners.verifier.read", verifier)
    return details

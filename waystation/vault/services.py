"""Every write to keys: personal keys, team keys, keyrings (case keys), grants, shredding.

The server never stores a usable private or case key: private keys are wrapped under a
password-derived key and a recovery key, team private keys are sealed to members' public
keys, case keys are sealed to team keys and people. Functions that must open something take
the caller's unlocked private key (`UnlockedKeys`, from the session) as an argument.
"""

import base64
import functools
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Prefetch, Q, QuerySet
from django.utils import timezone

from waystation.accounts.models import Membership, Team, User
from waystation.audit.services import log_action
from waystation.lib import rows

from . import crypto
from .models import Keyring, KeyringGrant, TeamKey, TeamKeyCopy, UserKey

RECOVERY_PURPOSE = b"waystation recovery key v1"


class KeysUnavailableError(Exception):
    """The caller holds no key that opens this: not granted, revoked, or shredded."""


class WrongSecretError(Exception):
    """A password or recovery key did not unwrap the private key."""


@dataclass
class UnlockedKeys:
    """A signed-in user's private key, and the team private keys opened with it (cached)."""

    user_id: uuid.UUID
    private_key: bytes
    _team_keys: dict[uuid.UUID, bytes] = field(default_factory=dict)

    def opened(self, team_key_id: uuid.UUID | None) -> bool:
        """Whether this team key is open already (no query to use it)."""
        return team_key_id in self._team_keys

    def team_private_key(self, team_key: TeamKey) -> bytes:
        if team_key.pk not in self._team_keys:
            copy = TeamKeyCopy.objects.filter(team_key=team_key, user_id=self.user_id).first()
            if copy is None:
                raise KeysUnavailableError("not a holder of this team key")
            self._team_keys[team_key.pk] = crypto.unseal(
                self.private_key, bytes(copy.sealed_private_key)
            )
        return self._team_keys[team_key.pk]


def _associated(kind: str, *ids: object) -> bytes:
    return ":".join([kind, *(str(i) for i in ids)]).encode()


def kdf_parameters() -> tuple[int, int]:
    return settings.VAULT_KDF_OPS, settings.VAULT_KDF_MEMORY_MIB * 1024 * 1024


def format_recovery_key(raw: bytes) -> str:
    text = base64.b32encode(raw).decode().rstrip("=")
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def parse_recovery_key(text: str) -> bytes | None:
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    try:
        raw = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except ValueError:
        return None
    return raw if len(raw) == crypto.KEY_BYTES else None


def _wrap_with_password(user: User, private_key: bytes, password: str) -> dict[str, object]:
    ops, mem = kdf_parameters()
    salt = crypto.new_salt()
    wrapping = crypto.password_key(password, salt, ops, mem)
    return {
        "password_wrapped": crypto.encrypt(
            wrapping, private_key, _associated("userkey-password", user.pk)
        ),
        "password_salt": salt,
        "kdf_ops": ops,
        "kdf_mem": mem,
    }


def _wrap_with_recovery(user: User, private_key: bytes, recovery: bytes) -> bytes:
    return crypto.encrypt(
        crypto.derive_key(recovery, RECOVERY_PURPOSE),
        private_key,
        _associated("userkey-recovery", user.pk),
    )


def has_keys(user: User) -> bool:
    return UserKey.objects.filter(user=user).exists()


def create_user_key(user: User, password: str) -> tuple[str, UnlockedKeys]:
    """Give `user` a keypair wrapped by their password and by a new recovery key.

    Returns the recovery key, formatted for printing (shown once, never stored), and the
    unlocked keys. Keys the user had before are replaced: their old grants no longer open,
    and colleagues re-share team keys at their next sign-in.
    """
    private, public = crypto.new_keypair()
    recovery = secrets.token_bytes(crypto.KEY_BYTES)
    with transaction.atomic():
        replaced = UserKey.objects.filter(user=user).delete()[0] > 0
        TeamKeyCopy.objects.filter(user=user).delete()
        KeyringGrant.objects.filter(user=user).delete()
        UserKey.objects.create(
            user=user,
            public_key=public,
            recovery_wrapped=_wrap_with_recovery(user, private, recovery),
            **_wrap_with_password(user, private, password),
        )
        log_action(user, "vault.user_key.replaced" if replaced else "vault.user_key.created", user)
        _seal_new_team_keys_to(user)
    return format_recovery_key(recovery), UnlockedKeys(user.pk, private)


def unlock_with_password(user: User, password: str) -> UnlockedKeys:
    """Unwrap the user's private key with their password. Re-wraps it when the server's
    Argon2id parameters have changed since. Raises WrongSecretError or KeysUnavailableError."""
    key = UserKey.objects.filter(user=user).first()
    if key is None:
        raise KeysUnavailableError("no keys yet")
    wrapping = crypto.password_key(password, bytes(key.password_salt), key.kdf_ops, key.kdf_mem)
    try:
        private = crypto.decrypt(
            wrapping, bytes(key.password_wrapped), _associated("userkey-password", user.pk)
        )
    except crypto.DecryptionError:
        raise WrongSecretError from None
    if (key.kdf_ops, key.kdf_mem) != kdf_parameters():
        with transaction.atomic():
            UserKey.objects.filter(pk=key.pk).update(**_wrap_with_password(user, private, password))
            log_action(user, "vault.user_key.rewrapped", user, details={"reason": "kdf"})
    return UnlockedKeys(user.pk, private)


def unlock_with_recovery_key(user: User, recovery_text: str, new_password: str) -> UnlockedKeys:
    """Unwrap with the recovery key and re-wrap under `new_password` (the user's current one).

    Raises WrongSecretError for a malformed or wrong recovery key, KeysUnavailableError
    without keys.
    """
    key = UserKey.objects.filter(user=user).first()
    if key is None:
        raise KeysUnavailableError("no keys yet")
    recovery = parse_recovery_key(recovery_text)
    if recovery is None:
        raise WrongSecretError
    try:
        private = crypto.decrypt(
            crypto.derive_key(recovery, RECOVERY_PURPOSE),
            bytes(key.recovery_wrapped),
            _associated("userkey-recovery", user.pk),
        )
    except crypto.DecryptionError:
        raise WrongSecretError from None
    with transaction.atomic():
        UserKey.objects.filter(pk=key.pk).update(**_wrap_with_password(user, private, new_password))
        log_action(user, "vault.user_key.recovered", user)
    return UnlockedKeys(user.pk, private)


def rewrap_for_new_password(keys: UnlockedKeys, user: User, new_password: str) -> None:
    """Wrap the unlocked private key under a new password (called on password change)."""
    with transaction.atomic():
        UserKey.objects.filter(user=user).update(
            **_wrap_with_password(user, keys.private_key, new_password)
        )
        log_action(user, "vault.user_key.rewrapped", user, details={"reason": "password"})


# --- Team keys ----------------------------------------------------------------------------


def current_team_key(team: Team) -> TeamKey | None:
    return TeamKey.objects.filter(team=team, retired_at__isnull=True).order_by("-version").first()


def _new_team_key(team: Team) -> tuple[TeamKey, bytes]:
    private, public = crypto.new_keypair()
    latest = TeamKey.objects.filter(team=team).aggregate(v=Max("version"))["v"] or 0
    TeamKey.objects.filter(team=team, retired_at__isnull=True).update(retired_at=timezone.now())
    team_key = TeamKey.objects.create(team=team, version=latest + 1, public_key=public)
    return team_key, private


def _seal_team_key(team_key: TeamKey, private: bytes, users: list[User]) -> int:
    keys = {k.user_id: bytes(k.public_key) for k in UserKey.objects.filter(user__in=users)}
    existing = set(TeamKeyCopy.objects.filter(team_key=team_key).values_list("user_id", flat=True))
    copies = [
        TeamKeyCopy(
            team_key=team_key, user_id=user_id, sealed_private_key=crypto.seal(pub, private)
        )
        for user_id, pub in keys.items()
        if user_id not in existing
    ]
    TeamKeyCopy.objects.bulk_create(copies)
    return len(copies)


def _key_holders(team: Team) -> QuerySet[User]:
    """The team's members who may hold its keys: active accounts not past their end date."""
    return User.objects.filter(memberships__team=team, is_active=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    )


def ensure_team_key(team: Team) -> TeamKey:
    """The team's current public key, creating a new version (sealed to every member who
    has keys) when no member holds the current one.

    Raises KeysUnavailableError when no member has keys: anything sealed to such a team key
    could never be read again.
    """
    with transaction.atomic():
        Team.objects.select_for_update().filter(pk=team.pk).first()
        team_key = current_team_key(team)
        if team_key is not None and team_key.copies.exists():
            return team_key
        members = list(_key_holders(team).filter(vault_key__isnull=False))
        if not members:
            raise KeysUnavailableError("no member of this team has keys yet")
        team_key, private = _new_team_key(team)
        _seal_team_key(team_key, private, members)
        log_action(None, "vault.team_key.created", team, details={"version": team_key.version})
        return team_key


def share_team_keys(keys: UnlockedKeys, *, by: User) -> int:
    """Seal every team key this user holds to fellow members who lack it (new members,
    members who reset their keys). Called when a member unlocks; returns copies made."""
    made = 0
    held = TeamKeyCopy.objects.filter(user_id=keys.user_id).select_related("team_key__team")
    for copy in held:
        team_key = copy.team_key
        if team_key.retired_at is not None and team_key.grants.count() == 0:
            continue
        members = list(
            _key_holders(team_key.team)
            .filter(vault_key__isnull=False)
            .exclude(team_key_copies__team_key=team_key)
        )
        if not members:
            continue
        with transaction.atomic():
            count = _seal_team_key(team_key, keys.team_private_key(team_key), members)
            for member in members:
                log_action(
                    by,
                    "vault.team_key.shared",
                    team_key.team,
                    details={"user": str(member.pk), "version": team_key.version},
                )
        made += count
    return made


def _seal_new_team_keys_to(user: User) -> None:
    """A member's first keys: teams whose current key nobody holds start a new version."""
    for membership in Membership.objects.filter(user=user).select_related("team"):
        team_key = current_team_key(membership.team)
        if team_key is None or not team_key.copies.exists():
            ensure_team_key(membership.team)


def remove_team_member_keys(team: Team, user: User, *, by: User | None) -> None:
    """Delete the user's copies of the team's keys and rotate the team key, so cases created
    from now on are sealed to a key the former member never held."""
    with transaction.atomic():
        removed = TeamKeyCopy.objects.filter(team_key__team=team, user=user).delete()[0]
        if removed:
            team_key, private = _new_team_key(team)
            remaining = list(_key_holders(team).exclude(pk=user.pk))
            _seal_team_key(team_key, private, remaining)
            log_action(
                by,
                "vault.team_key.rotated",
                team,
                details={"version": team_key.version, "removed": str(user.pk)},
            )


# --- Keyrings (case keys) -------------------------------------------------------------------


def create_keyring(
    *, teams: Sequence[Team] = (), users: Sequence[User] = (), by: User | None
) -> tuple[Keyring, bytes]:
    """A new case key sealed to the teams' current keys and to the users' public keys.

    Needs no unlocked key: anyone (even the public intake form) can seal a new case to
    the intake team. Returns the keyring and the key, to encrypt the first fields with.
    """
    key = crypto.new_key()
    with transaction.atomic():
        keyring = Keyring.objects.create()
        for team in teams:
            team_key = ensure_team_key(team)
            KeyringGrant.objects.create(
                keyring=keyring,
                team_key=team_key,
                sealed_key=crypto.seal(bytes(team_key.public_key), key),
            )
        for user in users:
            _grant_to_user(keyring, user, key)
        log_action(
            by, "vault.keyring.created", keyring, details={"teams": len(teams), "users": len(users)}
        )
    return keyring, key


@dataclass(frozen=True)
class PreparedKeyring:
    """A new case key already sealed to team keys: all the cryptography done before any
    transaction, so the write itself is short (the public form under a surge)."""

    keyring: Keyring  # not saved yet, but its id is set: fields can be sealed under it
    key: bytes
    grants: list[KeyringGrant]

    def rows(self) -> list[Keyring | KeyringGrant]:
        """The keyring and its grants, unsaved, for `waystation.lib.rows`."""
        return [self.keyring, *self.grants]


def prepare_keyring(
    team_keys: Sequence[TeamKey], *, keyring: Keyring | None = None
) -> PreparedKeyring:
    """Seal a new case key to these team keys (public keys only: no secret needed), for
    `keyring` (new, not saved yet) or a new one."""
    key = crypto.new_key()
    keyring = keyring or Keyring()
    grants = [
        KeyringGrant(
            keyring=keyring, team_key=tk, sealed_key=crypto.seal(bytes(tk.public_key), key)
        )
        for tk in team_keys
    ]
    return PreparedKeyring(keyring, key, grants)


def save_prepared_keyring(prepared: PreparedKeyring) -> Keyring:
    """Store a prepared keyring and its grants inside the caller's transaction. The caller's
    own audit entry for the record the keyring protects covers its creation (one entry per
    public request, not two, keeps the chain's single writer free in a surge)."""
    rows.insert(prepared.rows())
    return prepared.keyring


def held_team_keys(role: str) -> list[TeamKey]:
    """The current key of every team with `role` that at least one member holds."""
    # The public form asks this on every request: the ORM builds the SQL once per role
    # and process, and each call only runs it.
    sql, params = _held_team_keys_sql(role, connection.vendor)
    return rows.fetch(TeamKey, sql, params)


@functools.cache
def _held_team_keys_sql(role: str, vendor: str) -> tuple[str, tuple[Any, ...]]:
    query = (
        TeamKey.objects.filter(team__role=role, retired_at__isnull=True, copies__isnull=False)
        .distinct()
        .order_by("team__name")
    )
    sql, params = query.query.sql_with_params()
    return sql, tuple(params)


def _grant_to_user(keyring: Keyring, user: User, key: bytes) -> None:
    user_key = UserKey.objects.filter(user=user).first()
    if user_key is None:
        raise KeysUnavailableError("this person has no keys yet")
    KeyringGrant.objects.update_or_create(
        keyring=keyring,
        user=user,
        defaults={"sealed_key": crypto.seal(bytes(user_key.public_key), key)},
    )


def grants_prefetch(path: str) -> Prefetch:
    """For a list that opens many keyrings: their grants, prefetched along `path` (a lookup
    that ends at a keyring), so `open_keyring` reads them in one query for all."""
    return Prefetch(f"{path}__grants", queryset=KeyringGrant.objects.select_related("team_key"))


def open_keyring(keyring: Keyring, keys: UnlockedKeys) -> bytes:
    """The case key, opened through the user's own grant or a team key they hold.

    Raises KeysUnavailableError when neither exists (or the keyring was shredded).
    """
    if keyring.shredded_at is not None:
        raise KeysUnavailableError("shredded")
    # A list opening many keyrings prefetches their grants (`grants_prefetch`).
    grants = (
        keyring.grants.all()
        if "grants" in getattr(keyring, "_prefetched_objects_cache", {})
        else KeyringGrant.objects.filter(keyring=keyring).select_related("team_key")
    )
    # The user's own grant first, then team keys opened already: a list of cases sealed to
    # several teams would otherwise ask, case after case, for a copy of a team key the user
    # does not hold, before reaching the one they do.
    ordered = sorted(
        grants,
        key=lambda g: 0 if g.user_id == keys.user_id else 1 if keys.opened(g.team_key_id) else 2,
    )
    for grant in ordered:
        try:
            if grant.user_id == keys.user_id:
                return crypto.unseal(keys.private_key, bytes(grant.sealed_key))
            if grant.team_key is not None:
                return crypto.unseal(keys.team_private_key(grant.team_key), bytes(grant.sealed_key))
        except KeysUnavailableError:
            continue
    raise KeysUnavailableError("no grant opens this keyring")


def grant_keyring(
    keyring: Keyring,
    keys: UnlockedKeys,
    *,
    user: User | None = None,
    team: Team | None = None,
    by: User,
) -> None:
    """Seal the case key to another person or team; the granter must be able to open it."""
    key = open_keyring(keyring, keys)
    with transaction.atomic():
        if user is not None:
            _grant_to_user(keyring, user, key)
            log_action(by, "vault.keyring.granted", keyring, details={"user": str(user.pk)})
        if team is not None:
            team_key = ensure_team_key(team)
            KeyringGrant.objects.update_or_create(
                keyring=keyring,
                team_key=team_key,
                defaults={"sealed_key": crypto.seal(bytes(team_key.public_key), key)},
            )
            log_action(by, "vault.keyring.granted", keyring, details={"team": str(team.pk)})


def revoke_keyring(
    keyring: Keyring, *, user: User | None = None, team: Team | None = None, by: User | None
) -> int:
    """Delete the sealed copies held by a person or by every version of a team's key."""
    with transaction.atomic():
        grants = KeyringGrant.objects.filter(keyring=keyring)
        removed = 0
        if user is not None:
            removed += grants.filter(user=user).delete()[0]
            log_action(by, "vault.keyring.revoked", keyring, details={"user": str(user.pk)})
        if team is not None:
            removed += grants.filter(team_key__team=team).delete()[0]
            log_action(by, "vault.keyring.revoked", keyring, details={"team": str(team.pk)})
    return removed


def shred_keyring(keyring: Keyring, *, by: User | None) -> None:
    """Crypto-shredding: destroy every sealed copy of the case key and its blind-index
    tokens. Every copy of its ciphertext, backups included, becomes unreadable."""
    from . import blind, files

    with transaction.atomic():
        locked = Keyring.objects.select_for_update().get(pk=keyring.pk)
        grants = KeyringGrant.objects.filter(keyring=locked).delete()[0]
        tokens = blind.forget_keyring(locked)
        stored = list(locked.files.all())
        locked.shredded_at = timezone.now()
        locked.save(update_fields=["shredded_at"])
        log_action(
            by,
            "vault.keyring.shredded",
            locked,
            details={"grants": grants, "tokens": tokens, "files": len(stored)},
        )

        def delete_stored() -> None:
            for stored_file in stored:
                files.delete_file(stored_file)

        transaction.on_commit(delete_stored)
    keyring.shredded_at = locked.shredded_at

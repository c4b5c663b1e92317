import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UserKey(models.Model):
    """A staff member's X25519 keypair. The private key is stored only wrapped: under a key
    derived from their password (Argon2id, parameters recorded here) and under their one-time
    recovery key."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vault_key"
    )
    public_key = models.BinaryField()
    password_wrapped = models.BinaryField()
    password_salt = models.BinaryField()
    kdf_ops = models.PositiveIntegerField()
    kdf_mem = models.PositiveBigIntegerField()
    recovery_wrapped = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"key of {self.user_id}"


class TeamKey(models.Model):
    """One version of a team's keypair. Removing a member retires the current version and
    starts a new one, so cases created afterwards are sealed to a key they never held."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="keys")
    version = models.PositiveIntegerField()
    public_key = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "version"], name="team_key_version_unique"),
        ]

    def __str__(self) -> str:
        return f"team {self.team_id} key v{self.version}"


class TeamKeyCopy(models.Model):
    """A team private key sealed to one member's public key."""

    team_key = models.ForeignKey(TeamKey, on_delete=models.CASCADE, related_name="copies")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_key_copies"
    )
    sealed_private_key = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team_key", "user"], name="team_key_copy_unique"),
        ]

    def __str__(self) -> str:
        return f"copy of {self.team_key_id} for {self.user_id}"


class Keyring(models.Model):
    """The symmetric key of one case (or other protected record), known to nobody but the
    holders of its grants. Destroying the grants destroys the key: crypto-shredding."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    shredded_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"keyring {self.id}"


class KeyringGrant(models.Model):
    """The keyring's key sealed to one team key version or to one person."""

    keyring = models.ForeignKey(Keyring, on_delete=models.CASCADE, related_name="grants")
    team_key = models.ForeignKey(
        TeamKey, on_delete=models.CASCADE, null=True, blank=True, related_name="grants"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="keyring_grants",
    )
    sealed_key = models.BinaryField()
    granted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(team_key__isnull=True, user__isnull=False)
                | Q(team_key__isnull=False, user__isnull=True),
                name="keyring_grant_one_holder",
            ),
            models.UniqueConstraint(
                fields=["keyring", "team_key"],
                condition=Q(team_key__isnull=False),
                name="keyring_grant_team_unique",
            ),
            models.UniqueConstraint(
                fields=["keyring", "user"],
                condition=Q(user__isnull=False),
                name="keyring_grant_user_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"grant on {self.keyring_id}"


class BlindIndexToken(models.Model):
    """A keyed hash of one normalized value (phone, e-mail, name token), for duplicate
    finding without decrypting. Only the kinds listed in Kind are ever indexed."""

    class Kind(models.TextChoices):
        PHONE = "phone", _("phone")
        EMAIL = "email", _("e-mail")
        NAME = "name", _("name token")
        NAME_SOUND = "name_sound", _("name sound")
        FULL_NAME = "full_name", _("full name")
        # The SHA-256 of an evidence file, keyed: the same file in two requests.
        EVIDENCE = "evidence", _("evidence file")
        # One band of a keyed MinHash of the narrative: near-identical narratives share one.
        NARRATIVE = "narrative", _("narrative band")

    keyring = models.ForeignKey(Keyring, on_delete=models.CASCADE, related_name="blind_tokens")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    token = models.CharField(max_length=32)
    key_version = models.PositiveSmallIntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["kind", "token"], name="blind_token_lookup")]

    def __str__(self) -> str:
        return f"{self.kind} token"


class EncryptedFile(models.Model):
    """A file stored encrypted under a random name. Its own key, name, type and size are
    sealed with the keyring's key; the stored bytes are a secretstream of chunks."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    keyring = models.ForeignKey(Keyring, on_delete=models.CASCADE, related_name="files")
    storage_name = models.CharField(max_length=100, unique=True)
    sealed_meta = models.BinaryField()
    stored_size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"file {self.id}"

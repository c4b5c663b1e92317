import hashlib
import hmac
import uuid
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin


class Role(models.TextChoices):
    INTAKE_VOLUNTEER = "intake_volunteer", _("Intake volunteer")
    CASEWORKER = "caseworker", _("Caseworker")
    VERIFIER = "verifier", _("Verifier")
    COMMITTEE_MEMBER = "committee_member", _("Committee member")
    FINANCE = "finance", _("Finance")
    COORDINATOR = "coordinator", _("Coordinator")
    PARTNER = "partner", _("Partner organization")
    SUPPORT_VOLUNTEER = "support_volunteer", _("Support volunteer")
    HOST = "host", _("Host")
    SURGE_VOLUNTEER = "surge_volunteer", _("Surge volunteer")


def normalize_email(email: str) -> str:
    return email.strip().lower()


class UserManager(BaseUserManager["User"]):
    def create_user(self, email: str, password: str | None = None, **fields: Any) -> "User":
        user = self.model(email=normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> "User":
        # Waystation has no superusers: the first coordinator is made with create_staff.
        raise NotImplementedError("Use `manage.py create_staff --role coordinator`.")


class User(AbstractBaseUser):
    """A staff or partner account. Roles come from the teams the user belongs to."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(_("e-mail"), unique=True)
    display_name = models.CharField(_("display name"), max_length=80)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    must_change_password = models.BooleanField(default=False)
    is_demo = models.BooleanField(default=False)
    locked_at = models.DateTimeField(_("locked"), null=True, blank=True)
    # Surge volunteer accounts end on a date: no sign-in, no session after it.
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    # Bumped to end every session of the user at once (see get_session_auth_hash).
    session_epoch = models.PositiveIntegerField(default=0)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    class Meta:
        ordering = ["display_name", "email"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.email

    def get_session_auth_hash(self) -> str:
        # Django ends a session whose stored hash no longer matches: mixing in the epoch
        # lets a second-factor change, a lock or a deactivation end every session.
        return salted_hmac(
            "waystation.accounts.User.session",
            f"{self.password}:{self.session_epoch}",
            algorithm="sha256",
        ).hexdigest()

    @property
    def roles(self) -> frozenset[str]:
        cached: frozenset[str] | None = getattr(self, "_roles", None)
        if cached is None:
            cached = frozenset(
                Team.objects.filter(memberships__user=self).values_list("role", flat=True)
            )
            self._roles = cached
        return cached

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def has_expired(self, now: datetime | None = None) -> bool:
        """True once the account's end date (`expires_at`) has come."""
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    @property
    def password_change_required(self) -> bool:
        return self.must_change_password or (self.is_demo and not settings.DEMO_MODE)


class Team(models.Model):
    """A group of users sharing one role (the intake team, the committee, ...)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=80, unique=True)
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}"


class LoginThrottle(models.Model):
    """Failed sign-ins per typed e-mail address, known or not, so both look the same."""

    key = models.CharField(max_length=64, unique=True)
    failures = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField(null=True, blank=True)
    blocked_until = models.DateTimeField(null=True, blank=True)
    lockouts = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"throttle {self.key[:8]}"

    @staticmethod
    def key_for(email: str) -> str:
        secret = hashlib.blake2b(
            settings.SECRET_KEY.encode(), person=b"ws-login-thrott", digest_size=32
        ).digest()
        return hmac.new(secret, normalize_email(email).encode(), hashlib.sha256).hexdigest()

    def blocked_for(self, now: datetime) -> int:
        if self.blocked_until and self.blocked_until > now:
            return max(1, int((self.blocked_until - now).total_seconds() + 0.999))
        return 0


class RecoveryCodeDevice(ThrottlingMixin, Device):
    """Single-use recovery codes, stored as hashes only."""

    class Meta(Device.Meta):
        verbose_name = _("recovery codes")

    def verify_token(self, token: str) -> bool:
        verify_allowed, _reason = self.verify_is_allowed()
        if not verify_allowed:
            return False
        digest = RecoveryCode.hash_code(token)
        used = RecoveryCode.objects.filter(device=self, digest=digest).delete()[0]
        if used:
            self.throttle_reset()
            return True
        self.throttle_increment()
        return False

    def get_throttle_factor(self) -> int:
        return 1

    @property
    def remaining(self) -> int:
        return self.codes.count()


class RecoveryCode(models.Model):
    device = models.ForeignKey(RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=64)

    def __str__(self) -> str:
        return "recovery code"

    @staticmethod
    def normalize(token: str) -> str:
        return "".join(ch for ch in token.lower() if ch.isalnum())

    @classmethod
    def hash_code(cls, token: str) -> str:
        # Codes carry 60 random bits and verification is throttled, so a keyed fast hash
        # is enough; the key keeps a database copy from being checked offline.
        return salted_hmac(
            "waystation.accounts.RecoveryCode", cls.normalize(token), algorithm="sha256"
        ).hexdigest()


class Agreement(models.Model):
    """One published version of a confidentiality agreement, for everyone or for one role."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    role = models.CharField(_("role"), max_length=32, choices=Role.choices, blank=True)
    version = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("text"))
    published_at = models.DateTimeField(_("published"), default=timezone.now)
    published_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["role", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["role", "version"], name="agreement_version_unique"),
        ]
        verbose_name = _("confidentiality agreement")

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"


class AgreementAcceptance(models.Model):
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="acceptances")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="acceptances")
    accepted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agreement", "user"], name="acceptance_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} accepted {self.agreement}"

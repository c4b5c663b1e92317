import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from waystation.vault.fields import SealedField, SealedModel


class Risk(models.TextChoices):
    NOW = "now", _("I am in danger now")
    WEEKS = "weeks", _("I could be in danger within weeks")
    ONGOING = "ongoing", _("The danger is ongoing but not immediate")


class Document(models.TextChoices):
    NONE = "none", _("None")
    NATIONAL_ID = "national_id", _("National identity card")
    VALID_PASSPORT = "valid_passport", _("Valid passport")
    EXPIRED_PASSPORT = "expired_passport", _("Expired passport")
    OTHER = "other", _("Other")


class Channel(models.TextChoices):
    SIGNAL = "signal", "Signal"
    WHATSAPP = "whatsapp", "WhatsApp"
    TELEGRAM = "telegram", "Telegram"
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone call or SMS")
    OTHER = "other", _("Other")


class HelpRequest(SealedModel):
    """A request for help as the person sent it. Operational fields (country, region, risk,
    language, dates) are plaintext for sorting and counting; everything else is sealed to
    the intake team and never shown back to the person."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    keyring = models.ForeignKey("vault.Keyring", on_delete=models.PROTECT, related_name="+")
    # A reference staff can say aloud; random, so it reveals nothing about volumes.
    reference = models.CharField(max_length=12, unique=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    country = models.CharField(max_length=2)
    region = models.CharField(max_length=80, blank=True)
    risk = models.CharField(max_length=8, choices=Risk.choices)
    language = models.CharField(max_length=8)
    consented_at = models.DateTimeField()
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="duplicates"
    )
    # Follow-up: a keyed hash of the code finds the request; a key derived from the code
    # (never stored) opens the replies sealed to `person_public_key`.
    follow_up_lookup = models.CharField(max_length=64, unique=True)
    person_public_key = models.BinaryField()
    follow_up_used_at = models.DateTimeField(default=timezone.now)
    # The person's messages and files are sealed to this inbox key; its private half is
    # sealed with the case key, so only staff who can open the case read them.
    inbox_public_key = models.BinaryField()
    inbox_private_key = SealedField()

    name = SealedField()
    nationalities = SealedField()
    narrative = SealedField()
    organization = SealedField()
    # The organization chosen from the configured list (INTAKE_PARTNERS), if any.
    partner = SealedField()
    documents = SealedField()
    contact = SealedField()

    class Meta:
        indexes = [models.Index(fields=["risk", "received_at"], name="request_triage")]

    def __str__(self) -> str:
        return self.reference


class SubmissionToken(models.Model):
    """A form token already used: a second POST of the same form creates nothing.

    For a few minutes it also holds the request's follow-up code encrypted under a key
    derived from the form token itself (which is not stored), so a form sent twice, by a
    double click or a reload after a lost answer, shows the same code again."""

    token_hash = models.CharField(max_length=64, unique=True)
    used_at = models.DateTimeField(default=timezone.now)
    sealed_code = models.BinaryField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["used_at"], name="intake_token_used_at"),
            models.Index(
                fields=["used_at"],
                condition=models.Q(sealed_code__isnull=False),
                name="intake_token_code_held",
            ),
        ]

    def __str__(self) -> str:
        return "used form token"


class Message(models.Model):
    """A message in the thread between the person and staff.

    Always sealed to the case key for staff. A staff message is also sealed to the person's
    follow-up key, so they can read it; the person's own messages are never shown back.
    """

    class Sender(models.TextChoices):
        PERSON = "person", _("person")
        STAFF = "staff", _("staff")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    request = models.ForeignKey(HelpRequest, on_delete=models.CASCADE, related_name="messages")
    sender = models.CharField(max_length=8, choices=Sender.choices)
    sent_at = models.DateTimeField(default=timezone.now)
    for_staff = models.BinaryField()
    for_person = models.BinaryField(null=True, blank=True)
    deleted_by_person_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sent_at"]

    def __str__(self) -> str:
        return f"{self.sender} message"


class Evidence(models.Model):
    """A file the person sent: the original, kept encrypted, and for images a derivative
    stripped of EXIF, GPS and XMP data for staff to look at."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    request = models.ForeignKey(HelpRequest, on_delete=models.CASCADE, related_name="evidence")
    original = models.OneToOneField(
        "vault.EncryptedFile", on_delete=models.PROTECT, related_name="+"
    )
    derivative = models.OneToOneField(
        "vault.EncryptedFile", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The files' own keys, sealed to the request's inbox key.
    sealed_keys = models.BinaryField()
    received_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return "evidence"

"""Verification: each evidence item reviewed (typed, checked, noted), and the decision on a
case, which for "verified" takes two different staff members."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from waystation.vault.fields import SealedField, SealedModel


class EvidenceReview(SealedModel):
    class Kind(models.TextChoices):
        FAMILY_LETTER = "family_letter", _("Letter from friends or family")
        PARTNER_LETTER = "partner_letter", _("Letter from a current or past partner")
        POLICE_RECORD = "police_record", _("Police or arrest record")
        MEDICAL_RECORD = "medical_record", _("Medical record of injuries")
        MEDIA_REPORT = "media_report", _("Media report naming the person")
        PHOTO = "photo", _("Photo")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        PENDING = "pending", _("Not reviewed yet")
        CONSISTENT = "consistent", _("Consistent with the request")
        DOUBTFUL = "doubtful", _("Doubtful")
        REJECTED = "rejected", _("Not genuine or not relevant")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    evidence = models.OneToOneField(
        "intake.Evidence", on_delete=models.CASCADE, related_name="review"
    )
    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, related_name="evidence_reviews"
    )
    keyring = models.ForeignKey("vault.Keyring", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    status = models.CharField(
        _("review"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    notes = SealedField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["case", "status"], name="evidence_review_case")]

    def __str__(self) -> str:
        return f"review of {self.evidence_id}"


class Decision(SealedModel):
    """A verification decision. "Verified" is proposed by one staff member and confirmed by a
    different one (four eyes); declined and more-information decisions take one. A verified
    decision is due for review after a set time or when a new signal appears."""

    class Outcome(models.TextChoices):
        VERIFIED = "verified", _("Verified")
        DECLINED = "declined", _("Declined")
        MORE_INFORMATION = "more_info", _("More information needed")

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed, awaiting a second reviewer")
        DECIDED = "decided", _("Decided")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        SUPERSEDED = "superseded", _("Superseded by a later decision")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="decisions")
    keyring = models.ForeignKey("vault.Keyring", on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(_("decision"), max_length=12, choices=Outcome.choices)
    status = models.CharField(max_length=12, choices=Status.choices)
    # The staff member's summary of sources and reasons, sealed.
    summary = SealedField()
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    proposed_at = models.DateTimeField(default=timezone.now)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    review_due_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            # Four eyes, in the database as well as in the service.
            models.CheckConstraint(
                condition=~models.Q(confirmed_by=models.F("proposed_by")),
                name="decision_four_eyes",
            ),
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(status="proposed"),
                name="decision_one_open_proposal",
            ),
        ]
        indexes = [
            models.Index(fields=["case", "status"], name="decision_case_status"),
            models.Index(fields=["status", "review_due_on"], name="decision_review_due"),
        ]

    def __str__(self) -> str:
        return f"{self.outcome} on {self.case_id}"

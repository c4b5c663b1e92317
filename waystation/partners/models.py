"""The partner network: trusted organizations with a data-sharing agreement, the people
they refer, outside individuals who can vouch, and attestation requests sent to either.

Names of organizations, their kind, countries and trust level are plaintext for the staff
registry; how to reach a partner or an individual verifier is sealed (a leaked contact list
of LGBTQI+ organizations in a criminalizing country endangers them too).
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from waystation.vault.fields import SealedField, SealedModel


class Partner(SealedModel):
    class Kind(models.TextChoices):
        LGBTQI_ORGANIZATION = "lgbtqi_org", _("LGBTQI+ organization in a country")
        NETWORK_MEMBER = "network_member", _("Member of an international LGBTQI+ network")
        SHELTER = "shelter", _("Shelter")
        LEGAL_AID = "legal_aid", _("Legal aid")
        INTERGOVERNMENTAL = "intergovernmental", _("Intergovernmental body")
        RELOCATED_COMMUNITY = "relocated", _("Community of people already relocated")

    class Trust(models.IntegerChoices):
        NEW = 1, _("New: vouches need a second source")
        ESTABLISHED = 2, _("Established")
        HIGH = 3, _("High: long record of reliable referrals")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    # ISO 3166 alpha-2 codes of the countries it serves, e.g. ["NG", "GH"].
    countries = models.JSONField(_("countries served"), default=list)
    trust = models.PositiveSmallIntegerField(
        _("trust level"), choices=Trust.choices, default=Trust.NEW
    )
    keyring = models.ForeignKey("vault.Keyring", on_delete=models.PROTECT, related_name="+")
    # A safe way to reach them: channel and handle, sealed.
    contact = SealedField()
    # The partner's own accounts (role partner) are the members of this team.
    team = models.OneToOneField(
        "accounts.Team", on_delete=models.PROTECT, null=True, blank=True, related_name="partner"
    )
    compromised_at = models.DateTimeField(_("flagged compromised"), null=True, blank=True)
    compromised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PartnerAgreement(models.Model):
    """A signed data-sharing and confidentiality agreement, by version. Without one in force
    a partner can neither refer nor be asked to vouch."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="agreements")
    version = models.CharField(_("agreement version"), max_length=20)
    signed_on = models.DateField(_("signed on"))
    expires_on = models.DateField(_("expires on"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "version"], name="partner_agreement_version"
            ),
            models.CheckConstraint(
                condition=models.Q(expires_on__gt=models.F("signed_on")),
                name="partner_agreement_dates",
            ),
        ]
        indexes = [models.Index(fields=["partner", "expires_on"], name="partner_agreement_live")]

    def __str__(self) -> str:
        return f"{self.partner_id} v{self.version}"


class Referral(models.Model):
    """A request for help a partner sent on a person's behalf, with the partner's word that
    the person belongs to its community."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="referrals")
    request = models.OneToOneField(
        "intake.HelpRequest", on_delete=models.PROTECT, related_name="referral"
    )
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    member_confirmed = models.BooleanField(default=False)
    referred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["partner", "referred_at"], name="referral_partner_time")]

    def __str__(self) -> str:
        return f"referral {self.id}"


class IndividualVerifier(SealedModel):
    """Someone outside the organization, without an account, who can vouch for people: a
    person already relocated, a member of an international network. Name and contact are
    sealed."""

    class Kind(models.TextChoices):
        RELOCATED = "relocated", _("Person already relocated")
        NETWORK_MEMBER = "network_member", _("Member of an international LGBTQI+ network")
        OTHER = "other", _("Other trusted person")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    countries = models.JSONField(_("countries known"), default=list)
    keyring = models.ForeignKey("vault.Keyring", on_delete=models.PROTECT, related_name="+")
    name = SealedField()
    contact = SealedField()
    active = models.BooleanField(default=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"verifier {self.id}"


class AttestationRequest(models.Model):
    """ "Do you know this person?", sent to a partner or an individual verifier as an
    expiring, single-use link. Only the SHA-256 of the link's token is stored. What the
    caseworker chose to disclose is sealed under a key derived from the token, so only the
    link opens it; the answer is sealed to the request's inbox key, so only staff open it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="attestations")
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, null=True, blank=True, related_name="attestations"
    )
    verifier = models.ForeignKey(
        IndividualVerifier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="attestations",
    )
    token_hash = models.CharField(max_length=64, unique=True)
    # Names of the fields disclosed (never their values), e.g. ["first_name", "region"].
    disclosed_fields = models.JSONField(default=list)
    disclosed = models.BinaryField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    opened_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    answer = models.BinaryField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(partner__isnull=False, verifier__isnull=True)
                | models.Q(partner__isnull=True, verifier__isnull=False),
                name="attestation_one_addressee",
            )
        ]
        indexes = [models.Index(fields=["case", "created_at"], name="attestation_case_time")]

    def __str__(self) -> str:
        return f"attestation {self.id}"

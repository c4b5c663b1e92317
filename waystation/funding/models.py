"""Money for cases: funds and their restrictions, exchange rates, funding requests with
their line items, the Case Committee's meetings (agenda, rubric, scores, conflicts, votes,
decisions), allocations, disbursements and their receipts, and the double-entry ledger behind
them.

Amounts are `Decimal` with their currency beside them, never floats. Operational figures
(amounts, categories, countries, states) are plaintext so they can be summed and reported;
what could identify the person (the pseudonymized summary a caseworker writes, minutes,
payment references, receipt files) is sealed under the request's own keyring, shared with the
committee, finance and the case's team, never under the case key.
"""

import uuid
from decimal import Decimal
from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from waystation.audit.models import AppendOnlyError
from waystation.vault.fields import SealedField, SealedModel

# Three decimals: some currencies have them (BHD, KWD, OMR); each amount is rounded to its
# own currency's minor unit (`money.round_to`).
MONEY: dict[str, Any] = {"max_digits": 15, "decimal_places": 3}


class Category(models.TextChoices):
    """What a line item, a fund restriction and a payment are for."""

    AIRFARE = "airfare", _("Airfare")
    VISA_FEE = "visa_fee", _("Visa fee")
    PASSPORT_FEE = "passport_fee", _("Passport fee")
    LOCAL_TRANSPORT = "local_transport", _("Local transport")
    ACCOMMODATION = "accommodation", _("Accommodation")
    INCIDENTALS = "incidentals", _("Incidentals")
    STIPEND = "stipend", _("Stipend")
    OTHER = "other", _("Other")


class Fund(models.Model):
    """Money from one source, in one currency, for a period, with what it may pay for:
    countries, pathways, cost categories and crisis responses (an empty list: any)."""

    class Source(models.TextChoices):
        DONATIONS = "donations", _("Donations")
        GOVERNMENT = "government", _("Government partnership")
        FOUNDATION = "foundation", _("Foundation grant")
        OTHER = "other", _("Other")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=120, unique=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    currency = models.CharField(_("currency"), max_length=3)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    countries = models.JSONField(_("countries"), default=list, blank=True)
    pathways = models.JSONField(_("pathways"), default=list, blank=True)
    categories = models.JSONField(_("cost categories"), default=list, blank=True)
    crises = models.ManyToManyField(
        "cases.CrisisResponse", blank=True, related_name="funds", verbose_name=_("crisis responses")
    )
    # How far below zero its available money may go: 0 unless a coordinator allows an
    # overdraft, with a reason (audited).
    overdraft_limit = models.DecimalField(_("overdraft allowed"), default=Decimal("0"), **MONEY)
    overdraft_reason = models.CharField(
        _("why an overdraft is allowed"), max_length=300, blank=True
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(overdraft_limit__gte=0), name="fund_overdraft_not_negative"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Envelope(models.Model):
    """A budget within a fund for a programme (a pathway) or a crisis response: what the
    fund may commit to the requests matching it, at most."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    fund = models.ForeignKey(Fund, on_delete=models.CASCADE, related_name="envelopes")
    name = models.CharField(_("name"), max_length=120)
    cap = models.DecimalField(_("budget"), **MONEY)
    crisis = models.ForeignKey(
        "cases.CrisisResponse",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("crisis response"),
    )
    pathway = models.CharField(_("pathway"), max_length=24, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(cap__gte=0), name="envelope_cap")]

    def __str__(self) -> str:
        return self.name


class ExchangeRate(models.Model):
    """On `on`, one unit of `currency` was worth `rate` units of the reporting currency
    (settings.FUNDING_CURRENCY). A conversion uses the newest rate on or before its day."""

    id = models.BigAutoField(primary_key=True)
    currency = models.CharField(_("currency"), max_length=3)
    on = models.DateField(_("date"))
    rate = models.DecimalField(_("rate"), max_digits=20, decimal_places=10)
    source = models.CharField(_("source"), max_length=200, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    entered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["currency", "on"], name="exchange_rate_unique"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchange_rate_positive"),
        ]
        indexes = [models.Index(fields=["currency", "-on"], name="exchange_rate_newest")]

    def __str__(self) -> str:
        return f"{self.currency} {self.on}: {self.rate}"


class FundingRequest(SealedModel):
    """What a case needs, as line items, and a pseudonymized summary for the committee,
    sealed under the request's own keyring (committee, finance and the case's team). Its
    reference is not the case's: the committee never learns which case it is."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        SCHEDULED = "scheduled", _("On an agenda")
        FUNDED = "funded", _("Funded")
        FUNDED_PARTLY = "funded_partly", _("Funded in part")
        DEFERRED = "deferred", _("Deferred")
        DECLINED = "declined", _("Declined")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(max_length=12, unique=True)
    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="funding_requests"
    )
    keyring = models.ForeignKey("vault.Keyring", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    # Operational copies for restrictions and reports: where the person is, the plan's
    # pathway and the crisis response, as they stood when the request was submitted.
    country = models.CharField(max_length=2)
    pathway = models.CharField(max_length=24, blank=True)
    crisis = models.ForeignKey(
        "cases.CrisisResponse", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The total in the reporting currency, converted at the rates of `rates_on`.
    total = models.DecimalField(null=True, blank=True, **MONEY)
    rates_on = models.DateField(null=True, blank=True)
    summary = SealedField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["status", "submitted_at"], name="funding_request_status")]

    def __str__(self) -> str:
        return self.reference


class LineItem(models.Model):
    """One cost of a request: its estimate, and later what it actually cost."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    request = models.ForeignKey(FundingRequest, on_delete=models.CASCADE, related_name="items")
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    currency = models.CharField(_("currency"), max_length=3)
    estimate = models.DecimalField(_("estimate"), **MONEY)
    actual = models.DecimalField(_("actual"), null=True, blank=True, **MONEY)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(estimate__gt=0), name="line_item_estimate"),
            models.CheckConstraint(
                condition=Q(actual__isnull=True) | Q(actual__gte=0), name="line_item_actual"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category} {self.estimate} {self.currency}"


class Criterion(models.Model):
    """One line of the committee's scoring rubric, kept by coordinators."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=120)
    description = models.CharField(_("what it weighs"), max_length=300, blank=True)
    weight = models.DecimalField(_("weight"), max_digits=5, decimal_places=2)
    # Scores run from 0 to `scale`.
    scale = models.PositiveSmallIntegerField(_("highest score"), default=5)
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(weight__gt=0), name="criterion_weight"),
            models.CheckConstraint(condition=Q(scale__gte=1), name="criterion_scale"),
        ]

    def __str__(self) -> str:
        return self.name


class Meeting(SealedModel):
    """A Case Committee meeting: its agenda, the rule of how many members must vote, and
    minutes sealed under its own keyring (the committee teams')."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        OPEN = "open", pgettext_lazy("meeting", "Open")
        CLOSED = "closed", _("Closed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    held_on = models.DateField(_("date"))
    quorum = models.PositiveSmallIntegerField(_("quorum (votes needed)"))
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PLANNED)
    keyring = models.ForeignKey("vault.Keyring", on_delete=models.PROTECT, related_name="+")
    minutes = SealedField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-held_on"]
        constraints = [models.CheckConstraint(condition=Q(quorum__gte=1), name="meeting_quorum")]

    def __str__(self) -> str:
        return f"meeting {self.held_on}"


class Outcome(models.TextChoices):
    # Contexts: "Fund" is also a noun, "Open" and "Received" other things elsewhere.
    FUND = "fund", pgettext_lazy("decision", "Fund")
    FUND_PARTLY = "fund_partly", _("Fund in part")
    DEFER = "defer", _("Defer")
    DECLINE = "decline", _("Decline")


class DeclineReason(models.TextChoices):
    NO_FUNDS = "no_funds", _("No funds for it now")
    OUTSIDE_CRITERIA = "outside_criteria", _("Outside the funding criteria")
    PLAN_NOT_FEASIBLE = "plan_not_feasible", _("The plan is not feasible")
    FUNDED_ELSEWHERE = "funded_elsewhere", _("Funded from elsewhere")
    OTHER = "other", _("Other")


class AgendaItem(SealedModel):
    """A request on a meeting's agenda, and the committee's decision on it; its minutes and
    the reason for not following the proposed allocation sealed under the meeting's
    keyring."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="items")
    keyring = models.ForeignKey("vault.Keyring", on_delete=models.PROTECT, related_name="+")
    minutes = SealedField()
    request = models.ForeignKey(FundingRequest, on_delete=models.PROTECT, related_name="agenda")
    position = models.PositiveSmallIntegerField(default=0)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    # What the committee granted, in the reporting currency.
    granted = models.DecimalField(null=True, blank=True, **MONEY)
    reason = models.CharField(max_length=20, choices=DeclineReason.choices, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # A decision taken again: the item whose decision this one reconsiders.
    reconsiders = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reconsidered_by"
    )
    # Why the allocation the committee adopted differs from the one proposed, if it does.
    override_reason = SealedField()
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "request"], name="agenda_item_unique"),
            models.CheckConstraint(
                condition=~Q(outcome="decline") | ~Q(reason=""), name="agenda_decline_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} at {self.meeting_id}"


class Conflict(models.Model):
    """A member's declared conflict of interest on an item: they neither score nor vote."""

    id = models.BigAutoField(primary_key=True)
    item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="conflicts")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    declared_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "member"], name="conflict_unique")]

    def __str__(self) -> str:
        return f"conflict of {self.member_id} on {self.item_id}"


class Score(models.Model):
    id = models.BigAutoField(primary_key=True)
    item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="scores")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="+")
    value = models.PositiveSmallIntegerField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "member", "criterion"], name="score_unique")
        ]

    def __str__(self) -> str:
        return f"{self.value} on {self.criterion_id}"


class Vote(models.Model):
    id = models.BigAutoField(primary_key=True)
    item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="votes")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    choice = models.CharField(max_length=12, choices=Outcome.choices)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "member"], name="vote_unique")]

    def __str__(self) -> str:
        return f"{self.choice} on {self.item_id}"


class Commitment(models.Model):
    """Money a decision sets aside from one fund for one category of a request, in the
    fund's currency (and what it was in the reporting currency)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    item = models.ForeignKey(AgendaItem, on_delete=models.PROTECT, related_name="commitments")
    request = models.ForeignKey(
        FundingRequest, on_delete=models.PROTECT, related_name="commitments"
    )
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="commitments")
    category = models.CharField(max_length=16, choices=Category.choices)
    amount = models.DecimalField(**MONEY)
    amount_reporting = models.DecimalField(**MONEY)
    # What is still set aside: less what was paid or given back.
    open_amount = models.DecimalField(**MONEY)
    # What went back to the fund (a reconsidered decision, an unspent remainder).
    given_back = models.DecimalField(default=Decimal("0"), **MONEY)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="commitment_amount"),
            models.CheckConstraint(
                condition=Q(open_amount__gte=0) & Q(open_amount__lte=F("amount")),
                name="commitment_open_amount",
            ),
            # What is still open and what went back never add up to more than was set aside.
            models.CheckConstraint(
                condition=Q(given_back__gte=0) & Q(open_amount__lte=F("amount") - F("given_back")),
                name="commitment_given_back",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} from {self.fund_id} for {self.category}"


class Disbursement(SealedModel):
    """A payment towards a request: approved by the committee's decision, authorized by one
    finance member, released by another, confirmed received by a caseworker. Its reference
    (a transfer or remittance number, a ticket number) is sealed and never names the person."""

    class Channel(models.TextChoices):
        BANK = "bank", _("Bank transfer")
        REMITTANCE = "remittance", _("Remittance service")
        INTERMEDIARY = "intermediary", _("Trusted intermediary")
        PURCHASE = "purchase", _("Direct purchase (tickets, fees)")

    class Status(models.TextChoices):
        APPROVED = "approved", _("Approved")
        AUTHORIZED = "authorized", _("Authorized")
        RELEASED = "released", _("Released")
        RECEIVED = "received", pgettext_lazy("payment", "Received")
        CANCELLED = "cancelled", _("Cancelled")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    commitment = models.ForeignKey(
        Commitment, on_delete=models.PROTECT, related_name="disbursements"
    )
    request = models.ForeignKey(
        FundingRequest, on_delete=models.PROTECT, related_name="disbursements"
    )
    keyring = models.ForeignKey("vault.Keyring", on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(**MONEY)
    # Chosen by finance when authorizing.
    channel = models.CharField(max_length=16, choices=Channel.choices, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.APPROVED)
    reference = SealedField()
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    authorized_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    authorized_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    reissue_of = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reissued_as"
    )
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="disbursement_amount"),
            # Segregation of duties: whoever authorized a payment does not release it.
            models.CheckConstraint(
                condition=Q(released_by__isnull=True) | ~Q(released_by=F("authorized_by")),
                name="disbursement_two_people",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="disbursement_status")]

    def __str__(self) -> str:
        return f"{self.amount} to {self.request_id}: {self.status}"


class Receipt(models.Model):
    """A proof of a payment (a ticket, a transfer slip, a fee receipt), kept as a vault file
    encrypted under the payment's keyring (the request's): the clean copy made of the
    upload, never the upload itself. Its type and size are only in the file's sealed
    metadata; the row says which payment it proves and who added it. A receipt removed
    goes with its file (`payments.remove_receipt`); its audit entries stay."""

    class Kind(models.TextChoices):
        TICKET = "ticket", _("Ticket or booking")
        TRANSFER = "transfer", _("Transfer or remittance slip")
        FEE = "fee", _("Invoice or fee receipt")
        OTHER = "other", _("Other")

    # Why a receipt was removed: a code in its audit entry, never free text.
    class RemovalReason(models.TextChoices):
        IDENTIFYING = "identifying", _("It shows the person's name or other identifying details")
        WRONG_PAYMENT = "wrong_payment", _("It belongs to another payment")
        UNREADABLE = "unreadable", _("It cannot be read")
        DUPLICATE = "duplicate", _("It was added twice")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    disbursement = models.ForeignKey(
        Disbursement, on_delete=models.PROTECT, related_name="receipts"
    )
    file = models.OneToOneField("vault.EncryptedFile", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return f"receipt {self.id}"


# --- The ledger -------------------------------------------------------------------------


class AppendOnlyQuerySet(models.QuerySet[Any]):
    """The ledger is written once: a correction is a movement the other way."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Ledger records cannot be changed.")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("Ledger records cannot be deleted.")


class AppendOnly(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Ledger records cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("Ledger records cannot be deleted.")


class Account(models.Model):
    """One of a fund's ledger accounts, in the fund's currency. Debits are positive."""

    class Kind(models.TextChoices):
        # Where the fund's money came from (credited on a deposit).
        INCOME = "income", _("Income")
        # Money not set aside for anything yet.
        AVAILABLE = "available", _("Available")
        # Money set aside by decisions, not paid yet.
        COMMITTED = "committed", _("Committed")
        # Money paid out.
        SPENT = "spent", _("Spent")

    id = models.BigAutoField(primary_key=True)
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="accounts")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    # The sum of its entries, kept with each movement under the fund's row lock: SQLite
    # sums decimals as floating point, so balances are never summed in the database.
    balance = models.DecimalField(default=Decimal("0"), **MONEY)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["fund", "kind"], name="account_unique")]

    def __str__(self) -> str:
        return f"{self.fund_id} {self.kind}"


class LedgerTransaction(AppendOnly):
    """One balanced movement of money: its entries add up to zero."""

    class Kind(models.TextChoices):
        DEPOSIT = "deposit", _("Money received")
        WITHDRAWAL = "withdrawal", _("Money taken out of a fund")
        COMMITMENT = "commitment", _("Set aside by a decision")
        UNCOMMITMENT = "uncommitment", _("Given back to the fund")
        PAYMENT = "payment", _("Payment released")

    id = models.BigAutoField(primary_key=True)
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="transactions")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    request = models.ForeignKey(
        FundingRequest, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    category = models.CharField(max_length=16, choices=Category.choices, blank=True)
    memo = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["fund", "at"], name="ledger_fund_time"),
            # Spend reports read payments by time, across funds.
            models.Index(fields=["kind", "at"], name="ledger_kind_time"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.fund_id} {self.at:%Y-%m-%d}"


class LedgerEntry(AppendOnly):
    id = models.BigAutoField(primary_key=True)
    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="entries"
    )
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    amount = models.DecimalField(**MONEY)

    class Meta:
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="ledger_entry_nonzero")]
        indexes = [models.Index(fields=["account"], name="ledger_entry_account")]

    def __str__(self) -> str:
        return f"{self.amount} on {self.account_id}"

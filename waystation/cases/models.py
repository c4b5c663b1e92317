"""A case: the work on one request for help, from triage to closing.

Operational fields (state, risk, country, region, language, dates, assignment) are
plaintext so queues can sort and count them (DESIGN §4); what the person wrote stays sealed
on the request, under the same keyring.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from waystation.vault.fields import SealedField, SealedModel


class State(models.TextChoices):
    NEW = "new", _("New")
    TRIAGED = "triaged", _("Triaged")
    IN_VERIFICATION = "in_verification", _("In verification")
    VERIFIED = "verified", _("Verified")
    PLANNING = "planning", _("Planning")
    AWAITING_FUNDING = "awaiting_funding", _("Awaiting funding")
    FUNDED = "funded", _("Funded")
    TRAVELLING = "travelling", _("Travelling")
    ARRIVED = "arrived", _("Arrived")
    IN_SUPPORT = "in_support", _("In support")
    CLOSED = "closed", _("Closed")
    ON_HOLD = "on_hold", _("On hold")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    DUPLICATE = "duplicate", _("Duplicate")
    REFERRED = "referred", _("Referred elsewhere")
    QUARANTINED = "quarantined", _("Quarantined")


class Reason(models.TextChoices):
    """Why a case left the main path, or came back to it: codes, never free text (a note
    with details is sealed)."""

    OUTSIDE_MANDATE = "outside_mandate", _("Outside our mandate")
    NOT_REACHABLE = "not_reachable", _("Person not reachable")
    NOT_VERIFIABLE = "not_verifiable", _("Could not be verified")
    NO_FUNDS = "no_funds", _("No funds for this case")
    PERSON_SAFE = "person_safe", _("Person is safe now")
    PERSON_WITHDREW = "person_withdrew", _("Person withdrew")
    OTHER_ORGANIZATION = "other_organization", _("Better helped by another organization")
    SUSPECTED_FRAUD = "suspected_fraud", _("Suspected fraud")
    SUSPECTED_ENTRAPMENT = "suspected_entrapment", _("Suspected entrapment")
    NEW_INFORMATION = "new_information", _("New information")
    MISTAKE = "mistake", _("Decided by mistake")
    SUPPORT_ENDED = "support_ended", _("Support ended")
    OTHER = "other", _("Other")


class CrisisResponse(models.Model):
    """A crisis the organization answers as one: requests from its countries in its dates
    are tagged with it, get their own queue and surge figures, and the name of the reply
    templates caseworkers send everyone in it (each person in their own language)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=120)
    # ISO 3166 alpha-2 codes, e.g. ["AF", "PK"].
    countries = models.JSONField(_("countries"), default=list)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    # The name of a family of ReplyTemplate rows, one per language (they are unique by name
    # and language, so the family has no row of its own to point at); "" for none.
    reply_template_name = models.CharField(_("reply template"), max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The team of surge volunteer accounts working this response's queue, and only it.
    surge_team = models.OneToOneField(
        "accounts.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="crisis_response",
    )

    def __str__(self) -> str:
        return self.name


class CrisisQuestion(models.Model):
    """An extra question a crisis response asks the people it concerns, after their
    request is stored. Its wording per language, e.g. {"en": "...", "ar": "..."}."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    response = models.ForeignKey(CrisisResponse, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(default=0)
    texts = models.JSONField(_("wording per language"), default=dict)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"question {self.position} of {self.response_id}"

    def wording(self, language: str) -> tuple[str, str]:
        """(the question in `language`, `language`), or in English when it has no wording
        of its own in that language."""
        if self.texts.get(language):
            return str(self.texts[language]), language
        return str(self.texts.get("en", "")), "en"


class ReplyTemplate(models.Model):
    """A ready answer to the person, in one language, kept by coordinators. "Neutral" ones
    commit to nothing and reveal nothing: the only answers a quarantined case may get."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=120)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    text = models.TextField(_("text"), max_length=5000)
    neutral = models.BooleanField(_("neutral (may go to a quarantined case)"), default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name", "language"], name="reply_template_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"


# Immediate risk first: the triage queue sorts on this rank, then on the deadline.
RISK_RANK = {"now": 1, "weeks": 2, "ongoing": 3}


class Case(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The request's random reference: staff can say it aloud; it reveals no volumes.
    reference = models.CharField(max_length=12, unique=True)
    request = models.OneToOneField(
        "intake.HelpRequest", on_delete=models.PROTECT, related_name="case"
    )
    keyring = models.ForeignKey("vault.Keyring", on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=20, choices=State.choices, default=State.NEW)
    state_changed_at = models.DateTimeField(default=timezone.now)
    # Where an on-hold or quarantined case returns to.
    resume_state = models.CharField(max_length=20, choices=State.choices, blank=True)
    reason = models.CharField(max_length=24, choices=Reason.choices, blank=True)
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="duplicates"
    )
    risk_rank = models.PositiveSmallIntegerField()
    country = models.CharField(max_length=2)
    region = models.CharField(max_length=80, blank=True)
    language = models.CharField(max_length=8)
    received_at = models.DateTimeField()
    answer_due_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    crisis = models.ForeignKey(
        CrisisResponse, on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    # The partner organization that referred the person, if one did (filterable).
    referred_by = models.ForeignKey(
        "partners.Partner", on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    # The team working the case after triage (a caseworker team); its members see it.
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_cases",
    )
    # Optimistic versioning: a form carries the version it was drawn from; a change made
    # meanwhile by someone else makes it stale.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [
            models.Index(
                fields=["state", "risk_rank", "answer_due_at", "id"], name="case_triage_order"
            ),
            # The queue with no state chosen, in its order (seek, no sort, at a million).
            models.Index(fields=["risk_rank", "answer_due_at", "id"], name="case_queue_order"),
            models.Index(
                fields=["country", "state", "risk_rank", "answer_due_at", "id"],
                name="case_country_order",
            ),
            models.Index(fields=["assigned_to", "state"], name="case_assignee_state"),
            models.Index(
                fields=["team", "state", "risk_rank", "answer_due_at", "id"],
                name="case_team_order",
            ),
            models.Index(fields=["crisis", "received_at"], name="case_crisis_arrivals"),
            # The queue's counts by country, risk and language within a state, each with the
            # others as filters, read from the index alone: per-row lookups cost 25 ms at
            # 9,000 new cases.
            models.Index(
                fields=["state", "country", "risk_rank", "language"], name="case_state_facets"
            ),
            # The queue filtered by region, in its order. Regions are as the person typed
            # them, so the filter matches them lowered (queue.Filters.apply).
            models.Index(
                Lower("region"),
                "state",
                "risk_rank",
                "answer_due_at",
                "id",
                name="case_region_order",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def state_label(self) -> str:
        # get_state_display() rebuilds a hashable copy of the choices on every call: a
        # queue page of 50 rows spent milliseconds on it.
        return str(State(self.state).label)

    def is_overdue(self, now: object = None) -> bool:
        moment = now or timezone.now()
        return self.answered_at is None and self.answer_due_at < moment  # type: ignore[operator]


class CaseEvent(models.Model):
    """The case's timeline: what happened and when, never content."""

    class Kind(models.TextChoices):
        STATE = "state", _("State changed")
        ASSIGNED = "assigned", _("Assigned")
        REPLIED = "replied", _("Answered the person")
        RISK = "risk", _("Risk changed")
        NOTE = "note", _("Note written")
        TASK = "task", _("Task added")
        DUPLICATE = "duplicate", _("Duplicate decision")
        CRISIS = "crisis", _("Tagged to a crisis response")
        ANSWERS = "answers", _("The person answered the crisis questions")

    id = models.BigAutoField(primary_key=True)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    from_state = models.CharField(max_length=20, choices=State.choices, blank=True)
    to_state = models.CharField(max_length=20, choices=State.choices, blank=True)
    reason = models.CharField(max_length=24, choices=Reason.choices, blank=True)

    class Meta:
        indexes = [models.Index(fields=["case", "at"], name="case_event_timeline")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.at:%Y-%m-%d}"


class BreakGlass(models.Model):
    """A staff member reading a case outside their own queue: allowed with a stated
    reason, for a few hours, logged, alerted to coordinators and reviewed weekly."""

    class Reason(models.TextChoices):
        URGENT_DANGER = "urgent_danger", _("The person is in urgent danger")
        COVERING = "covering", _("Covering for an absent colleague")
        DUPLICATE_CHECK = "duplicate_check", _("Checking a possible duplicate")
        FRAUD_CHECK = "fraud_check", _("Checking a fraud or entrapment signal")

    id = models.BigAutoField(primary_key=True)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="break_glasses")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="break_glasses"
    )
    reason = models.CharField(max_length=20, choices=Reason.choices)
    opened_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["user", "case", "expires_at"], name="break_glass_active"),
            models.Index(fields=["opened_at"], name="break_glass_review"),
        ]

    def __str__(self) -> str:
        return f"break-glass {self.case_id} by {self.user_id}"


class Note(SealedModel):
    """A staff note on a case, sealed under the case key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    keyring = models.ForeignKey("vault.Keyring", on_delete=models.PROTECT, related_name="+")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    written_at = models.DateTimeField(default=timezone.now)
    text = SealedField()

    class Meta:
        indexes = [models.Index(fields=["case", "written_at"], name="note_case_time")]

    def __str__(self) -> str:
        return f"note on {self.case_id}"


class Task(SealedModel):
    """Something to do on a case, by someone, by a date. The title is sealed; owner, dates
    and state are operational, so "my tasks" and overdue lists can sort them."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tasks")
    keyring = models.ForeignKey("vault.Keyring", on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="case_tasks"
    )
    due_on = models.DateField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)
    title = SealedField()

    class Meta:
        indexes = [models.Index(fields=["owner", "status", "due_on"], name="task_owner_due")]

    def __str__(self) -> str:
        return f"task on {self.case_id}"


class DuplicateDecision(models.Model):
    """What staff decided about a pair of possible duplicates. The pair is stored in one
    order (the smaller id first) so a decision holds both ways."""

    class Kind(models.TextChoices):
        LINKED = "linked", _("Linked: the same person, both cases stay open")
        MERGED = "merged", _("Merged into one case")
        DISMISSED = "dismissed", _("Dismissed: not the same person")

    id = models.BigAutoField(primary_key=True)
    first = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="duplicate_decision_pair")
        ]
        indexes = [models.Index(fields=["second"], name="duplicate_decision_second")]

    def __str__(self) -> str:
        return f"{self.kind} {self.first_id} {self.second_id}"

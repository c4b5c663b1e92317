"""What the pathway planner rests on: public data sets, versioned by the date they describe."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from waystation.vault.fields import SealedField, SealedModel


class VisaDataset(models.Model):
    """One import of entry requirements by passport (the passport-index "tidy" format), as
    they stood on `as_of`. The planner answers from the newest one and names its date."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    as_of = models.DateField(_("as of"), unique=True)
    # The file's name, never its path: public data, imported by an operator.
    source = models.CharField(_("source file"), max_length=200)
    imported_at = models.DateTimeField(_("imported at"), default=timezone.now)
    pairs = models.PositiveIntegerField(_("passport and destination pairs"))

    class Meta:
        ordering = ["-as_of"]
        verbose_name = _("visa data set")

    def __str__(self) -> str:
        return f"{self.source} ({self.as_of.isoformat()})"


class VisaRequirement(models.Model):
    """What a holder of one country's passport needs to enter another."""

    class Entry(models.TextChoices):
        VISA_FREE = "visa_free", _("visa free")
        VISA_ON_ARRIVAL = "visa_on_arrival", _("visa on arrival")
        ETA = "eta", _("electronic travel authorization")
        E_VISA = "e_visa", _("e-visa")
        VISA_REQUIRED = "visa_required", _("visa required")
        NO_ADMISSION = "no_admission", _("no admission")
        # The passport's own country ("-1" in the source).
        OWN_COUNTRY = "own_country", _("own country")

    dataset = models.ForeignKey(VisaDataset, on_delete=models.CASCADE, related_name="requirements")
    passport = models.CharField(_("passport"), max_length=2)
    destination = models.CharField(_("destination"), max_length=2)
    entry = models.CharField(_("entry"), max_length=16, choices=Entry.choices)
    # Days of a visa-free stay, when the source gives them.
    days = models.PositiveSmallIntegerField(_("days"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "passport", "destination"], name="visa_requirement_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.passport} → {self.destination}: {self.entry}"


# Each fact of a country, its source and its review date: a known fact carries both.
FACTS = (
    ("relations", "relations_source", "relations_reviewed_on"),
    ("recognition", "recognition_source", "recognition_reviewed_on"),
    ("asylum", "asylum_source", "asylum_reviewed_on"),
    ("safety_notes", "safety_source", "safety_reviewed_on"),
)


class CountryFacts(models.Model):
    """What the planner knows of one country's safety for LGBTQI+ people: each fact with
    where it comes from and when someone last checked it. Coordinators keep them; an unknown
    fact needs neither source nor date, a known one both."""

    class Relations(models.TextChoices):
        UNKNOWN = "", _("not known")
        LEGAL = "legal", _("legal")
        CRIMINALIZED = "criminalized", _("criminalized")
        DEATH_PENALTY = "death_penalty", _("death penalty possible")

    class Recognition(models.TextChoices):
        UNKNOWN = "", _("not known")
        AVAILABLE = "available", _("available")
        RESTRICTED = "restricted", _("restricted (surgery, diagnosis or court)")
        NONE = "none", _("not available")

    class Asylum(models.TextChoices):
        UNKNOWN = "", _("not known")
        RECOGNIZED = "recognized", _("recognized in practice")
        LIMITED = "limited", _("in law, rarely in practice")
        NOT_RECOGNIZED = "not_recognized", _("not recognized")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    country = models.CharField(_("country"), max_length=2, unique=True)
    relations = models.CharField(
        _("same-sex relations"), max_length=16, choices=Relations.choices, blank=True
    )
    max_penalty = models.CharField(_("maximum penalty"), max_length=120, blank=True)
    relations_source = models.CharField(_("source"), max_length=300, blank=True)
    relations_reviewed_on = models.DateField(_("last reviewed"), null=True, blank=True)
    recognition = models.CharField(
        _("legal gender recognition"), max_length=16, choices=Recognition.choices, blank=True
    )
    recognition_source = models.CharField(_("source"), max_length=300, blank=True)
    recognition_reviewed_on = models.DateField(_("last reviewed"), null=True, blank=True)
    asylum = models.CharField(
        _("asylum on SOGIESC grounds"), max_length=16, choices=Asylum.choices, blank=True
    )
    asylum_source = models.CharField(_("source"), max_length=300, blank=True)
    asylum_reviewed_on = models.DateField(_("last reviewed"), null=True, blank=True)
    safety_notes = models.TextField(_("safety notes"), max_length=4000, blank=True)
    safety_source = models.CharField(_("source"), max_length=300, blank=True)
    safety_reviewed_on = models.DateField(_("last reviewed"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        ordering = ["country"]
        verbose_name = _("country facts")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(**{fact: ""})
                | (~models.Q(**{source: ""}) & models.Q(**{f"{reviewed}__isnull": False})),
                name=f"country_{fact}_sourced",
            )
            for fact, source, reviewed in FACTS
        ]

    def __str__(self) -> str:
        return self.country


# --- A case's documents and plan --------------------------------------------------------


class TravelDocument(SealedModel):
    """A document the person holds, has applied for or could get. What identifies them
    (issuing country, number, issue date, notes) is sealed under the case key; the kind,
    where it stands, its expiry date and the weeks it takes to get are operational, so
    expiry warnings and the planner's page can sort them without opening anything."""

    class Kind(models.TextChoices):
        PASSPORT = "passport", _("Passport")
        NATIONAL_ID = "national_id", _("National identity card")
        REFUGEE_TRAVEL = "refugee_travel", _("Refugee travel document")
        BIRTH_CERTIFICATE = "birth_certificate", _("Birth certificate")
        OTHER = "other", _("Other document")

    class Status(models.TextChoices):
        HELD = "held", _("Held")
        OBTAINABLE = "obtainable", _("Can be obtained")
        APPLIED = "applied", _("Applied for")
        # Asking for it would be dangerous (a passport office that reports to the police)
        # or the state refuses it.
        UNOBTAINABLE = "unobtainable", _("Cannot be obtained safely")
        LOST = "lost", _("Lost or taken away")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, related_name="travel_documents"
    )
    keyring = models.ForeignKey("vault.Keyring", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    # How long getting it realistically takes, for one that is not held yet.
    weeks_to_obtain = models.PositiveSmallIntegerField(_("weeks to obtain"), null=True, blank=True)
    country = SealedField()
    number = SealedField()
    issued_on = SealedField()
    notes = SealedField()
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["case", "kind"], name="travel_document_case")]

    def __str__(self) -> str:
        return f"{self.kind} of {self.case_id}"


class Pathway(models.TextChoices):
    """The legal route a plan follows."""

    INLAND_ASYLUM = "inland_asylum", _("In-land asylum claim")
    REFUGEE_REFERRAL = "refugee_referral", _("Resettlement: refugee referral")
    PRIVATE_SPONSORSHIP = "private_sponsorship", _("Resettlement: private sponsorship")
    GOVERNMENT_PROGRAMME = "government_programme", _("Resettlement: government programme")
    STUDY = "study", _("Other legal route: study")
    WORK = "work", _("Other legal route: work")
    FAMILY = "family", _("Other legal route: family")


class Owner(models.TextChoices):
    """Who carries out a step: staff, or the person themselves."""

    CASEWORKER = "caseworker", _("Caseworker")
    PERSON = "person", _("The person")


class TemplateStep(models.Model):
    """One step of a pathway's plan template, which coordinators keep: a new plan on that
    pathway starts with a milestone per step, due `days` after the plan starts. Titles are
    generic (no case is named), so they are plaintext."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    pathway = models.CharField(_("pathway"), max_length=24, choices=Pathway.choices)
    title = models.CharField(_("step"), max_length=200)
    owner = models.CharField(_("who does it"), max_length=12, choices=Owner.choices)
    days = models.PositiveSmallIntegerField(_("due after (days)"))
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["pathway", "days", "position", "id"]
        indexes = [models.Index(fields=["pathway", "days"], name="template_step_pathway")]

    def __str__(self) -> str:
        return f"{self.pathway}: {self.title}"


class Plan(SealedModel):
    """A case's plan: the person's nationalities (sealed), the pathway (operational: funds
    are restricted by pathway), the destination and notes (sealed: itinerary), and its
    milestones. One per case, made on the first planning write."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="plan")
    keyring = models.ForeignKey("vault.Keyring", on_delete=models.PROTECT, related_name="+")
    pathway = models.CharField(_("pathway"), max_length=24, choices=Pathway.choices, blank=True)
    started_on = models.DateField(_("started on"), null=True, blank=True)
    nationalities = SealedField()
    destination = SealedField()
    notes = SealedField()
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return f"plan of {self.case_id}"


class Milestone(SealedModel):
    """A step of a case's plan: its title sealed (it may name an embassy or a date of
    travel); who does it, who answers for it among staff, when it is due and where it
    stands are operational, so "my tasks" and overdue marks can sort them."""

    class State(models.TextChoices):
        TODO = "todo", _("To do")
        IN_PROGRESS = "in_progress", _("In progress")
        BLOCKED = "blocked", _("Blocked")
        DONE = "done", _("Done")
        SKIPPED = "skipped", _("Not needed")

    OPEN = (State.TODO, State.IN_PROGRESS, State.BLOCKED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="milestones")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="milestones")
    keyring = models.ForeignKey("vault.Keyring", on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)
    owner = models.CharField(_("who does it"), max_length=12, choices=Owner.choices)
    # The staff member who answers for it: does it, or follows it up with the person.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="milestones",
    )
    due_on = models.DateField(_("due on"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.TODO)
    done_at = models.DateTimeField(null=True, blank=True)
    title = SealedField()
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["position", "id"]
        indexes = [
            models.Index(fields=["assignee", "state", "due_on"], name="milestone_assignee_due"),
            models.Index(fields=["plan", "position"], name="milestone_plan_order"),
        ]

    def __str__(self) -> str:
        return f"milestone of {self.case_id}"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN

    def is_overdue(self, today: object) -> bool:
        return self.is_open and self.due_on is not None and self.due_on < today  # type: ignore[operator]

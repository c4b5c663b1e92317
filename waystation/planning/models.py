"""What the pathway planner rests on: public data sets, versioned by the date they describe."""

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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

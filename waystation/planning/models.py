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

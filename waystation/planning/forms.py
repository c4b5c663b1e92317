from datetime import date
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .models import FACTS, CountryFacts
from .visa import country_names


class CountryFactsForm(forms.ModelForm):
    class Meta:
        model = CountryFacts
        fields = [
            "country",
            "relations",
            "max_penalty",
            "relations_source",
            "relations_reviewed_on",
            "recognition",
            "recognition_source",
            "recognition_reviewed_on",
            "asylum",
            "asylum_source",
            "asylum_reviewed_on",
            "safety_notes",
            "safety_source",
            "safety_reviewed_on",
        ]
        help_texts = {
            "relations_reviewed_on": _("YYYY-MM-DD"),
            "recognition_reviewed_on": _("YYYY-MM-DD"),
            "asylum_reviewed_on": _("YYYY-MM-DD"),
            "safety_reviewed_on": _("YYYY-MM-DD"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"] = forms.ChoiceField(
            label=_("Country"), choices=[("", "—"), *country_names(get_language() or "en")]
        )
        if not self.instance._state.adding:
            # A country's facts stay its own: another country gets a row of its own.
            self.fields["country"].disabled = True

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for fact, source, reviewed in FACTS:
            if not data.get(fact):
                continue
            if not str(data.get(source) or "").strip():
                self.add_error(source, _("Say where this fact comes from."))
            when: date | None = data.get(reviewed)
            if when is None and reviewed not in self.errors:
                self.add_error(reviewed, _("Give the date this fact was last checked."))
            elif when is not None and when > timezone.localdate():
                self.add_error(reviewed, _("The date a fact was checked cannot be in the future."))
        return data

from datetime import date
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from waystation.accounts.models import Role, User

from .dossier import MIN_PASSPHRASE_LENGTH
from .models import FACTS, CountryFacts, Milestone, Owner, Pathway, TemplateStep, TravelDocument
from .services import DocumentValues
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


# --- A case's documents and plan ----------------------------------------------------------


def _date_field(label: Any, *, required: bool = False) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("YYYY-MM-DD"),
    )


def _countries(empty: bool = True) -> list[tuple[str, str]]:
    names = country_names(get_language() or "en")
    return [("", "—"), *names] if empty else names


# Documents the planner reads a country from: a passport or ID card is of a country.
NEEDS_COUNTRY = {TravelDocument.Kind.PASSPORT, TravelDocument.Kind.NATIONAL_ID}


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Document"), choices=TravelDocument.Kind.choices)
    status = forms.ChoiceField(label=_("Where it stands"), choices=TravelDocument.Status.choices)
    country = forms.ChoiceField(label=_("Issued by"), required=False)
    number = forms.CharField(label=_("Number"), max_length=60, required=False)
    issued_on = _date_field(_("Issued on"))
    expires_on = _date_field(_("Expires on"))
    weeks_to_obtain = forms.IntegerField(
        label=_("Weeks to obtain it"),
        required=False,
        min_value=0,
        max_value=260,
        help_text=_("For a document not held yet: how long getting it realistically takes."),
    )
    notes = forms.CharField(
        label=_("Notes"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text=_("How to get it, what it costs, what could go wrong."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["country"]).choices = _countries()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") in NEEDS_COUNTRY and not data.get("country"):
            self.add_error("country", _("Say which country issued it (or would issue it)."))
        issued, expires = data.get("issued_on"), data.get("expires_on")
        if issued and issued > timezone.localdate():
            self.add_error("issued_on", _("The issue date cannot be in the future."))
        if issued and expires and expires <= issued:
            self.add_error("expires_on", _("A document expires after it was issued."))
        if data.get("status") == TravelDocument.Status.HELD and data.get("weeks_to_obtain"):
            self.add_error(
                "weeks_to_obtain", _("The person holds it already: leave the weeks empty.")
            )
        return data

    def values(self) -> DocumentValues:
        data = self.cleaned_data
        return DocumentValues(
            kind=data["kind"],
            status=data["status"],
            expires_on=data.get("expires_on"),
            weeks_to_obtain=data.get("weeks_to_obtain"),
            country=data.get("country") or "",
            number=(data.get("number") or "").strip(),
            issued_on=data.get("issued_on"),
            notes=(data.get("notes") or "").strip(),
        )


class NationalitiesForm(forms.Form):
    countries = forms.MultipleChoiceField(
        label=_("Nationalities"),
        required=False,
        help_text=_(
            "Every country the person is a national of, including ones without a passport."
        ),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["countries"]).choices = _countries(empty=False)
        self.fields["countries"].widget.attrs["size"] = 6


class PathwayForm(forms.Form):
    pathway = forms.ChoiceField(
        label=_("Pathway"),
        choices=[("", "—"), *Pathway.choices],
        error_messages={"required": _("Choose a pathway.")},
    )
    destination = forms.ChoiceField(label=_("Destination"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["destination"]).choices = _countries()


def _planners() -> Any:
    return (
        User.objects.filter(is_active=True, memberships__team__role=Role.CASEWORKER)
        .distinct()
        .order_by("display_name")
    )


class MilestoneForm(forms.Form):
    title = forms.CharField(label=_("Milestone"), max_length=300)
    owner = forms.ChoiceField(label=_("Who does it"), choices=Owner.choices)
    assignee = forms.ModelChoiceField(
        label=_("Staff member responsible"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("The staff member who does it or follows it up with the person."),
    )
    due_on = _date_field(_("Due on"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = _planners()  # type: ignore[attr-defined]


class MilestoneUpdateForm(forms.Form):
    state = forms.ChoiceField(label=_("Where it stands"), choices=Milestone.State.choices)
    due_on = _date_field(_("Due on"))
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class RouteForm(forms.Form):
    """A usual route to one destination: the countries it stops in."""

    destination = forms.ChoiceField(label=_("Destination"), required=False)
    stops = forms.MultipleChoiceField(label=_("Stops on the way"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["destination"]).choices = _countries()
        cast(forms.ChoiceField, self.fields["stops"]).choices = _countries(empty=False)
        self.fields["stops"].widget.attrs["size"] = 5

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("stops") and not data.get("destination"):
            self.add_error("destination", _("Say which destination this route leads to."))
        if len(data.get("stops") or []) > MAX_STOPS:
            self.add_error("stops", _("Name at most five stops."))
        return data


MAX_STOPS = 5
RouteFormSet = forms.formset_factory(RouteForm, extra=3, max_num=3, absolute_max=3)


class DossierForm(forms.Form):
    passphrase = forms.CharField(
        label=_("Passphrase"),
        min_length=MIN_PASSPHRASE_LENGTH,
        max_length=200,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_(
            "At least 16 characters. Give it to the lawyer by another channel than the file."
        ),
    )
    passphrase_again = forms.CharField(
        label=_("The passphrase again"),
        max_length=200,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    evidence = forms.MultipleChoiceField(
        label=_("Evidence to include"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Copies without metadata; every item is listed with its hash either way."),
    )
    return_to = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, evidence: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["evidence"]).choices = evidence

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, second = data.get("passphrase"), data.get("passphrase_again")
        if first and first.strip() != first:
            self.add_error("passphrase", _("Leave no spaces at the start or the end."))
        elif first and second is not None and first != second:
            self.add_error("passphrase_again", _("The two passphrases differ."))
        return data


class TemplateStepForm(forms.ModelForm):
    class Meta:
        model = TemplateStep
        fields = ["title", "owner", "days"]


TemplateFormSet = forms.modelformset_factory(
    TemplateStep, form=TemplateStepForm, extra=2, can_delete=True, max_num=40, absolute_max=40
)

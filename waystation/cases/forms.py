from django import forms
from django.utils.translation import gettext_lazy as _

from waystation.intake.models import Risk

from .models import BreakGlass, Case, Reason, State


class QueueFilterForm(forms.Form):
    """The triage queue's filters, read from the query string; anything invalid is
    ignored with a message, never an error page."""

    state = forms.ChoiceField(
        label=_("State"), choices=[("", _("Any state")), *State.choices], required=False
    )
    risk = forms.ChoiceField(
        label=_("Risk"), choices=[("", _("Any")), *Risk.choices], required=False
    )
    country = forms.CharField(label=_("Country code"), max_length=2, required=False)
    language = forms.CharField(label=_("Language"), max_length=8, required=False)
    unassigned = forms.BooleanField(label=_("Unassigned only"), required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    due_soon = forms.BooleanField(label=_("Due within 3 days"), required=False)

    def clean_country(self) -> str:
        return str(self.cleaned_data["country"]).strip().upper()


class MoveForm(forms.Form):
    target = forms.ChoiceField(
        label=_("Change to"),
        choices=[
            *State.choices,
            ("resume", _("Resume after a hold")),
            ("reopen", _("Reopen")),
        ],
    )
    reason = forms.ChoiceField(
        label=_("Reason"), choices=[("", _("No reason")), *Reason.choices], required=False
    )
    duplicate_of = forms.CharField(
        label=_("Reference of the case this one duplicates"), max_length=12, required=False
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def clean_duplicate_of(self) -> Case | None:
        reference = str(self.cleaned_data["duplicate_of"]).strip().upper()
        if not reference:
            return None
        case = Case.objects.filter(reference=reference).first()
        if case is None:
            raise forms.ValidationError(_("No case has this reference."))
        return case


class BreakGlassForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why do you need to open this case?"),
        choices=BreakGlass.Reason.choices,
        widget=forms.RadioSelect,
    )

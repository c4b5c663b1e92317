import uuid
from typing import Any

from babel import Locale
from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

from waystation.accounts.models import Role, Team, User
from waystation.intake.models import Risk

from .models import BreakGlass, Case, CrisisResponse, Reason, ReplyTemplate, State


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
    crisis = forms.ModelChoiceField(
        label=_("Crisis response"),
        queryset=CrisisResponse.objects.order_by("-starts_on"),
        required=False,
    )

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


class AssignForm(forms.Form):
    team = forms.ModelChoiceField(
        label=_("Caseworker team"),
        queryset=Team.objects.filter(role=Role.CASEWORKER).order_by("name"),
        required=False,
    )
    user = forms.ModelChoiceField(
        label=_("Person"),
        queryset=User.objects.filter(
            is_active=True, memberships__team__role__in=[Role.CASEWORKER, Role.INTAKE_VOLUNTEER]
        )
        .distinct()
        .order_by("display_name"),
        required=False,
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class ReplyForm(forms.Form):
    """An answer to the person: written, or a template in the case's language. A
    quarantined case gets neutral templates only."""

    template = forms.ModelChoiceField(
        label=_("Template"), queryset=ReplyTemplate.objects.none(), required=False
    )
    text = forms.CharField(
        label=_("Answer to the person"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false"}),
        help_text=_(
            "The person reads it with their follow-up code. "
            "Never name a partner or a place to meet."
        ),
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.quarantined = case.state == State.QUARANTINED
        templates = ReplyTemplate.objects.filter(language=case.language).order_by("name")
        if self.quarantined:
            templates = templates.filter(neutral=True)
            del self.fields["text"]
        template = self.fields["template"]
        assert isinstance(template, forms.ModelChoiceField)  # noqa: S101 - declared above
        template.queryset = templates
        template.required = self.quarantined

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        chosen = data.get("template")
        if self.quarantined:
            data["text"] = chosen.text if chosen else ""
        elif not (data.get("text") or "").strip():
            if chosen is None:
                self.add_error("text", _("Write an answer or choose a template."))
            else:
                data["text"] = chosen.text
        return data


class ReplyTemplateForm(forms.ModelForm):
    class Meta:
        model = ReplyTemplate
        fields = ["name", "language", "text", "neutral"]
        widgets = {"text": forms.Textarea(attrs={"rows": 5})}


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"),
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
    )


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Task"), max_length=300)
    owner = forms.ModelChoiceField(
        label=_("Who does it"),
        queryset=User.objects.filter(
            is_active=True, memberships__team__role__in=[Role.CASEWORKER, Role.INTAKE_VOLUNTEER]
        )
        .distinct()
        .order_by("display_name"),
    )
    due_on = forms.DateField(label=_("By (YYYY-MM-DD)"))


class BulkForm(forms.Form):
    """An action on the cases ticked in the queue; each tick carries the case's version
    ("id:version") so a case changed meanwhile stops the whole action."""

    class Action(models.TextChoices):
        TRIAGE = "triage", _("Mark as triaged")
        ASSIGN = "assign", _("Give to a caseworker team")
        RISK = "risk", _("Set the risk")
        DUPLICATE = "duplicate", _("Mark as duplicates of one case")

    chosen = forms.MultipleChoiceField(choices=(), widget=forms.MultipleHiddenInput)
    action = forms.ChoiceField(label=_("With the cases ticked"), choices=Action.choices)
    team = forms.ModelChoiceField(
        label=_("Caseworker team"),
        queryset=Team.objects.filter(role=Role.CASEWORKER).order_by("name"),
        required=False,
    )
    risk = forms.ChoiceField(label=_("Risk"), choices=[("", "—"), *Risk.choices], required=False)
    duplicate_of = forms.CharField(
        label=_("Reference of the case they duplicate"), max_length=12, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any "id:version" is a valid choice here; the view checks access to each case.
        chosen = self.fields["chosen"]
        assert isinstance(chosen, forms.MultipleChoiceField)  # noqa: S101 - declared above
        ticked: list[str] = getattr(self.data, "getlist", lambda name: [])("chosen")
        chosen.choices = [(value, value) for value in ticked]

    def clean_chosen(self) -> list[tuple[uuid.UUID, int]]:
        parsed = []
        for value in self.cleaned_data["chosen"]:
            pk, _sep, version = str(value).partition(":")
            try:
                parsed.append((uuid.UUID(pk), int(version)))
            except ValueError as error:
                raise forms.ValidationError(_("Tick the cases again.")) from error
        return parsed

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        action = data.get("action")
        if action == self.Action.ASSIGN and not data.get("team"):
            self.add_error("team", _("Choose the team."))
        if action == self.Action.RISK and not data.get("risk"):
            self.add_error("risk", _("Choose the risk."))
        if action == self.Action.DUPLICATE:
            reference = str(data.get("duplicate_of") or "").strip().upper()
            original = Case.objects.filter(reference=reference).first() if reference else None
            if original is None:
                self.add_error("duplicate_of", _("No case has this reference."))
            data["duplicate_of"] = original
        return data


class CrisisForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    countries = forms.CharField(
        label=_("Countries"),
        max_length=400,
        help_text=_("Two-letter country codes, separated by commas, e.g. AF, PK."),
    )
    starts_on = forms.DateField(label=_("Starts on (YYYY-MM-DD)"))
    ends_on = forms.DateField(label=_("Ends on (YYYY-MM-DD), if known"), required=False)
    reply_template = forms.CharField(
        label=_("Reply template"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("A first answer caseworkers can send to everyone in this crisis."),
    )

    def clean_countries(self) -> list[str]:
        codes = [c.strip().upper() for c in str(self.cleaned_data["countries"]).split(",")]
        codes = [c for c in codes if c]
        known = set(Locale.parse("en").territories)
        unknown = [c for c in codes if len(c) != 2 or c not in known]
        if not codes or unknown:
            raise forms.ValidationError(
                _("Not a country code: %(codes)s") % {"codes": ", ".join(unknown) or "—"}
            )
        return codes

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("ends_on") and data.get("starts_on") and data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", _("The end comes before the start."))
        return data

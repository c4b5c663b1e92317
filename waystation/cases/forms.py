import uuid
from datetime import date, timedelta
from typing import Any

from babel import Locale
from django import forms
from django.conf import settings
from django.db import models
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import get_language_info, ngettext
from django.utils.translation import gettext_lazy as _

from waystation.accounts.models import Role, Team, User, normalize_email
from waystation.intake.models import Risk
from waystation.partners.models import Partner

from . import queue
from .models import BreakGlass, Case, CrisisQuestion, CrisisResponse, Reason, ReplyTemplate, State
from .services import QUESTION_LENGTH


def _referrer_choices() -> list[tuple[str, object]]:
    partners = Partner.objects.order_by("name").values_list("pk", "name")
    return [("", _("Anyone")), ("any", _("Any partner")), *((str(pk), n) for pk, n in partners)]


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
    # As long as the request form's region (80); matched whatever its case (queue.Filters).
    region = forms.CharField(label=_("Region"), max_length=80, required=False)
    language = forms.CharField(label=_("Language"), max_length=8, required=False)
    unassigned = forms.BooleanField(label=_("Unassigned only"), required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    due_soon = forms.BooleanField(label=_("Due within 3 days"), required=False)
    crisis = forms.ModelChoiceField(
        label=_("Crisis response"),
        queryset=CrisisResponse.objects.order_by("-starts_on"),
        required=False,
    )
    referred_by = forms.ChoiceField(label=_("Referred by a partner"), required=False)

    def __init__(
        self, *args: Any, responses: QuerySet[CrisisResponse] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        # Read once: a callable would be read again by validation and by rendering.
        referrer = self.fields["referred_by"]
        assert isinstance(referrer, forms.ChoiceField)  # noqa: S101 - declared above
        referrer.choices = _referrer_choices()
        if responses is not None:  # the crisis responses this person works, when limited
            crisis = self.fields["crisis"]
            assert isinstance(crisis, forms.ModelChoiceField)  # noqa: S101 - declared above
            crisis.queryset = responses

    def clean_country(self) -> str:
        return str(self.cleaned_data["country"]).strip().upper()

    def clean_region(self) -> str:
        # "  port   harcourt " finds "Port Harcourt": spaces collapsed here, case in the query.
        return " ".join(str(self.cleaned_data["region"]).split())

    def filters(self, default_state: str) -> queue.Filters:
        """The queue's filters from the valid fields; the default queue when the form is
        not valid."""
        if not self.is_valid():
            return queue.Filters(state=default_state)
        data = self.cleaned_data
        return queue.Filters(
            state=data["state"],
            country=data["country"],
            region=data["region"],
            risk=data["risk"],
            language=data["language"],
            unassigned=data["unassigned"],
            overdue=data["overdue"],
            due_soon=data["due_soon"],
            crisis=data["crisis"].pk if data["crisis"] else None,
            referred_by=data["referred_by"],
        )


class MoveForm(forms.Form):
    target = forms.ChoiceField(
        label=_("Change to"),
        # "Verified" is not offered: only a verification decision taken by two staff
        # members makes a case verified (the verification app's guard refuses it anyway).
        choices=[
            *((value, label) for value, label in State.choices if value != State.VERIFIED),
            ("resume", _("Resume after a hold")),
            ("reopen", _("Reopen")),
        ],
        help_text=_(
            "To make a case verified, take the decision on its verification page: two staff "
            "members must agree."
        ),
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


class ReplyTemplateField(forms.ModelChoiceField):
    """Reply templates, the crisis response's own labelled as its answer."""

    crisis: CrisisResponse | None = None

    def label_from_instance(self, obj: models.Model) -> str:
        crisis = self.crisis
        if isinstance(obj, ReplyTemplate) and crisis and obj.name == crisis.reply_template_name:
            return _("%(template)s: the answer to the crisis “%(crisis)s”") % {
                "template": obj,
                "crisis": crisis.name,
            }
        return str(obj)


class ReplyForm(forms.Form):
    """An answer to the person: written, or a template in the case's language. A
    quarantined case gets neutral templates only. A case of a crisis response gets the
    response's template first, chosen already and labelled as the crisis answer."""

    template = ReplyTemplateField(
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
    # The case version the page was drawn from: an answer sent meanwhile makes it stale.
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.quarantined = case.state == State.QUARANTINED
        templates = ReplyTemplate.objects.filter(language=case.language).order_by("name")
        template = self.fields["template"]
        assert isinstance(template, ReplyTemplateField)  # noqa: S101 - declared above
        if self.quarantined:
            templates = templates.filter(neutral=True)
            del self.fields["text"]
        elif case.crisis is not None and case.crisis.reply_template_name:
            templates = self._crisis_first(case.crisis, templates, template)
        template.queryset = templates
        template.required = self.quarantined

    def _crisis_first(
        self,
        crisis: CrisisResponse,
        templates: QuerySet[ReplyTemplate],
        field: ReplyTemplateField,
    ) -> QuerySet[ReplyTemplate]:
        """The templates with the crisis response's own first, and chosen when the page
        is drawn; a word under the field when it is not written in the case's language."""
        name = crisis.reply_template_name
        field.crisis = crisis
        answer = templates.filter(name=name).values_list("pk", flat=True).first()
        if answer is None:
            # Help texts are shown as HTML: the name a coordinator typed is escaped.
            field.help_text = _(
                "The template of the crisis response, “%(name)s”, is not written in this "
                "case's language yet."
            ) % {"name": escape(name)}
        elif not self.is_bound:
            self.initial = {"template": answer, **self.initial}  # a copy: callers share theirs
        return templates.order_by(models.Case(models.When(name=name, then=0), default=1), "name")

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

    def refused(self, case: Case, message: str) -> "ReplyForm":
        """The same answer, as typed, on a form drawn from the case as it is now (its
        version), saying why it was not sent: sending it again is a choice made on what
        the page now shows."""
        redrawn = ReplyForm({**self.data, "version": str(case.version)}, case=case)
        redrawn.is_valid()
        redrawn.add_error(None, message)
        return redrawn


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


class DuplicateDecisionForm(forms.Form):
    """A decision about this case and another, from the buttons on the case page; it
    carries both cases' versions as the page showed them."""

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            ("link", _("Link: the same person, both cases stay open")),
            ("dismiss", _("Not the same person")),
            ("merge_here", _("Merge it into this case")),
            ("merge_there", _("Merge this case into it")),
        ],
        error_messages={
            "required": _("Choose a decision."),
            "invalid_choice": _("Choose a decision."),
        },
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    other_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


def _reply_template_names(empty_label: object = "—") -> list[tuple[str, object]]:
    names = ReplyTemplate.objects.order_by("name").values_list("name", flat=True).distinct()
    return [("", empty_label), *((name, name) for name in names)]


class BulkForm(forms.Form):
    """An action on the cases ticked in the queue; each tick carries the case's version
    ("id:version") so a case changed meanwhile stops the whole action."""

    class Action(models.TextChoices):
        TRIAGE = "triage", _("Mark as triaged")
        ASSIGN = "assign", _("Give to a caseworker team")
        RISK = "risk", _("Set the risk")
        DUPLICATE = "duplicate", _("Mark as duplicates of one case")
        REPLY = "reply", _("Send a templated reply")
        CRISIS = "crisis", _("Tag to a crisis response")

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
    crisis = forms.ModelChoiceField(
        label=_("Crisis response"),
        queryset=CrisisResponse.objects.order_by("-starts_on"),
        required=False,
        empty_label=_("None (remove the tag)"),
    )
    # Each case gets the template of this name in its own language.
    template = forms.ChoiceField(
        label=_("Reply template"),
        required=False,
        error_messages={"invalid_choice": _("This reply template no longer exists.")},
    )

    def __init__(
        self, *args: Any, responses: QuerySet[CrisisResponse] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if responses is not None:  # a surge volunteer tags to their own responses only
            crisis = self.fields["crisis"]
            assert isinstance(crisis, forms.ModelChoiceField)  # noqa: S101 - declared above
            crisis.queryset = responses
        # Any "id:version" is a valid choice here; the view checks access to each case.
        chosen = self.fields["chosen"]
        assert isinstance(chosen, forms.MultipleChoiceField)  # noqa: S101 - declared above
        ticked: list[str] = getattr(self.data, "getlist", lambda name: [])("chosen")
        chosen.choices = [(value, value) for value in ticked]
        # Read once here: a select reads its choices more than once as it renders.
        template = self.fields["template"]
        assert isinstance(template, forms.ChoiceField)  # noqa: S101 - declared above
        template.choices = _reply_template_names()

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
        if action == self.Action.REPLY and not data.get("template"):
            self.add_error("template", _("Choose the reply template."))
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
    # A name shared by reply templates, one per language: each person gets it in theirs.
    reply_template_name = forms.ChoiceField(
        label=_("Reply template"),
        required=False,
        help_text=_(
            "The answer caseworkers send to everyone in this crisis, each person in their "
            "own language."
        ),
        error_messages={"invalid_choice": _("This reply template no longer exists.")},
    )

    def __init__(self, *args: Any, response: CrisisResponse | None = None, **kwargs: Any) -> None:
        if response is not None:  # changing a response: its current values
            kwargs["initial"] = {
                "name": response.name,
                "countries": ", ".join(response.countries),
                "starts_on": response.starts_on,
                "ends_on": response.ends_on,
                "reply_template_name": response.reply_template_name,
            }
        super().__init__(*args, **kwargs)
        # Read once here: a select reads its choices more than once as it renders.
        choices = _reply_template_names(_("No template"))
        current = response.reply_template_name if response else ""
        if current and current not in dict(choices):
            # Its templates were renamed: the response can still be saved as it is.
            choices.append(
                (current, _("%(name)s (no template has this name now)") % {"name": current})
            )
        template = self.fields["reply_template_name"]
        assert isinstance(template, forms.ChoiceField)  # noqa: S101 - declared above
        template.choices = choices

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


class CrisisQuestionForm(forms.Form):
    """A crisis question's wording in each site language: English required, the others
    optional (a language left empty shows the English wording)."""

    def __init__(self, *args: Any, question: CrisisQuestion | None = None, **kwargs: Any) -> None:
        if question is not None:
            kwargs["initial"] = {f"text_{code}": text for code, text in question.texts.items()}
        super().__init__(*args, **kwargs)
        for code, _name in settings.LANGUAGES:
            info = get_language_info(code)
            language = str(info["name_translated"])
            self.fields[f"text_{code}"] = forms.CharField(
                label=_("%(language)s (required)") % {"language": language}
                if code == "en"
                else language,
                required=code == "en",
                max_length=QUESTION_LENGTH,
                widget=forms.TextInput(
                    attrs={"lang": code, "dir": "rtl" if info["bidi"] else "ltr"}
                ),
                error_messages={
                    "required": _(
                        "Write the question in English: it is shown where a language has "
                        "no wording."
                    )
                },
            )

    def texts(self) -> dict[str, str]:
        return {
            code: self.cleaned_data.get(f"text_{code}", "") for code, _name in settings.LANGUAGES
        }


class SurgeAccountForm(forms.Form):
    """A surge volunteer account: who, and the day it ends, after today and at most
    CASES_SURGE_ACCOUNT_MAX_DAYS ahead."""

    email = forms.EmailField(label=_("E-mail"), max_length=254)
    display_name = forms.CharField(
        label=_("Display name"),
        max_length=80,
        help_text=_("A first name or pseudonym that colleagues will see."),
    )
    expires_on = forms.DateField(label=_("Ends on (YYYY-MM-DD)"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        days = settings.CASES_SURGE_ACCOUNT_MAX_DAYS
        self.fields["expires_on"].help_text = ngettext(
            "The account stops working as this day begins; at most %(days)d day from today.",
            "The account stops working as this day begins; at most %(days)d days from today.",
            days,
        ) % {"days": days}

    def clean_email(self) -> str:
        email = normalize_email(self.cleaned_data["email"])
        if User.objects.filter(email=email).exists():
            raise forms.ValidationError(_("An account with this e-mail already exists."))
        return email

    def clean_expires_on(self) -> date:
        ends: date = self.cleaned_data["expires_on"]
        today = timezone.localdate()
        days = settings.CASES_SURGE_ACCOUNT_MAX_DAYS
        if ends <= today:
            raise forms.ValidationError(_("Choose a day after today."))
        if ends > today + timedelta(days=days):
            raise forms.ValidationError(
                ngettext(
                    "Choose a day at most %(days)d day from today: %(last)s at the latest.",
                    "Choose a day at most %(days)d days from today: %(last)s at the latest.",
                    days,
                )
                % {"days": days, "last": (today + timedelta(days=days)).isoformat()}
            )
        return ends

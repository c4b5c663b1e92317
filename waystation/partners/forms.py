from datetime import date
from functools import lru_cache
from typing import Any

from babel import Locale
from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from waystation.accounts.forms import PersonForm
from waystation.intake.forms import NOT_COUNTRIES, SENSITIVE, RequestForm
from waystation.intake.models import Channel, Document
from waystation.intake.services import Answers

from .models import Partner
from .services import CLEAR_REASONS, FLAG_REASONS, CompromiseReason


@lru_cache(maxsize=1)
def known_countries() -> frozenset[str]:
    """ISO 3166 alpha-2 codes of countries, as the public form lists them (no continents
    or groupings; Kosovo included)."""
    territories = Locale.parse("en").territories
    codes = {
        c
        for c in territories
        if isinstance(c, str) and len(c) == 2 and c.isalpha() and c not in NOT_COUNTRIES
    }
    return frozenset(codes | {"XK"})


def country_name(code: str) -> str:
    try:
        names = Locale.parse(get_language() or "en").territories
    except (ValueError, TypeError):
        names = Locale.parse("en").territories
    return str(names.get(code, code))


class PartnerForm(forms.Form):
    """A partner's registry entry. Editing, the contact may stay empty to keep the one
    sealed already (it is never shown in this form)."""

    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=Partner.Kind.choices)
    countries = forms.CharField(
        label=_("Countries served"),
        max_length=400,
        help_text=_("Two-letter country codes, separated by commas, e.g. NG, GH."),
    )
    trust = forms.TypedChoiceField(
        label=_("Trust level"), choices=Partner.Trust.choices, coerce=int
    )
    contact_channel = forms.ChoiceField(
        label=_("Safe contact: channel"), choices=[("", "—"), *Channel.choices]
    )
    contact_handle = forms.CharField(
        label=_("Safe contact: number, user name or address"),
        max_length=200,
        widget=forms.TextInput(attrs=SENSITIVE),
        help_text=_("Sealed: only coordinators, caseworkers and verifiers with keys read it."),
    )

    def __init__(self, *args: Any, partner: Partner | None = None, **kwargs: Any) -> None:
        if partner is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": partner.name,
                    "kind": partner.kind,
                    "countries": ", ".join(partner.countries),
                    "trust": partner.trust,
                },
            )
        super().__init__(*args, **kwargs)
        self.partner = partner
        if partner is not None:
            for name in ("contact_channel", "contact_handle"):
                self.fields[name].required = False
            self.fields["contact_handle"].help_text = _(
                "Leave both contact fields empty to keep the contact as it is."
            )

    def clean_name(self) -> str:
        name = " ".join(str(self.cleaned_data["name"]).split())
        taken = Partner.objects.filter(name__iexact=name)
        if self.partner is not None:
            taken = taken.exclude(pk=self.partner.pk)
        if taken.exists():
            raise forms.ValidationError(_("A partner with this name is registered already."))
        return name

    def clean_countries(self) -> list[str]:
        codes = [c.strip().upper() for c in str(self.cleaned_data["countries"]).split(",")]
        codes = [c for c in codes if c]
        unknown = [c for c in codes if c not in known_countries()]
        if not codes:
            raise forms.ValidationError(_("Give at least one country code, e.g. NG."))
        if unknown:
            raise forms.ValidationError(
                _("Not a country code: %(codes)s") % {"codes": ", ".join(unknown)}
            )
        return sorted(set(codes))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        channel = data.get("contact_channel") or ""
        handle = (data.get("contact_handle") or "").strip()
        if bool(channel) != bool(handle) and "contact_channel" not in self.errors:
            field = "contact_handle" if channel else "contact_channel"
            self.add_error(field, _("Give both the channel and the handle, or neither."))
        data["contact"] = {"channel": channel, "handle": handle} if channel and handle else None
        return data


class AgreementForm(forms.Form):
    version = forms.CharField(label=_("Agreement version"), max_length=20)
    signed_on = forms.DateField(label=_("Signed on (YYYY-MM-DD)"))
    expires_on = forms.DateField(label=_("Expires on (YYYY-MM-DD)"))

    def clean_version(self) -> str:
        return str(self.cleaned_data["version"]).strip()

    def clean_signed_on(self) -> date:
        signed: date = self.cleaned_data["signed_on"]
        if signed > timezone.localdate():
            raise forms.ValidationError(_("The signing date is in the future."))
        return signed

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        signed, expires = data.get("signed_on"), data.get("expires_on")
        if signed and expires and expires <= signed:
            self.add_error(
                "expires_on", _("The agreement must expire after the day it was signed.")
            )
        return data


class CompromisedForm(forms.Form):
    """Flag the partner compromised, or clear the flag, with a reason. `flag` carries what
    the page offered, so a change made meanwhile by someone else is refused."""

    flag = forms.TypedChoiceField(
        choices=[("1", "1"), ("0", "0")],
        coerce=lambda value: value == "1",
        widget=forms.HiddenInput,
    )
    reason = forms.ChoiceField(
        label=_("Reason"),
        choices=[],
        error_messages={
            "required": _("Choose a reason."),
            "invalid_choice": _("Choose one of the reasons offered."),
        },
    )

    def __init__(self, *args: Any, partner: Partner, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"flag": "0" if partner.compromised_at else "1"})
        super().__init__(*args, **kwargs)
        # The reasons that fit what the page offered: flagging, or clearing the flag.
        reasons = FLAG_REASONS if self["flag"].value() == "1" else CLEAR_REASONS
        reason = self.fields["reason"]
        assert isinstance(reason, forms.ChoiceField)  # noqa: S101 - declared above
        reason.choices = [("", "—")] + [
            (value, label) for value, label in CompromiseReason.choices if value in reasons
        ]


class PartnerAccountForm(PersonForm):
    """A new account for someone at the partner: its team is the partner's own."""

    teams = None  # type: ignore[assignment]


# The public form speaks to the person; a partner fills it in about them.
RISKS = [
    ("now", _("In danger now")),
    ("weeks", _("Could be in danger within weeks")),
    ("ongoing", _("The danger is ongoing but not immediate")),
]


class ReferralForm(RequestForm):
    """The public request form, worded for a partner writing about the person, limited to
    the countries the partner serves, with its confirmation that the person belongs to its
    community. The answers are stored exactly as a public request's."""

    country = forms.ChoiceField(
        label=_("Country where the person is now"),
        error_messages={
            "required": _("Choose the country where the person is."),
            "invalid_choice": _(
                "This country is outside the countries your organization serves. Choose "
                "one of your countries, or ask the coordinators to add it."
            ),
        },
    )
    region = forms.CharField(
        label=_("Region or city where the person is now"),
        max_length=80,
        widget=forms.TextInput(attrs=SENSITIVE),
    )
    nationalities = forms.CharField(
        label=_("The person's nationality (one or more)"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs=SENSITIVE),
    )
    narrative = forms.CharField(
        label=_(
            "What has happened to the person, or what threats do they face, because of "
            "their sexual orientation, gender identity, gender expression or sex "
            "characteristics?"
        ),
        help_text=_(
            "In their own words where you can. Who threatens them, what they did, and when."
        ),
        max_length=10_000,
        min_length=20,
        widget=forms.Textarea(attrs={**SENSITIVE, "rows": 8}),
        error_messages={
            "required": _("Describe the danger the person faces."),
            "min_length": _("Tell us a little more about the danger the person faces."),
        },
    )
    risk = forms.ChoiceField(
        label=_("How soon is the person in danger?"),
        choices=RISKS,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how soon the person is in danger.")},
    )
    documents = forms.MultipleChoiceField(
        label=_("Which travel documents does the person have?"),
        choices=Document.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one answer. Choose “None” if they have no documents.")
        },
    )
    name = forms.CharField(
        label=_("What should we call the person?"),
        required=False,
        max_length=80,
        help_text=_("Any name. It does not need to be their real name."),
        widget=forms.TextInput(attrs=SENSITIVE),
    )
    channel = forms.ChoiceField(
        label=_("A safe way to contact the person (optional)"),
        choices=[("", _("No contact: the person will use their follow-up code")), *Channel.choices],
        required=False,
    )
    safe_times = forms.CharField(
        label=_("When is it safe to contact them?"),
        required=False,
        max_length=120,
        widget=forms.TextInput(attrs=SENSITIVE),
    )
    language = forms.ChoiceField(
        label=_("Language the person prefers"),
        choices=settings.LANGUAGES,
    )
    consent = forms.BooleanField(
        label=_(
            "The person agrees that this organization stores what is sent, encrypted, to help "
            "them, and shares it only with the people and trusted partners who must check or "
            "plan their case."
        ),
        error_messages={"required": _("We can only receive the request if the person agrees.")},
    )
    member_confirmed = forms.BooleanField(
        label=_(
            "We confirm that this person is a member of the community our organization serves."
        ),
        error_messages={
            "required": _(
                "Confirm that the person is a member of the community your organization serves."
            )
        },
    )
    # Stops a form sent twice (double click, reload) from storing two requests.
    form_token = forms.CharField(widget=forms.HiddenInput, max_length=200, required=False)

    def __init__(self, *args: Any, partner: Partner, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # What a public form has and a partner's does not: software traps, the list of
        # organizations the person may have contacted (the partner is the organization).
        for name in ("website", "proof", "partner", "organization"):
            self.fields.pop(name, None)
        country = self.fields["country"]
        assert isinstance(country, forms.ChoiceField)  # noqa: S101 - declared above
        # Only the partner's countries, by name; a plain select (the public form's widget
        # keeps one rendering of every country per language).
        country.widget = forms.Select()
        country.error_messages["required"] = _("Choose the country where the person is.")
        served = sorted(partner.countries, key=lambda code: country_name(code).casefold())
        country.choices = [("", "—"), *((code, country_name(code)) for code in served)]

    def answers(self) -> Answers:
        """The cleaned answers, as intake stores a public request's."""
        data = self.cleaned_data
        return Answers(
            country=data["country"],
            region=data["region"],
            nationalities=data["nationalities"],
            narrative=data["narrative"],
            risk=data["risk"],
            organization="",
            documents=data["documents"],
            name=data["name"],
            channel=data["channel"],
            handle=data["handle"],
            safe_times=data["safe_times"],
            no_messages=data["no_messages"],
        )

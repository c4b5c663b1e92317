from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from babel import Locale
from django import forms
from django.conf import settings
from django.utils.choices import BaseChoiceIterator
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .models import Channel, Document, Risk
from .questions import Question

# Babel's territory list also holds continents, groupings and private-use codes.
NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ", "XK"}
SENSITIVE = {"autocomplete": "off", "autocorrect": "off", "spellcheck": "false"}


@lru_cache(maxsize=16)
def _country_choices(language: str) -> tuple[tuple[str, str], ...]:
    try:
        names = Locale.parse(language).territories
    except (ValueError, TypeError):
        names = Locale.parse("en").territories
    countries = [
        (code, name)
        for code, name in names.items()
        if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES
    ]
    # Kosovo has a user-assigned code but is a place people flee from and to.
    countries.append(("XK", names.get("XK", "Kosovo")))
    return tuple(sorted(countries, key=lambda item: item[1].casefold()))


class _Choices(BaseChoiceIterator):
    """Choices already in Django's normalized form: a form built on every request then
    skips normalizing 250 countries again."""

    def __init__(self, choices: tuple[tuple[str, str], ...]) -> None:
        self.choices = choices

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.choices)


@lru_cache(maxsize=16)
def _country_field_choices(language: str) -> _Choices:
    return _Choices((("", "—"), *_country_choices(language)))


class CountrySelect(forms.Select):
    """The list of every country, rendered once per language, value and attributes:
    rendering 250 options through templates on each page view costs more than the rest of
    the request."""

    rendered: dict[tuple[object, ...], str] = {}

    def render(self, name: str, value: Any, attrs: Any = None, renderer: Any = None) -> Any:
        key = (
            get_language(),
            name,
            str(value),
            tuple(sorted((attrs or {}).items())),
            tuple(sorted(self.attrs.items())),
        )
        html = self.rendered.get(key)
        if html is None:
            html = super().render(name, value, attrs, renderer)
            if len(self.rendered) < 4096:
                self.rendered[key] = html
        return html


class RequestForm(forms.Form):
    country = forms.ChoiceField(label=_("Country where you are now"), widget=CountrySelect)
    region = forms.CharField(
        label=_("Region or city where you are now"),
        max_length=80,
        widget=forms.TextInput(attrs=SENSITIVE),
    )
    # Free text in the person's own words: a second list of every country would double the
    # page's weight on a slow phone; caseworkers record nationalities precisely when planning.
    nationalities = forms.CharField(
        label=_("Your nationality (one or more)"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs=SENSITIVE),
    )
    narrative = forms.CharField(
        label=_(
            "What has happened to you, or what threats do you face, because of your "
            "sexual orientation, gender identity, gender expression or sex "
            "characteristics?"
        ),
        help_text=_("Tell us in your own words. Who threatens you, what they did, and when."),
        max_length=10_000,
        min_length=20,
        widget=forms.Textarea(attrs={**SENSITIVE, "rows": 8}),
        error_messages={
            "required": _(
                "Please describe the danger you face. We can only answer requests that describe it."
            ),
            "min_length": _("Please tell us a little more about the danger you face."),
        },
    )
    risk = forms.ChoiceField(
        label=_("How soon are you in danger?"),
        choices=Risk.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how soon you are in danger.")},
    )
    organization = forms.CharField(
        label=_("Which LGBTQI+ organization in your country have you contacted, if any?"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs=SENSITIVE),
    )
    partner = forms.ChoiceField(
        label=_("Or choose it from this list"),
        required=False,
        choices=(),
    )
    documents = forms.MultipleChoiceField(
        label=_("Which travel documents do you have?"),
        choices=Document.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one answer. Choose “None” if you have no documents.")
        },
    )
    name = forms.CharField(
        label=_("What should we call you?"),
        required=False,
        max_length=80,
        help_text=_("Any name. It does not need to be your real name."),
        widget=forms.TextInput(attrs=SENSITIVE),
    )
    channel = forms.ChoiceField(
        label=_("A safe way to contact you (optional)"),
        choices=[("", _("No contact, I will use my follow-up code")), *Channel.choices],
        required=False,
    )
    handle = forms.CharField(
        label=_("Number, user name or address for that way"),
        required=False,
        max_length=120,
        widget=forms.TextInput(attrs=SENSITIVE),
    )
    safe_times = forms.CharField(
        label=_("When is it safe to contact you?"),
        required=False,
        max_length=120,
        widget=forms.TextInput(attrs=SENSITIVE),
    )
    no_messages = forms.BooleanField(
        label=_("Never leave messages or voicemail"),
        required=False,
    )
    language = forms.ChoiceField(label=_("Language you prefer"), choices=settings.LANGUAGES)
    consent = forms.BooleanField(
        label=_(
            "I agree that this organization stores what I send, encrypted, to help me, "
            "and shares it only with the people and trusted partners who must check or "
            "plan my case."
        ),
        error_messages={"required": _("We can only receive your request if you agree.")},
    )
    # A field people never see: software that fills every field fills this one too.
    website = forms.CharField(
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    form_token = forms.CharField(widget=forms.HiddenInput, max_length=200)
    proof = forms.CharField(widget=forms.HiddenInput, required=False, max_length=32)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        country = self.fields["country"]
        assert isinstance(country, forms.ChoiceField)  # noqa: S101 - declared above
        country.choices = _country_field_choices(get_language() or "en")
        partner = self.fields["partner"]
        assert isinstance(partner, forms.ChoiceField)  # noqa: S101 - declared above
        if settings.INTAKE_PARTNERS:
            partner.choices = [("", _("None of these"))] + [
                (name, name) for name in settings.INTAKE_PARTNERS
            ]
        else:
            del self.fields["partner"]
        self.fields["country"].error_messages["required"] = _("Choose the country where you are.")

    def clean_documents(self) -> list[str]:
        chosen: list[str] = self.cleaned_data["documents"]
        if Document.NONE in chosen and len(chosen) > 1:
            raise forms.ValidationError(_("“None” cannot be chosen together with a document."))
        return chosen

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("channel") and not (data.get("handle") or "").strip():
            self.add_error("handle", _("Tell us the number, user name or address to use."))
        return data


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Your follow-up code"),
        max_length=120,
        widget=forms.TextInput(attrs={**SENSITIVE, "inputmode": "numeric"}),
    )


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=_("Your message"),
        max_length=5000,
        widget=forms.Textarea(attrs={**SENSITIVE, "rows": 5}),
    )


class EvidenceForm(forms.Form):
    file = forms.FileField(label=_("Photo or document (JPEG, PNG or PDF)"))


class AnswersForm(forms.Form):
    """Answers to the extra questions later apps ask (`questions.pending_questions`): each
    optional, at least one to send. Fields are named after the questions' keys, so an
    answer stays with its question whatever changed meanwhile."""

    def __init__(self, *args: Any, asked: list[Question], **kwargs: Any) -> None:
        # A question ends with its own punctuation.
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.asked = asked
        for question in asked:
            self.fields[self.field_name(question)] = forms.CharField(
                label=question.text,
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={**SENSITIVE, "rows": 3}),
            )

    @staticmethod
    def field_name(question: Question) -> str:
        return f"answer-{question.source}-{question.key}"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        typed = any(str(data.get(self.field_name(q)) or "").strip() for q in self.asked)
        if not typed and not self.errors:
            raise forms.ValidationError(
                _("Write at least one answer before sending. Every question is optional.")
            )
        return data

    def answers(self) -> list[tuple[Question, str]]:
        return [(q, str(self.cleaned_data.get(self.field_name(q)) or "")) for q in self.asked]

    def fields_in_their_language(self) -> list[tuple[forms.BoundField, str]]:
        """Each answer's field with the language its question is worded in (English
        wording on another language's page is marked as such)."""
        return [(self[self.field_name(q)], q.language) for q in self.asked]

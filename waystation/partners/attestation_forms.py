"""Forms for attestation requests, the verifier's answer and the individual verifiers."""

import uuid
from typing import Any

from babel import Locale
from django import forms
from django.utils.translation import gettext_lazy as _

from waystation.intake.models import Evidence

from .attestations import (
    ADDRESSEE_REFUSALS,
    DEFAULT_DAYS,
    DISCLOSABLE,
    MAX_DAYS,
    QUESTION_LENGTH,
    Certainty,
    KnowsPerson,
    partner_refusal,
)
from .models import IndividualVerifier, Partner


class AttestationForm(forms.Form):
    """Whom to ask, what to disclose to them, and for how long the link works. The
    addressees and photos offered are the ones the view found askable and readable."""

    addressee = forms.ChoiceField(
        label=_("Whom to ask"),
        error_messages={"invalid_choice": _("Choose a partner or a verifier from the list.")},
    )
    disclose = forms.MultipleChoiceField(
        label=_("What to show them"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "They see only what you tick. The less you show, the less a leaked link gives away."
        ),
    )
    photo = forms.ChoiceField(label=_("Which photo"), required=False, widget=forms.RadioSelect)
    question = forms.CharField(
        label=_("Your question"),
        required=False,
        max_length=QUESTION_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown word for word. Never name the person's contacts or where they stay."),
    )
    days = forms.IntegerField(
        label=_("The link works for this many days"),
        min_value=1,
        max_value=MAX_DAYS,
        initial=DEFAULT_DAYS,
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(
        self,
        *args: Any,
        partners: list[Partner],
        verifiers: list[tuple[IndividualVerifier, str]],
        photos: list[Evidence],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.addressees: dict[str, Partner | IndividualVerifier] = {
            **{f"partner:{partner.pk}": partner for partner in partners},
            **{f"verifier:{verifier.pk}": verifier for verifier, _label in verifiers},
        }
        choices: list[Any] = [("", "—")]
        if partners:
            choices.append(
                (_("Partner organizations"), [(f"partner:{p.pk}", p.name) for p in partners])
            )
        if verifiers:
            choices.append(
                (
                    _("Individual verifiers"),
                    [(f"verifier:{verifier.pk}", label) for verifier, label in verifiers],
                )
            )
        self.fields["addressee"].choices = choices  # type: ignore[attr-defined]
        self.photos = {str(evidence.pk): evidence for evidence in photos}
        self.fields["disclose"].choices = [  # type: ignore[attr-defined]
            (name, label) for name, label in DISCLOSABLE.items() if name != "photo" or photos
        ]
        self.fields["photo"].choices = [  # type: ignore[attr-defined]
            (
                str(evidence.pk),
                _("Photo received %(time)s") % {"time": f"{evidence.received_at:%Y-%m-%d %H:%M}"},
            )
            for evidence in photos
        ]

    def clean_addressee(self) -> Partner | IndividualVerifier:
        chosen = self.addressees.get(self.cleaned_data["addressee"])
        if chosen is None:
            raise forms.ValidationError(_("Choose a partner or a verifier from the list."))
        return chosen

    def _explain_unaskable_partner(self) -> None:
        # A partner offered when the page was drawn may have lost its agreement (or been
        # flagged) before the form came back: say why, not only that it is not in the list.
        kind, _colon, pk = str(self.data.get(self.add_prefix("addressee"), "")).partition(":")
        if kind != "partner":
            return
        try:
            partner = Partner.objects.filter(pk=uuid.UUID(pk)).first()
        except ValueError:
            return
        refusal = partner_refusal(partner) if partner is not None else ""
        if refusal:
            self.errors["addressee"] = self.error_class([str(ADDRESSEE_REFUSALS[refusal])])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "addressee" in self.errors:
            self._explain_unaskable_partner()
        disclose = data.get("disclose") or []
        if "photo" in disclose:
            data["photo"] = self.photos.get(data.get("photo") or "")
            if data["photo"] is None:
                self.add_error("photo", _("Choose the photo to show, or untick the photo."))
        else:
            data["photo"] = None
        if "question" in disclose and not str(data.get("question") or "").strip():
            self.add_error("question", _("Write the question, or untick it."))
        return data


class AnswerForm(forms.Form):
    """The verifier's answer: sealed for staff, never shown back."""

    knows = forms.ChoiceField(
        label=_("Do you know this person?"), choices=KnowsPerson.choices, widget=forms.RadioSelect
    )
    how = forms.CharField(
        label=_("How do you know them?"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    certainty = forms.ChoiceField(
        label=_("How sure are you?"), choices=Certainty.choices, widget=forms.RadioSelect
    )
    comments = forms.CharField(
        label=_("Anything else we should know?"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class VerifierForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=IndividualVerifier.Kind.choices)
    countries = forms.CharField(
        label=_("Countries they know people in"),
        max_length=400,
        help_text=_("Two-letter country codes, separated by commas, e.g. NG, GH."),
    )
    name = forms.CharField(
        label=_("Name"),
        max_length=120,
        help_text=_("Sealed: only coordinators, caseworkers and verifiers can read it."),
    )
    contact = forms.CharField(
        label=_("How to reach them safely"),
        max_length=300,
        help_text=_("A channel and a handle, e.g. Signal and a number. Sealed like the name."),
    )

    def clean_countries(self) -> list[str]:
        codes = [code.strip().upper() for code in str(self.cleaned_data["countries"]).split(",")]
        codes = [code for code in codes if code]
        known = set(Locale.parse("en").territories)
        unknown = [code for code in codes if len(code) != 2 or code not in known]
        if not codes or unknown:
            raise forms.ValidationError(
                _("Not a country code: %(codes)s") % {"codes": ", ".join(unknown) or "—"}
            )
        return codes

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from waystation.accounts.models import Role, Team
from waystation.cases.models import Case, Reason, ReplyTemplate

from .models import Decision, EvidenceReview
from .services import DECLINE_REASONS, NOTES_LENGTH, SUMMARY_LENGTH


class ReviewForm(forms.Form):
    """The review of one evidence item; each item's form has its own prefix."""

    kind = forms.ChoiceField(label=_("Kind"), choices=EvidenceReview.Kind.choices)
    status = forms.ChoiceField(label=_("Review"), choices=EvidenceReview.Status.choices)
    notes = forms.CharField(
        label=_("Notes (sealed)"),
        max_length=NOTES_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
    )
    # The review's version the form was drawn from; 0 before the first review.
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class EvidenceForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of evidence"), choices=EvidenceReview.Kind.choices)
    file = forms.FileField(label=_("Photo or document (JPEG, PNG or PDF)"))


class DecisionForm(forms.Form):
    """A decision on the case: "verified" is a proposal a second reviewer confirms;
    declined needs a reason, more information a reply template in the case's language."""

    outcome = forms.ChoiceField(
        label=_("Decision"), choices=Decision.Outcome.choices, widget=forms.RadioSelect
    )
    summary = forms.CharField(
        label=_("Summary of the sources and your reasons"),
        max_length=SUMMARY_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text=_("Sealed with the case key. Staff only: the person never sees it."),
    )
    reason = forms.ChoiceField(label=_("Reason for declining"), required=False)
    template = forms.ChoiceField(label=_("Reply template to send the person"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        reason = self.fields["reason"]
        assert isinstance(reason, forms.ChoiceField)  # noqa: S101 - declared above
        reason.choices = [
            ("", _("Choose a reason")),
            *[(value, label) for value, label in Reason.choices if value in DECLINE_REASONS],
        ]
        names = (
            ReplyTemplate.objects.filter(language=case.language)
            .order_by("name")
            .values_list("name", flat=True)
        )
        template = self.fields["template"]
        assert isinstance(template, forms.ChoiceField)  # noqa: S101 - declared above
        template.choices = [("", _("Choose a template")), *[(name, name) for name in names]]
        if not names:
            template.help_text = _(
                "No reply template in this case's language yet: ask a coordinator to add one."
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("outcome") == Decision.Outcome.DECLINED and not data.get("reason"):
            self.add_error("reason", _("Choose a reason for declining."))
        if data.get("outcome") == Decision.Outcome.MORE_INFORMATION and not data.get("template"):
            self.add_error("template", _("Choose the reply template to send the person."))
        return data


class ProposalForm(forms.Form):
    """Confirming or withdrawing the open proposal it names."""

    decision = forms.UUIDField(widget=forms.HiddenInput)


class ShareForm(forms.Form):
    team = forms.ModelChoiceField(
        label=_("Verifier team"),
        queryset=Team.objects.filter(role=Role.VERIFIER).order_by("name"),
    )

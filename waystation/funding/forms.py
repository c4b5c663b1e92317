from decimal import Decimal
from typing import Any, cast

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from waystation.cases.models import CrisisResponse
from waystation.planning.models import Pathway
from waystation.planning.visa import country_names

from .models import (
    Category,
    Criterion,
    DeclineReason,
    Disbursement,
    Envelope,
    Fund,
    Outcome,
    Receipt,
)
from .money import is_currency

DATE: dict[str, Any] = {"widget": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}


def _money_field(label: Any, **kwargs: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, max_digits=15, decimal_places=3, min_value=Decimal("0.001"), **kwargs
    )


class CurrencyField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Currency"))
        kwargs.setdefault("help_text", _("Its ISO code: EUR, USD, UGX..."))
        super().__init__(max_length=3, min_length=3, **kwargs)

    def clean(self, value: Any) -> str:
        code = str(super().clean(value) or "").strip().upper()
        if code and not is_currency(code):
            raise forms.ValidationError(
                _("%(code)s is not a currency code."), params={"code": code}
            )
        return code


class FundForm(forms.ModelForm):
    currency = CurrencyField()
    countries = forms.MultipleChoiceField(
        label=_("Only for people in these countries"), required=False
    )
    pathways = forms.MultipleChoiceField(
        label=_("Only for these pathways"), required=False, choices=Pathway.choices
    )
    categories = forms.MultipleChoiceField(
        label=_("Only for these costs"),
        required=False,
        choices=Category.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    crises = forms.ModelMultipleChoiceField(
        label=_("Only for these crisis responses"),
        required=False,
        queryset=CrisisResponse.objects.order_by("-starts_on"),
    )

    class Meta:
        model = Fund
        fields = ["name", "source", "currency", "starts_on", "ends_on", "active"]
        widgets = {"starts_on": DATE["widget"], "ends_on": DATE["widget"]}
        help_texts = {"starts_on": _("YYYY-MM-DD"), "ends_on": _("YYYY-MM-DD")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.MultipleChoiceField, self.fields["countries"])
        field.choices = country_names(get_language() or "en")
        field.widget.attrs["size"] = 6
        cast(forms.MultipleChoiceField, self.fields["pathways"]).widget.attrs["size"] = 4
        if not self.instance._state.adding:
            self.initial.update(
                countries=self.instance.countries,
                pathways=self.instance.pathways,
                categories=self.instance.categories,
                crises=list(self.instance.crises.all()),
            )
            # A fund's currency is fixed once money is in it: its ledger is in that currency.
            self.fields["currency"].disabled = True

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("starts_on"), data.get("ends_on")
        if start and end and end < start:
            self.add_error("ends_on", _("A fund ends after it starts."))
        return data

    def apply(self) -> Fund:
        fund = cast(Fund, self.save(commit=False))
        data = self.cleaned_data
        fund.countries = list(data["countries"])
        fund.pathways = list(data["pathways"])
        fund.categories = list(data["categories"])
        return fund


class DepositForm(forms.Form):
    amount = _money_field(_("Amount received"))
    # The ledger belongs to the fund, not to a request: it has no keyring to seal under,
    # and its notes stay readable for reports.
    memo = forms.CharField(
        label=_("From (no personal names)"),
        max_length=200,
        required=False,
        help_text=_(
            "A source, such as a grant or an appeal. This note is not sealed: never write a "
            "donor's or a person's name."
        ),
    )


class OverdraftForm(forms.Form):
    limit = forms.DecimalField(
        label=_("Allowed below zero"), min_value=0, max_digits=15, decimal_places=3
    )
    reason = forms.CharField(label=_("Why"), max_length=300, required=False)


class RateForm(forms.Form):
    currency = CurrencyField()
    on = forms.DateField(label=_("Date"), help_text=_("YYYY-MM-DD"), **DATE)
    rate = forms.DecimalField(
        label=_("Value of one unit in the reporting currency"),
        min_value=Decimal("0.0000000001"),
        max_digits=20,
        decimal_places=10,
    )
    source = forms.CharField(label=_("Source"), max_length=200, required=False)


class ItemForm(forms.Form):
    category = forms.ChoiceField(
        label=_("Cost"), choices=[("", "—"), *Category.choices], required=False
    )
    currency = CurrencyField(required=False)
    estimate = forms.DecimalField(
        label=_("Estimate"),
        required=False,
        max_digits=15,
        decimal_places=3,
        min_value=Decimal("0.001"),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        filled = [data.get(name) for name in ("category", "currency", "estimate")]
        if any(filled) and not all(filled):
            self.add_error(None, _("Give each cost its kind, currency and estimate."))
        return data


ItemFormSet = forms.formset_factory(ItemForm, extra=3, max_num=12, absolute_max=12)


class SummaryForm(forms.Form):
    summary = forms.CharField(
        label=_("Summary for the committee"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text=_(
            "The committee reads this instead of the case. Write the need, the risk and the "
            "plan; never the person's name, contacts, or details that would identify them."
        ),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class MeetingForm(forms.Form):
    held_on = forms.DateField(label=_("Date"), help_text=_("YYYY-MM-DD"), **DATE)
    quorum = forms.IntegerField(label=_("Votes needed to decide"), min_value=1, max_value=50)


class AgendaForm(forms.Form):
    request = forms.ChoiceField(label=_("Request"))

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["request"]).choices = choices


class VoteForm(forms.Form):
    choice = forms.ChoiceField(label=_("Your vote"), choices=Outcome.choices)


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Decision"), choices=Outcome.choices)
    categories = forms.MultipleChoiceField(
        label=_("Costs funded (to fund in part)"),
        required=False,
        choices=Category.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    reason = forms.ChoiceField(
        label=_("Reason (to decline)"), required=False, choices=[("", "—"), *DeclineReason.choices]
    )
    fund = forms.ChoiceField(label=_("Paid from"), required=False)
    override_reason = forms.CharField(
        label=_("Why not as proposed"),
        max_length=500,
        required=False,
        help_text=_("Needed when the committee pays from another fund than the proposal."),
    )
    minutes = forms.CharField(
        label=_("Minutes"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, funds: list[Fund], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["fund"]).choices = [
            ("", _("As proposed")),
            *((str(f.pk), f.name) for f in funds),
        ]


class CriterionForm(forms.ModelForm):
    class Meta:
        model = Criterion
        fields = ["name", "description", "weight", "scale", "active"]


CriterionFormSet = forms.modelformset_factory(
    Criterion, form=CriterionForm, extra=1, can_delete=False, max_num=20, absolute_max=20
)


class AuthorizeForm(forms.Form):
    channel = forms.ChoiceField(label=_("Sent by"), choices=Disbursement.Channel.choices)
    reference = forms.CharField(
        label=_("Reference"),
        max_length=200,
        required=False,
        help_text=_("A transfer, remittance or ticket number: never the person's name."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class ReceiptForm(forms.Form):
    """A receipt for a payment. The file is encrypted as it arrives (`vault.uploads`);
    `{% csrf_token %}` and the kind come before it in the page."""

    kind = forms.ChoiceField(label=_("What it is"), choices=Receipt.Kind.choices)
    file = forms.FileField(
        label=_("Photo or document (JPEG, PNG or PDF)"),
        error_messages={"required": _("Choose the receipt's file.")},
        help_text=_(
            "Never a receipt that shows the person's name, contacts or anything that would "
            "identify them: cover them before you photograph or scan it."
        ),
    )

    def refuse(self, message: str, *, field: str | None = "file") -> None:
        """Show `message` for `field` (None: the whole form) in place of the file's own
        errors: a file dropped or refused is not also "missing"."""
        self.is_valid()
        self.errors.pop("file", None)
        self.add_error(field, message)


class ReceiptRemovalForm(forms.Form):
    """Why a receipt is removed: a code from the list, never free text (the audit entry
    holds it)."""

    reason = forms.ChoiceField(
        label=_("Why remove it"),
        choices=[("", _("Choose a reason")), *Receipt.RemovalReason.choices],
        error_messages={"required": _("Choose why the receipt is removed.")},
    )


class ActualForm(forms.Form):
    actual = forms.DecimalField(
        label=_("Actual cost"), min_value=0, max_digits=15, decimal_places=3
    )


class EnvelopeForm(forms.ModelForm):
    pathway = forms.ChoiceField(
        label=_("Only for this pathway"), required=False, choices=[("", "—"), *Pathway.choices]
    )

    class Meta:
        model = Envelope
        fields = ["name", "cap", "crisis", "pathway"]

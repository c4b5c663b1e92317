from django import forms
from django.utils.translation import gettext_lazy as _


class AuditFilterForm(forms.Form):
    action = forms.CharField(
        label=_("Action starts with"),
        max_length=80,
        required=False,
        help_text=_("For example accounts.login or accounts.user.locked"),
    )
    actor = forms.UUIDField(label=_("Actor id"), required=False)
    object_id = forms.UUIDField(label=_("Object id"), required=False)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

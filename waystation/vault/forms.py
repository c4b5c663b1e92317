from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class UnlockForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        max_length=1024,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
    recovery_key = forms.CharField(
        label=_("Recovery key (only if your password was reset)"),
        max_length=120,
        required=False,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}
        ),
    )
    start_over = forms.BooleanField(
        label=_(
            "I have lost my recovery key: start with new keys. I will lose access to the "
            "cases I could read until a colleague grants them again."
        ),
        required=False,
    )

    def __init__(self, *args: Any, has_keys: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not has_keys:
            del self.fields["recovery_key"]
            del self.fields["start_over"]

"""A strength check on top of Django's length, similarity and common-password checks."""

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MIN_DISTINCT = 8


class VarietyValidator:
    """Rejects long but repetitive passwords such as "aaaaaaaaaaaaaaa" or "abcabcabcabcabc"."""

    def validate(self, password: str, user: AbstractBaseUser | None = None) -> None:
        if len(set(password.lower())) < MIN_DISTINCT:
            raise ValidationError(
                _(
                    "This password repeats too few characters. Use at least %(count)d different "
                    "characters, for example several unrelated words."
                ),
                code="password_too_repetitive",
                params={"count": MIN_DISTINCT},
            )

    def get_help_text(self) -> str:
        return _("Use at least %(count)d different characters.") % {"count": MIN_DISTINCT}

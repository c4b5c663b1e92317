"""The case page's verification line, without the cases app knowing this one."""

from typing import Any

from django import template
from django.utils import timezone

from waystation.accounts.models import User
from waystation.cases.models import Case
from waystation.cases.signals import Signal

from ..access import VERIFICATION_ROLES
from ..sources import standing

register = template.Library()


@register.inclusion_tag("verification/_case_status.html", takes_context=True)
def verification_status(
    context: template.Context, case: Case, signals: list[Signal]
) -> dict[str, Any]:
    """Verified or not, re-verification due or not, and a link to the verification page
    for the readers who verify."""
    shown = standing(case, [signal.code for signal in signals], today=timezone.localdate())
    user = context.get("user")
    verifies = isinstance(user, User) and user.has_role(*VERIFICATION_ROLES)
    return {"case": case, "standing": shown, "verifies": verifies}

"""The case page's funding line, without the cases app knowing this one."""

from typing import Any

from django import template

from waystation.accounts.models import User
from waystation.cases.models import Case

from ..access import CASEWORK_ROLES
from ..models import FundingRequest

register = template.Library()


@register.inclusion_tag("funding/_case_status.html", takes_context=True)
def funding_status(context: template.Context, case: Case) -> dict[str, Any]:
    """The case's latest funding request and where it stands, for its caseworkers."""
    user = context.get("user")
    if not isinstance(user, User) or not user.has_role(*CASEWORK_ROLES):
        return {"shown": False}
    latest = FundingRequest.objects.filter(case_id=case.pk).order_by("-created_at").first()
    return {"shown": True, "case": case, "latest": latest}

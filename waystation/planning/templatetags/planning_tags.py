"""The case page's plan line, without the cases app knowing this one."""

from typing import Any

from django import template
from django.utils import timezone

from waystation.accounts.models import User
from waystation.cases.models import Case

from ..access import plans
from ..models import Milestone, Plan, TravelDocument
from ..reading import expiry_warning

register = template.Library()


@register.inclusion_tag("planning/_case_status.html", takes_context=True)
def planning_status(context: template.Context, case: Case) -> dict[str, Any]:
    """The pathway, open and overdue milestones and documents that need attention (no
    sealed value), with a link to the plan for caseworkers."""
    user = context.get("user")
    if not isinstance(user, User) or not plans(user):
        return {"shown": False}
    today = timezone.localdate()
    plan = Plan.objects.filter(case_id=case.pk).first()
    milestones = list(
        Milestone.objects.filter(case_id=case.pk, state__in=Milestone.OPEN).only("due_on", "state")
    )
    documents = TravelDocument.objects.filter(case_id=case.pk).only("expires_on", "status", "kind")
    return {
        "shown": True,
        "case": case,
        "plan": plan,
        "open": len(milestones),
        "overdue": sum(1 for m in milestones if m.is_overdue(today)),
        "expiring": sum(1 for d in documents if expiry_warning(d, today)),
    }

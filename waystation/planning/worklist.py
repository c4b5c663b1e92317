"""Plan milestones in "My tasks" and the daily digest (registered with cases' `worklist`
in apps.py): the open milestones a caseworker answers for that are theirs to do, and the
person's own steps once they are overdue, to follow up with them."""

from datetime import date

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from waystation.accounts.models import User
from waystation.cases.access import visible_cases
from waystation.cases.worklist import WorkItem
from waystation.vault.services import grants_prefetch

from .models import Milestone, Owner

LIMIT = 200


def _theirs(user: User, day: date) -> Q:
    return Q(assignee=user, state__in=Milestone.OPEN) & (
        Q(owner=Owner.CASEWORKER) | Q(owner=Owner.PERSON, due_on__lt=day)
    )


def milestone_items(user: User) -> list[WorkItem]:
    """The user's open milestones on cases they may still open, soonest due first."""
    today = timezone.localdate()
    milestones = (
        Milestone.objects.filter(_theirs(user, today), case__in=visible_cases(user))
        .select_related("case", "case__keyring")
        .prefetch_related(grants_prefetch("case__keyring"))
        .order_by("due_on", "position")[:LIMIT]
    )
    return [
        WorkItem(
            case=milestone.case,
            due_on=milestone.due_on,
            sealed=milestone,
            field="title",
            label=str(
                _("Plan milestone")
                if milestone.owner == Owner.CASEWORKER
                else _("The person's step, to follow up")
            ),
            done_url=reverse("planning:milestone_done", kwargs={"pk": milestone.pk}),
        )
        for milestone in milestones
    ]


def milestones_due(user: User, day: date) -> int:
    """How many of those are due on `day` or earlier."""
    return Milestone.objects.filter(
        _theirs(user, day), due_on__lte=day, case__in=visible_cases(user)
    ).count()

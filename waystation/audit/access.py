"""Who may read the audit log: coordinators only."""

from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from .models import AuditEntry


def filtered_entries(filters: dict[str, Any]) -> QuerySet[AuditEntry]:
    """Entries matching a cleaned AuditFilterForm, newest first. The caller checks the role."""
    entries = AuditEntry.objects.order_by("-position")
    if filters.get("action"):
        entries = entries.filter(action__startswith=filters["action"])
    if filters.get("actor"):
        entries = entries.filter(actor_id=filters["actor"])
    if filters.get("object_id"):
        entries = entries.filter(object_id=filters["object_id"])
    zone = timezone.get_current_timezone()
    if filters.get("since"):
        entries = entries.filter(at__gte=datetime.combine(filters["since"], time.min, zone))
    if filters.get("until"):
        end = datetime.combine(filters["until"], time.min, zone) + timedelta(days=1)
        entries = entries.filter(at__lt=end)
    return entries

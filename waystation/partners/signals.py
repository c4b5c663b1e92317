"""The partner network's fraud and entrapment signal, shown to staff on the case page
(`waystation.cases.signals`): a case referred by a partner now flagged compromised."""

from collections.abc import Mapping
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from waystation.cases.models import Case

from .models import Partner

CODE = "referred_by_compromised"


def referred_by_compromised(case: Case, content: Mapping[str, Any] | None) -> str | None:
    """A message when the partner that referred the case is flagged compromised (whether
    it was flagged before or after the referral); None otherwise. Needs no content."""
    if case.referred_by_id is None:
        return None
    flagged = (
        Partner.objects.filter(pk=case.referred_by_id, compromised_at__isnull=False)
        .values_list("compromised_at", flat=True)
        .first()
    )
    if flagged is None:
        return None
    return _(
        "Referred by a partner organization flagged compromised on %(date)s: check who "
        "really sent this request before sharing anything."
    ) % {"date": timezone.localdate(flagged).isoformat()}

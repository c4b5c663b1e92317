"""Who sees which partner, and what a partner sees of its own referrals.

- The registry: coordinators change it; caseworkers and verifiers read the list and a
  partner's page (its contact only with keys that open it). Everyone else gets 404.
- The portal: an account with the partner role speaks for exactly one partner, the one
  whose accounts team it is in. It sees that partner's referrals only, as a reference, a
  date and a coarse state (received, in progress, closed): never what the request says,
  never another partner's. While the partner is flagged compromised, the portal shows
  nothing of its referrals. Anything else is 404, as for a page that does not exist.
"""

import uuid
from dataclasses import dataclass
from datetime import date

from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import Max, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from waystation.accounts.models import Role, User
from waystation.cases.models import State
from waystation.cases.workflow import ENDED

from .models import Partner, Referral

REGISTRY_READERS = (Role.COORDINATOR, Role.CASEWORKER, Role.VERIFIER)
REFERRALS_PER_PAGE = 50


def visible_partners(user: User) -> QuerySet[Partner]:
    """The registry, for a coordinator, caseworker or verifier; Http404 for anyone else."""
    if not user.has_role(*REGISTRY_READERS):
        raise Http404
    return Partner.objects.all()


def registry(user: User, *, today: date | None = None) -> QuerySet[Partner]:
    """The registry's list, each partner with `agreement_until`: the latest expiry among
    its agreements signed by `today` (in force when it falls after today). Http404 as
    `visible_partners`."""
    day = today or timezone.localdate()
    return (
        visible_partners(user)
        .annotate(
            agreement_until=Max("agreements__expires_on", filter=Q(agreements__signed_on__lte=day))
        )
        .order_by("name")
    )


def get_partner_for_user(user: User, pk: uuid.UUID, *, write: bool = False) -> Partner:
    """The partner `pk` for a registry reader (for a coordinator only with `write`);
    Http404 otherwise and for no such partner."""
    if write and not user.has_role(Role.COORDINATOR):
        raise Http404
    partner = visible_partners(user).filter(pk=pk).select_related("team", "compromised_by").first()
    if partner is None:
        raise Http404
    return partner


def partner_of_user(user: User) -> Partner:
    """The partner a partner account speaks for: the one whose accounts team it is in.
    Http404 without the partner role, without such a partner, and for an account in
    several partners' teams (it must speak for one organization only)."""
    if not user.has_role(Role.PARTNER):
        raise Http404
    found = list(
        Partner.objects.filter(team__role=Role.PARTNER, team__memberships__user=user).distinct()[:2]
    )
    if len(found) != 1:
        raise Http404
    return found[0]


class Progress(models.TextChoices):
    """What a partner may know of a referral's case: nothing finer than this."""

    RECEIVED = "received", pgettext_lazy("referral state", "Received")
    IN_PROGRESS = "in_progress", _("In progress")
    CLOSED = "closed", _("Closed")


def progress(state: str | None) -> Progress:
    """The coarse state of a case in `state`: received while new, closed once it ended
    (closed, declined, withdrawn, duplicate, referred elsewhere), in progress otherwise
    (on hold and quarantined included: a partner is never told why)."""
    if state in (None, State.NEW):
        return Progress.RECEIVED
    if state in ENDED:
        return Progress.CLOSED
    return Progress.IN_PROGRESS


@dataclass(frozen=True)
class SentReferral:
    """A referral as its partner sees it: no content, no case state beyond `progress`."""

    id: uuid.UUID
    reference: str
    referred_on: date
    progress: Progress


def _shown(partner: Partner) -> QuerySet[Referral]:
    if partner.compromised_at is not None:
        return Referral.objects.none()
    return Referral.objects.filter(partner=partner)


def _as_sent(row: tuple[uuid.UUID, str, object, str | None]) -> SentReferral:
    pk, reference, referred_at, state = row
    return SentReferral(
        pk,
        reference,
        timezone.localdate(referred_at),  # type: ignore[arg-type]
        progress(state),
    )


FIELDS = ("pk", "request__reference", "referred_at", "request__case__state")


def sent_referrals(partner: Partner, page: str | None = None) -> Page[SentReferral]:
    """One page of the partner's own referrals, newest first (none while it is flagged
    compromised)."""
    rows = _shown(partner).order_by("-referred_at", "-pk").values_list(*FIELDS)
    shown = Paginator(rows, REFERRALS_PER_PAGE).get_page(page)
    shown.object_list = [_as_sent(row) for row in shown.object_list]
    return shown


def get_referral_for_partner(partner: Partner, pk: uuid.UUID) -> SentReferral:
    """One of the partner's own referrals; Http404 for another partner's, for none, and
    while the partner is flagged compromised."""
    row = _shown(partner).filter(pk=pk).values_list(*FIELDS).first()
    if row is None:
        raise Http404
    return _as_sent(row)

"""Partners, their accounts and referrals without the registry's cryptography, for tests of
access and pages."""

import itertools
from datetime import timedelta
from typing import Any

from django.utils import timezone

from conftest import make_user
from waystation.accounts.models import Membership, Role, Team, User
from waystation.cases.models import Case
from waystation.cases.tests.factories import make_case
from waystation.partners.models import Partner, PartnerAgreement, Referral
from waystation.vault.models import Keyring

_numbers = itertools.count(1)


def make_partner(
    *, countries: tuple[str, ...] = ("NG",), agreement: bool = True, **fields: Any
) -> Partner:
    """A partner with no sealed contact and, unless `agreement=False`, an agreement in
    force (signed a month ago, for a year)."""
    number = next(_numbers)
    partner = Partner.objects.create(
        name=fields.pop("name", f"Partner {number}"),
        kind=fields.pop("kind", Partner.Kind.LGBTQI_ORGANIZATION),
        countries=list(countries),
        keyring=Keyring.objects.create(),
        **fields,
    )
    if agreement:
        today = timezone.localdate()
        PartnerAgreement.objects.create(
            partner=partner,
            version="1",
            signed_on=today - timedelta(days=30),
            expires_on=today + timedelta(days=335),
        )
    return partner


def make_partner_user(partner: Partner, **fields: Any) -> User:
    """An account of the partner, in its team (made on first use), ready to sign in."""
    if partner.team is None:
        partner.team = Team.objects.create(
            name=f"Partner team {partner.pk.hex[:8]}", role=Role.PARTNER
        )
        partner.save(update_fields=["team"])
    user = make_user(None, **fields)
    Membership.objects.create(team=partner.team, user=user)
    return user


def make_referral(partner: Partner, **case_fields: Any) -> Referral:
    """A stored request and its case (`make_case`), referred by the partner."""
    case = make_case(**case_fields)
    Case.objects.filter(pk=case.pk).update(referred_by=partner)
    case.refresh_from_db()
    return Referral.objects.create(partner=partner, request=case.request, member_confirmed=True)


def matrix_objects(user: User | None) -> dict[str, object]:
    """For the permission matrix: a partner in the registry, and referrals of the user's
    own partner (for an account with the partner role, the partner whose team it is in)
    and of another partner."""
    own = make_partner()
    if user is not None and user.has_role(Role.PARTNER):
        own.team = Team.objects.get(memberships__user=user, role=Role.PARTNER)
        own.save(update_fields=["team"])
    other = make_partner()
    return {
        "partner": own,
        "referral_own": make_referral(own),
        "referral_foreign": make_referral(other),
    }

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from waystation.accounts.models import Membership, Role, Team, User
from waystation.audit.services import log_action
from waystation.vault import services as vault

DEMO_DOMAIN = "demo.example"
# A fund with money in it, for the demo committee to allocate.
DEMO_FUND = "Demo emergency fund"
# Printed on purpose; demo accounts must change it outside demo mode.
DEMO_PASSWORD_SUFFIX = "-demo-waystation"  # noqa: S105
# The demo surge volunteer works this crisis response's new requests for a month.
DEMO_CRISIS = "Demo crisis response"
DEMO_CRISIS_COUNTRIES = ["AF", "UA"]
# The demo partner account belongs to this organization, with an agreement in force.
DEMO_PARTNER = "Demo partner organization"
DEMO_PARTNER_COUNTRIES = ["GH", "KE", "NG", "UG"]
DEMO_SURGE_DAYS = 30


def demo_email(role: str) -> str:
    return f"{role.replace('_', '-')}@{DEMO_DOMAIN}"


def demo_password(role: str) -> str:
    return f"{role.replace('_', '-')}{DEMO_PASSWORD_SUFFIX}"


class Command(BaseCommand):
    help = "Create the demo organization: one team and one account per role. Safe to run again."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_MODE:
            raise CommandError("seed_demo runs only with WAYSTATION_DEMO=true.")
        created = 0
        with transaction.atomic():
            for role in Role:
                team, _ = Team.objects.get_or_create(
                    name=f"Demo {role.label}", defaults={"role": role.value}
                )
                user = User.objects.filter(email=demo_email(role.value)).first()
                if user is None:
                    user = User.objects.create_user(
                        demo_email(role.value),
                        demo_password(role.value),
                        display_name=f"Demo {role.label}",
                        is_demo=True,
                    )
                    log_action(None, "accounts.user.created", user, details={"demo": True})
                    created += 1
                Membership.objects.get_or_create(team=team, user=user)
                if not vault.has_keys(user):
                    # Demo accounts get their encryption keys now, so the public form can
                    # seal requests to the demo intake team from the first minute.
                    vault.create_user_key(user, demo_password(role.value))
            surge_ends = _demo_crisis_response()
            _demo_partner()
            _demo_fund()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo organization ready ({created} new accounts). Sign in at "
                "http://127.0.0.1:8000/staff/sign-in/ with:"
            )
        )
        for role in Role:
            line = f"  {role.label:<20} {demo_email(role.value):<34} {demo_password(role.value)}"
            if role == Role.SURGE_VOLUNTEER:
                line += f"  (only {DEMO_CRISIS}, until {surge_ends:%Y-%m-%d})"
            if role == Role.PARTNER:
                line += f"  ({DEMO_PARTNER}, refers from {', '.join(DEMO_PARTNER_COUNTRIES)})"
            self.stdout.write(line)
        self.stdout.write(
            "At first sign-in each account sets up a second factor: scan the code shown with "
            "any authenticator app (Aegis, FreeOTP, Google Authenticator, 1Password)."
        )


def _demo_crisis_response() -> datetime:
    """Tie the demo surge team to a demo crisis response and give the demo surge volunteer
    an end date (renewed once passed, so the demo keeps working). Returns the end date."""
    # Cases attach to accounts, not the reverse; only the demo seed reaches across.
    from waystation.cases.models import CrisisResponse

    user = User.objects.get(email=demo_email(Role.SURGE_VOLUNTEER))
    team = Team.objects.get(name=f"Demo {Role.SURGE_VOLUNTEER.label}")
    if not CrisisResponse.objects.filter(surge_team=team).exists():
        response = CrisisResponse.objects.create(
            name=DEMO_CRISIS,
            countries=DEMO_CRISIS_COUNTRIES,
            starts_on=timezone.localdate(),
            surge_team=team,
        )
        log_action(None, "cases.crisis.created", response, details={"demo": True})
    if user.expires_at is None or user.has_expired():
        user.expires_at = timezone.now() + timedelta(days=DEMO_SURGE_DAYS)
        user.save(update_fields=["expires_at"])
    return user.expires_at


def _demo_partner() -> None:
    """Register the demo partner organization for the demo partner account, with an
    agreement in force (renewed once lapsed), so the partner portal works at once."""
    # Partners attach to accounts, not the reverse; only the demo seed reaches across.
    from waystation.partners import services as partners
    from waystation.partners.models import Partner

    team = Team.objects.get(name=f"Demo {Role.PARTNER.label}")
    coordinator = User.objects.get(email=demo_email(Role.COORDINATOR))
    partner = Partner.objects.filter(team=team).first()
    if partner is None:
        # Its contact is sealed to these teams: their keys must exist first.
        for role in (Role.COORDINATOR, Role.CASEWORKER, Role.VERIFIER):
            vault.ensure_team_key(Team.objects.get(name=f"Demo {role.label}"))
        partner = partners.create_partner(
            name=DEMO_PARTNER,
            kind=Partner.Kind.LGBTQI_ORGANIZATION,
            countries=DEMO_PARTNER_COUNTRIES,
            trust=Partner.Trust.ESTABLISHED,
            contact={"channel": "signal", "handle": "+1 555 0100 (demo)"},
            by=coordinator,
        )
        Partner.objects.filter(pk=partner.pk).update(team=team)
    today = timezone.localdate()
    if partners.agreement_in_force(partner, on=today) is None:
        partners.record_agreement(
            partner,
            version=f"demo-{today:%Y%m%d}",
            signed_on=today - timedelta(days=1),
            expires_on=today + timedelta(days=365),
            by=coordinator,
        )


def _demo_fund() -> None:
    """A fund with money in it, so the demo committee has something to allocate."""
    from waystation.funding import services as funding
    from waystation.funding.models import Fund

    if Fund.objects.filter(name=DEMO_FUND).exists():
        return
    finance = User.objects.get(email=demo_email(Role.FINANCE))
    fund = Fund(
        name=DEMO_FUND,
        source=Fund.Source.DONATIONS,
        currency=settings.FUNDING_CURRENCY,
        starts_on=timezone.localdate().replace(month=1, day=1),
    )
    funding.save_fund(fund, by=finance)
    funding.deposit(fund, Decimal("20000"), memo="Demo donations", by=finance)

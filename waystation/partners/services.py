"""Every write to the partner network: the registry (partners, their sealed contact,
agreements, the compromised flag, partner accounts) and the portal's referrals.

Each function runs in one transaction with its audit entry. Audit entries hold ids and
codes only: never a partner's contact, nor anything a referral says.
"""

from datetime import date

from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from waystation.accounts import services as accounts
from waystation.accounts.models import Role, Team, User
from waystation.audit.services import log_action
from waystation.cases import services as cases
from waystation.intake import services as intake
from waystation.vault import services as vault

from .models import Partner, PartnerAgreement, Referral

# The teams whose keys open a partner's sealed contact: coordinators keep the registry,
# caseworkers and verifiers reach partners to check cases.
CONTACT_ROLES = (Role.COORDINATOR, Role.CASEWORKER, Role.VERIFIER)


class PartnerRefusedError(Exception):
    """A change the registry or the portal does not allow; `message` says why, in words for
    the person who asked. Nothing was recorded."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CompromiseReason(models.TextChoices):
    """Why a partner is flagged compromised, or no longer: a code in the audit entry, never
    free text."""

    ACCOUNT_TAKEN_OVER = "account_taken_over", gettext_lazy("An account or device was taken over")
    INFILTRATED = "infiltrated", gettext_lazy("Infiltrated, or under pressure from authorities")
    MEMBERS_ARRESTED = "members_arrested", gettext_lazy("Staff or members were arrested")
    DATA_LEAKED = "data_leaked", gettext_lazy("Its lists or messages leaked")
    OTHER = "other", gettext_lazy("Other reason")
    CHECKED_SAFE = "checked_safe", gettext_lazy("Checked: safe to work with again")
    MISTAKE = "mistake", gettext_lazy("Flagged by mistake")


FLAG_REASONS = frozenset(
    {
        CompromiseReason.ACCOUNT_TAKEN_OVER,
        CompromiseReason.INFILTRATED,
        CompromiseReason.MEMBERS_ARRESTED,
        CompromiseReason.DATA_LEAKED,
        CompromiseReason.OTHER,
    }
)
CLEAR_REASONS = frozenset({CompromiseReason.CHECKED_SAFE, CompromiseReason.MISTAKE})


def _prepared_keyring() -> vault.PreparedKeyring:
    """A new key for a partner's contact, sealed to the current key of every coordinator,
    caseworker and verifier team that a member holds: public keys only, so no one's
    unlocked keys are needed. Raises PartnerRefusedError when no coordinator team holds
    keys yet (the contact could never be read again)."""
    coordinators = vault.held_team_keys(Role.COORDINATOR)
    if not coordinators:
        raise PartnerRefusedError(
            _(
                "No coordinator team holds encryption keys yet, so the contact could not be "
                "read later. Set up your encryption keys first (on the unlock page), then try "
                "again."
            )
        )
    others = [key for role in CONTACT_ROLES[1:] for key in vault.held_team_keys(role)]
    return vault.prepare_keyring([*coordinators, *others])


def create_partner(
    *,
    name: str,
    kind: str,
    countries: list[str],
    trust: int,
    contact: dict[str, str],
    by: User,
) -> Partner:
    """Register a partner organization; its contact (channel and handle) is sealed under a
    new keyring (see `_prepared_keyring`). Raises PartnerRefusedError, recording nothing,
    when no coordinator team holds keys or the name is taken."""
    prepared = _prepared_keyring()
    partner = Partner(
        name=name,
        kind=kind,
        countries=sorted(set(countries)),
        trust=trust,
        keyring=prepared.keyring,
    )
    partner.seal(prepared.key, contact=contact)
    try:
        with transaction.atomic():
            vault.save_prepared_keyring(prepared)
            partner.save(force_insert=True)
            log_action(
                by,
                "partners.partner.created",
                partner,
                details={"kind": kind, "trust": trust, "countries": len(partner.countries)},
            )
    except IntegrityError as error:
        raise PartnerRefusedError(_("A partner with this name is registered already.")) from error
    return partner


def update_partner(
    partner: Partner,
    *,
    name: str,
    kind: str,
    countries: list[str],
    trust: int,
    contact: dict[str, str] | None,
    by: User,
) -> Partner:
    """Change a partner's registry entry. A new contact (None keeps the old one) is sealed
    under a new keyring for today's teams, and the old keyring is shredded, so copies of
    the old contact (backups) can no longer be opened. Raises PartnerRefusedError,
    changing nothing."""
    prepared = _prepared_keyring() if contact is not None else None
    try:
        with transaction.atomic():
            current = Partner.objects.select_for_update().get(pk=partner.pk)
            wanted = {
                "name": name,
                "kind": kind,
                "countries": sorted(set(countries)),
                "trust": trust,
            }
            changed = [field for field, value in wanted.items() if getattr(current, field) != value]
            for field, value in wanted.items():
                setattr(current, field, value)
            old_keyring = None
            if prepared is not None and contact is not None:
                old_keyring = current.keyring
                current.keyring = vault.save_prepared_keyring(prepared)
                current.seal(prepared.key, contact=contact)
                changed.append("contact")
            current.save()
            if old_keyring is not None:
                vault.shred_keyring(old_keyring, by=by)
            log_action(
                by, "partners.partner.changed", current, details={"fields": ",".join(changed)}
            )
    except IntegrityError as error:
        raise PartnerRefusedError(_("A partner with this name is registered already.")) from error
    return current


def agreement_in_force(partner: Partner, *, on: date | None = None) -> PartnerAgreement | None:
    """The partner's signed agreement in force on `on` (today by default): signed on or
    before that day and expiring after it (an agreement no longer holds on its expiry
    date). The one lasting longest when several are; None when none is. Without one, a
    partner can neither refer people nor be asked to vouch."""
    day = on or timezone.localdate()
    return (
        PartnerAgreement.objects.filter(partner=partner, signed_on__lte=day, expires_on__gt=day)
        .order_by("-expires_on", "-signed_on")
        .first()
    )


def record_agreement(
    partner: Partner, *, version: str, signed_on: date, expires_on: date, by: User
) -> PartnerAgreement:
    """Record a data-sharing and confidentiality agreement the partner signed. Raises
    PartnerRefusedError, recording nothing, for dates in the wrong order, a signature in
    the future, or a version recorded already."""
    if expires_on <= signed_on:
        raise PartnerRefusedError(_("The agreement must expire after the day it was signed."))
    if signed_on > timezone.localdate():
        raise PartnerRefusedError(_("The signing date is in the future."))
    try:
        with transaction.atomic():
            agreement = PartnerAgreement.objects.create(
                partner=partner,
                version=version,
                signed_on=signed_on,
                expires_on=expires_on,
                recorded_by=by,
            )
            log_action(
                by,
                "partners.agreement.recorded",
                agreement,
                details={"partner": str(partner.pk), "expires_on": expires_on.isoformat()},
            )
    except IntegrityError as error:
        raise PartnerRefusedError(
            _("Version %(version)s is recorded already for this partner.") % {"version": version}
        ) from error
    return agreement


def set_compromised(partner: Partner, *, compromised: bool, reason: str, by: User) -> Partner:
    """Flag a partner compromised (`compromised=True`) or clear the flag, with a reason
    code. While flagged, the partner's portal is closed and the cases it referred carry a
    signal. Coordinators are told (without detail) after commit. Raises
    PartnerRefusedError, changing nothing, for a reason that does not fit or when someone
    else changed the flag meanwhile."""
    if reason not in (FLAG_REASONS if compromised else CLEAR_REASONS):
        raise PartnerRefusedError(_("Choose a reason."))
    with transaction.atomic():
        current = Partner.objects.select_for_update().get(pk=partner.pk)
        if (current.compromised_at is not None) == compromised:
            raise PartnerRefusedError(
                _("Someone else changed this flag while you were working. Look again.")
            )
        current.compromised_at = timezone.now() if compromised else None
        current.compromised_by = by if compromised else None
        current.save(update_fields=["compromised_at", "compromised_by"])
        action = "flagged_compromised" if compromised else "compromise_cleared"
        log_action(by, f"partners.partner.{action}", current, details={"reason": reason})
        if compromised:
            transaction.on_commit(_alert_coordinators_of_compromise)
    return current


def _alert_coordinators_of_compromise() -> None:
    accounts.alert_coordinators(
        gettext_lazy("%(site)s: a partner organization was flagged compromised"),
        gettext_lazy(
            "A partner organization was flagged compromised. Its portal is closed and the "
            "cases it referred show a signal. Sign in to review."
        ),
    )


def _team_name(partner: Partner) -> str:
    name = f"Partner · {partner.name}"[:80]
    if Team.objects.filter(name=name).exists():
        name = f"{name[:70]} · {partner.pk.hex[:6]}"
    return name


def create_partner_account(
    partner: Partner, *, email: str, display_name: str, by: User
) -> tuple[User, str]:
    """An account for someone at the partner, through the usual account creation (a
    one-time password, then their own password and a second factor at first sign-in), in
    the partner's team (role partner), which is created on first use. Returns the account
    and its one-time password, to show once. Raises IntegrityError when the address is
    taken, PartnerRefusedError while the partner is flagged compromised; nothing is
    recorded then."""
    with transaction.atomic():
        current = Partner.objects.select_for_update().get(pk=partner.pk)
        if current.compromised_at is not None:
            raise PartnerRefusedError(
                _("This partner is flagged compromised: clear the flag before adding accounts.")
            )
        team = current.team
        if team is None:
            team = Team.objects.create(name=_team_name(current), role=Role.PARTNER)
            current.team = team
            current.save(update_fields=["team"])
            log_action(by, "partners.partner.team_created", current, details={"team": str(team.pk)})
        user, password = accounts.create_staff(email, display_name, [team], by=by)
        log_action(by, "partners.partner.account_created", current, details={"user": str(user.pk)})
    return user, password


def referral_refusal(partner: Partner, *, country: str | None = None) -> str:
    """Why the partner may not refer someone now (in `country`, when given), in words for
    the partner; "" when it may."""
    if partner.compromised_at is not None:
        return _(
            "Referrals from your organization are paused. Contact the coordinators through "
            "your usual safe channel."
        )
    if agreement_in_force(partner) is None:
        return _(
            "Your organization has no data-sharing agreement in force (it is missing or has "
            "expired), so no new referral can be sent. Ask the coordinators to renew it."
        )
    if country is not None and country not in partner.countries:
        return _(
            "This country is outside the countries your organization serves. Choose one of "
            "your countries, or ask the coordinators to add it."
        )
    return ""


def refer_person(
    partner: Partner,
    answers: intake.Answers,
    *,
    language: str,
    form_token: str,
    member_confirmed: bool,
    by: User,
) -> tuple[Referral, str]:
    """A partner refers a person: the request is stored and sealed exactly as a public
    request (`intake.submit_request`, sealed to the intake team; its case opens with it),
    then marked as this partner's referral on the request and the case, all in one
    transaction with the partner's row locked, so a flag or an expiry recorded meanwhile
    is respected. Returns the referral and the follow-up code, to show once.

    Raises PartnerRefusedError (compromised, no agreement in force, a country the partner
    does not serve, membership not confirmed), intake.AlreadySubmittedError (the same form
    sent twice) or intake.NotReadyError, recording nothing."""
    if not member_confirmed:
        raise PartnerRefusedError(
            _("Confirm that the person is a member of the community your organization serves.")
        )
    with transaction.atomic():
        current = Partner.objects.select_for_update().get(pk=partner.pk)
        refusal = referral_refusal(current, country=answers.country)
        if refusal:
            raise PartnerRefusedError(refusal)
        request, code = intake.submit_request(answers, language=language, form_token=form_token)
        referral = Referral.objects.create(
            partner=current, request=request, referred_by=by, member_confirmed=True
        )
        cases.mark_referred(request, current.pk)
        log_action(
            by,
            "partners.referral.sent",
            referral,
            details={"partner": str(current.pk), "request": str(request.pk)},
        )
    return referral, code


def replayed_referral(partner: Partner, form_token: str) -> tuple[Referral, str] | None:
    """The referral a form token stored for this partner and its follow-up code, when the
    same form is sent again within intake's replay window; None otherwise (and for a token
    that stored another partner's referral or a public request)."""
    replayed = intake.replay_submission(form_token)
    if replayed is None:
        return None
    request, code = replayed
    referral = Referral.objects.filter(partner=partner, request=request).first()
    return (referral, code) if referral is not None else None

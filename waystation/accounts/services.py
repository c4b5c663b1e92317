"""Every write to accounts, teams, second factors and agreements.

Each function runs in a transaction and leaves an audit entry; e-mail goes out after commit.
"""

import secrets
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_totp.models import TOTPDevice

from waystation.audit.services import log_action

from .models import (
    Agreement,
    AgreementAcceptance,
    LoginThrottle,
    Membership,
    RecoveryCode,
    RecoveryCodeDevice,
    Role,
    Team,
    User,
    normalize_email,
)

# Wait after the n-th failure inside one window before the next attempt is allowed.
FAILURE_DELAYS = (0, 0, 1, 2, 4)
THROTTLE_WINDOW = timedelta(minutes=1)
MAX_LOCKOUT = timedelta(hours=1)
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


@dataclass(frozen=True)
class SignInResult:
    user: User | None = None
    blocked_seconds: int = 0
    locked: bool = False
    expired: bool = False


def _reserve_attempt(email: str) -> int:
    """Count this attempt as a failure before the password is checked.

    Counting first keeps the limit exact when many attempts arrive at once: a success
    clears the count afterwards. Returns the seconds to wait when the attempt is refused.
    """
    now = timezone.now()
    with transaction.atomic():
        LoginThrottle.objects.get_or_create(key=LoginThrottle.key_for(email))
        throttle = LoginThrottle.objects.select_for_update().get(key=LoginThrottle.key_for(email))
        waiting = throttle.blocked_for(now)
        if waiting:
            return waiting
        if (
            throttle.window_started_at is None
            or now - throttle.window_started_at >= THROTTLE_WINDOW
        ):
            throttle.window_started_at, throttle.failures = now, 0
        throttle.failures += 1
        if throttle.failures >= settings.LOGIN_FAILURE_LIMIT:
            throttle.lockouts += 1
            lockout = min(THROTTLE_WINDOW * 2 ** (throttle.lockouts - 1), MAX_LOCKOUT)
            throttle.blocked_until = throttle.window_started_at + lockout
            throttle.failures, throttle.window_started_at = 0, None
        else:
            delay = FAILURE_DELAYS[min(throttle.failures, len(FAILURE_DELAYS) - 1)]
            throttle.blocked_until = now + timedelta(seconds=delay)
        throttle.save()
    return 0


def sign_in(request: HttpRequest, email: str, password: str) -> SignInResult:
    """Check a password sign-in, throttled per typed address whether or not it exists.

    Unknown addresses and wrong passwords cost the same password hash and give the same
    result. Failed and throttled attempts are audited without the address typed.
    """
    waiting = _reserve_attempt(email)
    if waiting:
        known = User.objects.filter(email=normalize_email(email)).first()
        with transaction.atomic():
            log_action(
                None,
                "accounts.login.throttled",
                object_type="user",
                object_id=known.pk if known else None,
            )
        return SignInResult(blocked_seconds=waiting)
    user = authenticate(request, email=normalize_email(email), password=password)
    if user is None:
        known = User.objects.filter(email=normalize_email(email)).first()
        with transaction.atomic():
            log_action(
                None,
                "accounts.login.failed",
                object_type="user",
                object_id=known.pk if known else None,
                details={"factor": "password"},
            )
        return SignInResult()
    if not isinstance(user, User):
        return SignInResult()
    LoginThrottle.objects.filter(key=LoginThrottle.key_for(email)).delete()
    if user.locked_at:
        with transaction.atomic():
            log_action(user, "accounts.login.refused_locked", user)
        return SignInResult(locked=True)
    if user.has_expired():
        # Told only after the right password, like a lock; its keys go back now if the
        # daily sweep has not taken them yet.
        end_account(user, by=None)
        with transaction.atomic():
            log_action(user, "accounts.login.refused_expired", user)
        return SignInResult(expired=True)
    with transaction.atomic():
        log_action(user, "accounts.login.password_accepted", user)
    return SignInResult(user=user)


def record_failed_secret(user: User, factor: str) -> None:
    """Count a wrong secret other than the password (e.g. a recovery key) toward the
    sign-in throttle, and audit it."""
    _reserve_attempt(user.email)
    with transaction.atomic():
        log_action(user, "accounts.login.failed", user, details={"factor": factor})


def record_second_factor_failure(user: User) -> None:
    with transaction.atomic():
        log_action(user, "accounts.login.failed", user, details={"factor": "otp"})


def record_session_started(user: User, device_kind: str) -> None:
    with transaction.atomic():
        log_action(user, "accounts.session.started", user, details={"factor": device_kind})


def record_session_ended(user: User, reason: str) -> None:
    with transaction.atomic():
        log_action(user, "accounts.session.ended", user, details={"reason": reason})


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def _replace_recovery_codes(user: User) -> list[str]:
    RecoveryCodeDevice.objects.filter(user=user).delete()
    device = RecoveryCodeDevice.objects.create(user=user, name="recovery codes", confirmed=True)
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.bulk_create(
        RecoveryCode(device=device, digest=RecoveryCode.hash_code(code)) for code in codes
    )
    return codes


def pending_totp_device(user: User) -> TOTPDevice:
    """The unconfirmed authenticator being enrolled, created on first use."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def enrol_totp(user: User, device: TOTPDevice) -> list[str]:
    """Confirm a new authenticator, replace every older one and issue new recovery codes.

    Ends every other session of the user. Returns the recovery codes, to be shown once.
    """
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _replace_recovery_codes(user)
        _end_all_sessions(user)
        log_action(user, "accounts.user.second_factor_enrolled", user)
    return codes


def regenerate_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes; the old ones stop working at once."""
    with transaction.atomic():
        codes = _replace_recovery_codes(user)
        log_action(user, "accounts.user.recovery_codes_replaced", user)
    return codes


def _end_all_sessions(user: User) -> None:
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    user.refresh_from_db(fields=["session_epoch"])


def change_password(user: User, new_password: str, *, old_password: str | None = None) -> None:
    """Set a new password chosen by the user; other sessions end with the old hash.

    With the old password, the user's encryption keys are re-wrapped under the new one;
    keys the old password no longer opened (after a reset) stay for recovery.
    """
    from waystation.vault import services as vault

    if old_password is not None:
        with suppress(vault.KeysUnavailableError, vault.WrongSecretError):
            vault.rewrap_for_new_password(
                vault.unlock_with_password(user, old_password), user, new_password
            )
    with transaction.atomic():
        user.set_password(new_password)
        user.must_change_password = False
        user.is_demo = False
        user.save(update_fields=["password", "must_change_password", "is_demo"])
        log_action(user, "accounts.user.password_changed", user)


def lock_out(user: User) -> None:
    """ "Lock me out now": end every session and lock the account until a coordinator unlocks it.

    Coordinators get a content-free e-mail after commit.
    """
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(locked_at=timezone.now())
        _end_all_sessions(user)
        log_action(user, "accounts.user.locked", user)
        transaction.on_commit(_alert_coordinators_of_lock)


def alert_coordinators(subject: str | Promise, message: str | Promise) -> None:
    """E-mail every active coordinator, in the site's language. `subject` may hold
    %(site)s. Alerts carry no detail of a person or a case: only what to look at."""
    recipients = list(
        User.objects.filter(is_active=True, memberships__team__role=Role.COORDINATOR)
        .values_list("email", flat=True)
        .distinct()
    )
    if not recipients:
        return
    with translation.override(settings.LANGUAGE_CODE):
        send_mail(
            subject=str(subject) % {"site": settings.SITE_TITLE},
            message=str(message),
            from_email=None,
            recipient_list=recipients,
            fail_silently=True,
        )


def _alert_coordinators_of_lock() -> None:
    alert_coordinators(
        gettext_lazy("%(site)s: a staff account was locked"),
        gettext_lazy(
            'A staff member used "Lock me out now". Their sessions have ended and their '
            "account stays locked until a coordinator unlocks it. Sign in to review."
        ),
    )


def create_staff(
    email: str,
    display_name: str,
    teams: list[Team],
    *,
    by: User | None,
    expires_at: datetime | None = None,
) -> tuple[User, str]:
    """Create an account with a one-time password that must be changed at first sign-in,
    ending at `expires_at` when given (see end_account).

    Raises IntegrityError when the address is taken.
    """
    password = secrets.token_urlsafe(15)
    details: dict[str, str | int | bool | None] = {"teams": len(teams)}
    if expires_at is not None:
        details["expires_at"] = expires_at.isoformat()
    with transaction.atomic():
        user = User.objects.create_user(
            email,
            password,
            display_name=display_name,
            must_change_password=True,
            expires_at=expires_at,
        )
        Membership.objects.bulk_create(Membership(team=team, user=user) for team in teams)
        log_action(by, "accounts.user.created", user, details=details)
    return user, password


def set_teams(user: User, teams: list[Team], *, by: User) -> None:
    """Make the user's teams exactly `teams`, auditing each change.

    A removed member loses their copies of the team's keys and the team key rotates. An
    added member receives the team's keys when a member with keys next signs in (only a
    member can open them), or at once when nobody holds the team's key yet.
    """
    from waystation.vault import services as vault

    with transaction.atomic():
        current = set(Membership.objects.filter(user=user).values_list("team_id", flat=True))
        wanted = {team.pk for team in teams}
        for team in Team.objects.filter(pk__in=current - wanted):
            Membership.objects.filter(user=user, team=team).delete()
            log_action(by, "accounts.team.member_removed", team, details={"user": str(user.pk)})
            vault.remove_team_member_keys(team, user, by=by)
        for team in Team.objects.filter(pk__in=wanted - current):
            Membership.objects.create(user=user, team=team)
            log_action(by, "accounts.team.member_added", team, details={"user": str(user.pk)})
            with suppress(vault.KeysUnavailableError):
                vault.ensure_team_key(team)


def unlock_user(user: User, *, by: User) -> None:
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(locked_at=None)
        log_action(by, "accounts.user.unlocked", user)


def deactivate_user(user: User, *, by: User) -> None:
    """Deactivate an account, end its sessions, and take back its team keys (each of its
    teams' keys rotates). Reactivated, it receives them again from a colleague."""
    from waystation.vault import services as vault

    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=False)
        _end_all_sessions(user)
        log_action(by, "accounts.user.deactivated", user)
        for team in Team.objects.filter(memberships__user=user):
            vault.remove_team_member_keys(team, user, by=by)


def end_account(user: User, *, by: User | None) -> bool:
    """End an account: from now on it cannot sign in, every session of it ends, and its
    copies of team keys are deleted (each of its teams' keys rotates, so what is sealed
    from now on is out of its reach). With `by`, a coordinator ends it before its date;
    with None, its date has passed. Returns False when nothing was left to do.
    """
    from waystation.vault import services as vault

    with transaction.atomic():
        current = User.objects.select_for_update().get(pk=user.pk)
        early = not current.has_expired()
        if not early and not current.team_key_copies.exists():
            return False
        if early:
            current.expires_at = timezone.now()
            current.save(update_fields=["expires_at"])
        _end_all_sessions(current)
        log_action(by, "accounts.user.ended" if early else "accounts.user.expired", current)
        for team in Team.objects.filter(memberships__user=current):
            vault.remove_team_member_keys(team, current, by=by)
    user.expires_at, user.session_epoch = current.expires_at, current.session_epoch
    return True


def end_expired_accounts() -> int:
    """Take back the team keys of every account whose end date has passed (a daily job; a
    session or sign-in of such an account does it at once). Returns how many it ended."""
    expired = User.objects.filter(expires_at__lte=timezone.now(), team_key_copies__isnull=False)
    return sum(end_account(user, by=None) for user in expired.distinct().order_by("pk"))


def reactivate_user(user: User, *, by: User) -> None:
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=True)
        log_action(by, "accounts.user.reactivated", user)


def reset_second_factor(user: User, *, by: User) -> None:
    """Remove the user's authenticator and recovery codes; they enrol again at next sign-in."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        RecoveryCodeDevice.objects.filter(user=user).delete()
        _end_all_sessions(user)
        log_action(by, "accounts.user.second_factor_reset", user)


def reset_password(user: User, *, by: User) -> str:
    """Give the user a one-time password to change at next sign-in. Returns it, to show once."""
    password = secrets.token_urlsafe(15)
    with transaction.atomic():
        user.set_password(password)
        user.must_change_password = True
        user.save(update_fields=["password", "must_change_password"])
        log_action(by, "accounts.user.password_reset", user)
    return password


def publish_agreement(role: str, title: str, body: str, *, by: User) -> Agreement:
    """Publish the next version of the agreement for `role` ("" for everyone).

    Everyone it applies to must accept it before seeing any further staff page.
    """
    for _attempt in range(3):
        try:
            with transaction.atomic():
                latest = Agreement.objects.filter(role=role).aggregate(v=Max("version"))["v"] or 0
                agreement = Agreement.objects.create(
                    role=role, version=latest + 1, title=title, body=body, published_by=by
                )
                log_action(
                    by,
                    "accounts.agreement.published",
                    agreement,
                    details={"version": agreement.version, "role": role},
                )
                return agreement
        except IntegrityError:
            # Two coordinators published at once; the other took this number.
            continue
    raise IntegrityError("Could not number the agreement version.")


def accept_agreements(user: User, agreements: list[Agreement]) -> None:
    with transaction.atomic():
        for agreement in agreements:
            _acceptance, created = AgreementAcceptance.objects.get_or_create(
                agreement=agreement, user=user
            )
            if created:
                log_action(
                    user,
                    "accounts.agreement.accepted",
                    agreement,
                    details={"version": agreement.version},
                )


def verify_second_factor(user: User, code: str) -> TOTPDevice | RecoveryCodeDevice | None:
    """Check an authenticator code (six digits) or a recovery code (anything else).

    Rejects a code already used (TOTP replay) and respects django-otp's throttling. A used
    recovery code is deleted. Returns the device that accepted the code, or None.
    """
    is_totp = code.isascii() and code.isdigit() and len(code) == 6
    model = TOTPDevice if is_totp else RecoveryCodeDevice
    with transaction.atomic():
        for device in model.objects.devices_for_user(user, confirmed=True).select_for_update():
            if device.verify_token(code):
                if not is_totp:
                    log_action(user, "accounts.user.recovery_code_used", user)
                return device
    record_second_factor_failure(user)
    return None

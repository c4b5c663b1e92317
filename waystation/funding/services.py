"""Every write of funding about funds, exchange rates and funding requests (the
committee's writes are in `committee.py`, payments in `payments.py`). Each runs in one
transaction with its audit entry; audit entries hold ids, codes and amounts, never a
summary, minutes or a payment reference.
"""

import csv
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from waystation.accounts.models import Role, Team, User
from waystation.audit.services import log_action
from waystation.cases.models import Case, CrisisResponse, State
from waystation.cases.services import transition
from waystation.cases.workflow import TransitionRefusedError
from waystation.planning.models import Plan
from waystation.vault import services as vault
from waystation.vault.fields import decrypt_value
from waystation.verification.services import require_verified

from . import ledger
from .models import Criterion, Envelope, ExchangeRate, Fund, FundingRequest, LineItem
from .money import MissingRateError, is_currency, rates_on, reporting_currency, round_to
from .pseudonym import identifying_words

# Beyond this, an amount is a typing error, not a cost (a billion in any currency).
MAX_AMOUNT = Decimal("1000000000")
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"


class FundingRefusedError(TransitionRefusedError):
    """A write funding's rules do not allow; `message` says why, in words for the user."""


def _refuse(message: str) -> FundingRefusedError:
    return FundingRefusedError(message)


def check_amount(amount: Decimal, currency: str) -> Decimal:
    """`amount` rounded to `currency`'s minor unit. Raises FundingRefusedError for an
    unknown currency, a negative or zero amount, or an absurd one."""
    if not is_currency(currency):
        raise _refuse(_("%(currency)s is not a currency code.") % {"currency": currency})
    if amount <= 0:
        raise _refuse(_("An amount must be more than zero."))
    if amount >= MAX_AMOUNT:
        raise _refuse(_("That amount is too large to be a cost: check it."))
    return round_to(amount, currency)


# --- Funds --------------------------------------------------------------------------------


def save_fund(fund: Fund, *, crises: Sequence[CrisisResponse] = (), by: User) -> Fund:
    """Store a new or changed fund (validated by its form) and its crisis restrictions."""
    if not is_currency(fund.currency):
        raise _refuse(_("%(currency)s is not a currency code.") % {"currency": fund.currency})
    with transaction.atomic():
        adding = fund._state.adding
        if not adding:
            ledger.locked_fund(fund)
            fund.version += 1
        fund.save()
        fund.crises.set(crises)
        ledger.accounts(fund)
        log_action(
            by,
            "funding.fund.created" if adding else "funding.fund.changed",
            fund,
            details={"currency": fund.currency, "crises": len(crises)},
        )
    return fund


def deposit(fund: Fund, amount: Decimal, *, memo: str, by: User) -> None:
    """Money received into a fund."""
    with transaction.atomic():
        locked = ledger.locked_fund(fund)
        amount = check_amount(amount, locked.currency)
        ledger.move(locked, ledger.Movement.DEPOSIT, amount, by=by, memo=memo)
        log_action(by, "funding.fund.deposited", locked, details={"amount": str(amount)})


def withdraw(fund: Fund, amount: Decimal, *, memo: str, by: User) -> None:
    """Money taken back out of a fund (returned to a donor, moved elsewhere)."""
    with transaction.atomic():
        locked = ledger.locked_fund(fund)
        amount = check_amount(amount, locked.currency)
        ledger.move(locked, ledger.Movement.WITHDRAWAL, amount, by=by, memo=memo)
        log_action(by, "funding.fund.withdrawn", locked, details={"amount": str(amount)})


def allow_overdraft(fund: Fund, limit: Decimal, *, reason: str, by: User) -> Fund:
    """Let a fund's available money go down to -`limit` (0 ends the overdraft), for a
    stated reason; a coordinator's decision, audited. Refused below what is used already."""
    if limit < 0:
        raise _refuse(_("An overdraft cannot be negative."))
    if limit and not reason.strip():
        raise _refuse(_("Say why this fund may go below zero."))
    with transaction.atomic():
        locked = ledger.locked_fund(fund)
        limit = round_to(limit, locked.currency)
        if ledger.balances(locked)[ledger.Kind.AVAILABLE] < -limit:
            raise _refuse(_("The fund is already further below zero than that."))
        locked.overdraft_limit = limit
        locked.overdraft_reason = reason.strip()[:300] if limit else ""
        locked.version += 1
        locked.save(update_fields=["overdraft_limit", "overdraft_reason", "version"])
        log_action(by, "funding.fund.overdraft_set", locked, details={"limit": str(limit)})
    return locked


def save_envelope(envelope: Envelope, *, by: User) -> Envelope:
    with transaction.atomic():
        envelope.cap = round_to(envelope.cap, envelope.fund.currency)
        adding = envelope._state.adding
        envelope.save()
        log_action(
            by,
            "funding.envelope.created" if adding else "funding.envelope.changed",
            envelope,
            details={"fund": str(envelope.fund_id), "cap": str(envelope.cap)},
        )
    return envelope


def save_rubric(formset: Any, *, by: User) -> int:
    """Store a coordinator's changes to the scoring rubric (a valid model formset of
    Criterion); returns how many criteria are in use. Scores already given keep their
    criterion; a criterion is retired by taking it out of use, never deleted."""
    with transaction.atomic():
        saved = formset.save(commit=False)
        for criterion in saved:
            if criterion._state.adding:
                criterion.position = Criterion.objects.count()
            criterion.save()
        in_use = Criterion.objects.filter(active=True).count()
        log_action(
            by, "funding.rubric.changed", None, details={"changed": len(saved), "in_use": in_use}
        )
    return in_use


# --- Exchange rates -----------------------------------------------------------------------


def set_rate(
    currency: str, on: date, rate: Decimal, *, source: str, by: User | None
) -> ExchangeRate:
    """The rate of one unit of `currency` in the reporting currency on `on` (replacing one
    entered for that day)."""
    currency = currency.strip().upper()
    if not is_currency(currency) or currency == reporting_currency():
        raise _refuse(_("Give the code of a currency other than the reporting one."))
    if rate <= 0 or rate >= MAX_AMOUNT:
        raise _refuse(_("A rate must be more than zero."))
    with transaction.atomic():
        entry, _created = ExchangeRate.objects.update_or_create(
            currency=currency,
            on=on,
            defaults={"rate": rate, "source": source.strip()[:200], "entered_by": by},
        )
        log_action(
            by,
            "funding.rate.set",
            None,
            details={"currency": currency, "on": on.isoformat(), "rate": str(rate)},
        )
    return entry


class ImportRefusedError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def import_rates(lines: Iterable[bytes], *, source: str, by: User | None = None) -> int:
    """Store a CSV of `currency,date,rate` rows (rate: units of the reporting currency per
    unit of the currency), all in one transaction or none; ImportRefusedError lists every
    problem by line."""
    problems: list[str] = []
    rows: list[tuple[str, date, Decimal]] = []
    seen: dict[tuple[str, date], int] = {}
    text = []
    for number, raw in enumerate(lines, start=1):
        try:
            text.append(raw.decode("utf-8-sig" if number == 1 else "utf-8"))
        except UnicodeDecodeError:
            problems.append(f"line {number}: not UTF-8 text")
            text.append("\n")
    reader = csv.reader(text)
    for row in reader:
        number = reader.line_num
        if number == 1:
            if [cell.strip().casefold() for cell in row] != ["currency", "date", "rate"]:
                problems.append(
                    f"line 1: expected the columns currency,date,rate; found {','.join(row)}"
                )
                break
            continue
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 3:
            problems.append(f"line {number}: expected 3 fields, found {len(row)}")
            continue
        code, day_text, rate_text = (cell.strip() for cell in row)
        try:
            day = date.fromisoformat(day_text)
        except ValueError:
            problems.append(f"line {number}: {day_text!r} is not a date (YYYY-MM-DD)")
            continue
        try:
            rate = Decimal(rate_text)
        except InvalidOperation:
            problems.append(f"line {number}: {rate_text!r} is not a number")
            continue
        if not is_currency(code.upper()) or code.upper() == reporting_currency():
            problems.append(
                f"line {number}: {code!r} is not a currency other than the reporting one"
            )
            continue
        if not rate.is_finite() or rate <= 0:
            problems.append(f"line {number}: a rate must be more than zero")
            continue
        key = (code.upper(), day)
        if key in seen:
            problems.append(
                f"line {number}: {code} on {day_text} again (first on line {seen[key]})"
            )
            continue
        seen[key] = number
        rows.append((code.upper(), day, rate))
    if not problems and not rows:
        problems.append("the file holds no rates")
    if problems:
        raise ImportRefusedError(problems)
    with transaction.atomic():
        for code, day, rate in rows:
            set_rate(code, day, rate, source=source, by=by)
    return len(rows)


# --- Funding requests ---------------------------------------------------------------------


def _readers(case: Case) -> list[Team]:
    """The teams a request's summary is sealed to: the committee, finance, and the case's
    own team."""
    teams = list(Team.objects.filter(role__in=[Role.COMMITTEE_MEMBER, Role.FINANCE]))
    if case.team_id is not None:
        teams.append(case.team)  # type: ignore[arg-type]
    return teams


def _new_reference() -> str:
    return "F-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))


def create_request(case: Case, *, by: User) -> FundingRequest:
    """A draft funding request for a verified case with a plan, its summary keyring sealed
    to the committee, finance and the case's team. Raises FundingRefusedError (or
    TransitionRefusedError from verification)."""
    with transaction.atomic():
        current = Case.objects.select_for_update().get(pk=case.pk)
        require_verified(current)
        plan = Plan.objects.filter(case_id=current.pk).first()
        if plan is None or not plan.pathway:
            raise _refuse(_("Choose the case's pathway in its plan before asking for money."))
        open_request = FundingRequest.objects.filter(
            case=current,
            status__in=[
                FundingRequest.Status.DRAFT,
                FundingRequest.Status.SUBMITTED,
                FundingRequest.Status.SCHEDULED,
                FundingRequest.Status.DEFERRED,
            ],
        ).first()
        if open_request is not None:
            raise _refuse(
                _("This case has a funding request under way already (%(reference)s).")
                % {"reference": open_request.reference}
            )
        keyring, _key = vault.create_keyring(teams=_readers(current), users=[by], by=by)
        request = FundingRequest.objects.create(
            reference=_new_reference(),
            case=current,
            keyring=keyring,
            country=current.country,
            pathway=plan.pathway,
            crisis=current.crisis,
            created_by=by,
        )
        log_action(by, "funding.request.created", request, details={"case": str(current.pk)})
    return request


@dataclass(frozen=True)
class ItemValues:
    category: str
    currency: str
    estimate: Decimal


def _draft(request: FundingRequest, expected_version: int | None) -> FundingRequest:
    current = FundingRequest.objects.select_for_update().get(pk=request.pk)
    if expected_version is not None and current.version != expected_version:
        raise _refuse(_("Someone else changed this while you were working on it. Look again."))
    if current.status != FundingRequest.Status.DRAFT:
        raise _refuse(_("Only a draft can be changed: this request was submitted."))
    return current


def set_items(
    request: FundingRequest, items: list[ItemValues], *, expected_version: int | None, by: User
) -> FundingRequest:
    """Replace a draft's line items (all checked first: nothing half-saved)."""
    checked = [
        LineItem(
            request_id=request.pk,
            category=item.category,
            currency=item.currency,
            estimate=check_amount(item.estimate, item.currency),
            position=position,
        )
        for position, item in enumerate(items)
    ]
    with transaction.atomic():
        current = _draft(request, expected_version)
        LineItem.objects.filter(request=current).delete()
        LineItem.objects.bulk_create(checked)
        current.version += 1
        current.save(update_fields=["version"])
        log_action(by, "funding.request.items_set", current, details={"items": len(checked)})
    return current


def write_summary(
    request: FundingRequest,
    text: str,
    *,
    expected_version: int | None,
    by: User,
    case_key: bytes,
    request_key: bytes,
) -> FundingRequest:
    """Seal the pseudonymized summary for the committee. The person's name and contact
    handle are read from the case (with its key) and the summary is refused if it gives
    any of them away."""
    request_row = request.case.request
    name = str(decrypt_value(case_key, request_row, "name") or "")
    contact = decrypt_value(case_key, request_row, "contact") or {}
    found = identifying_words(text, name=name, handle=str(contact.get("handle") or ""))
    if found:
        raise _refuse(
            _(
                "The summary gives away who the person is (%(words)s). The committee decides "
                "without names, contacts or details that identify them: take these out."
            )
            % {"words": ", ".join(found)}
        )
    with transaction.atomic():
        current = _draft(request, expected_version)
        current.seal(request_key, summary=text)
        current.version += 1
        current.save(update_fields=["summary", "version"])
        log_action(by, "funding.request.summary_written", current)
    return current


def request_total(request: FundingRequest, on: date) -> Decimal:
    """The request's line items in the reporting currency at the rates of `on`. Raises
    MissingRateError."""
    rates = rates_on(on)
    return sum(
        (rates.to_reporting(item.estimate, item.currency) for item in request.items.all()),
        Decimal(0),
    )


def submit_request(
    request: FundingRequest, *, expected_version: int | None, by: User
) -> FundingRequest:
    """Send a draft to the committee: it needs line items and a summary, and a rate for
    each currency; its total is fixed in the reporting currency at today's rates. The case
    moves from planning to "awaiting funding"."""
    with transaction.atomic():
        current = _draft(request, expected_version)
        require_verified(current.case)
        if not current.items.exists():
            raise _refuse(_("Add at least one cost before submitting."))
        if current.summary is None:
            raise _refuse(_("Write the summary for the committee before submitting."))
        today = timezone.localdate()
        try:
            total = request_total(current, today)
        except MissingRateError as missing:
            raise _refuse(missing.message) from missing
        current.total = total
        current.rates_on = today
        current.status = FundingRequest.Status.SUBMITTED
        current.submitted_at = timezone.now()
        current.version += 1
        current.save()
        log_action(
            by,
            "funding.request.submitted",
            current,
            details={"total": str(total), "currency": reporting_currency()},
        )
        case = Case.objects.get(pk=current.case_id)
        if case.state == State.PLANNING:
            transition(case, State.AWAITING_FUNDING, by=by)
    return current


def withdraw_request(request: FundingRequest, *, by: User) -> FundingRequest:
    """Take back a request that no decision funded."""
    with transaction.atomic():
        current = FundingRequest.objects.select_for_update().get(pk=request.pk)
        if current.status in (
            FundingRequest.Status.FUNDED,
            FundingRequest.Status.FUNDED_PARTLY,
            FundingRequest.Status.WITHDRAWN,
        ):
            raise _refuse(_("This request cannot be withdrawn now."))
        current.status = FundingRequest.Status.WITHDRAWN
        current.version += 1
        current.save(update_fields=["status", "version"])
        log_action(by, "funding.request.withdrawn", current)
    return current

"""The double-entry ledger behind funds, commitments and payments.

Each fund has four accounts in its own currency: income (where money came from), available
(not set aside), committed (set aside by decisions, not paid) and spent (paid out). Every
movement is one transaction whose entries add up to zero, debits positive:

| movement      | debit      | credit     |
|---------------|------------|------------|
| deposit       | available  | income     |
| withdrawal    | income     | available  |
| commitment    | committed  | available  |
| uncommitment  | available  | committed  |
| payment       | spent      | committed  |

So income + available + committed + spent is always zero, and the balances say where the
money is. Committed and spent never go below zero; available goes below zero only as far as
the fund's overdraft allows (0 unless a coordinator allowed one, with a reason). A movement
that would break a rule is refused and writes nothing. Entries are never changed or deleted:
a mistake is corrected by a movement the other way.

Reconciliation: what each cost actually came to is recorded on the request's line items,
beside its estimate and what was paid; money moves only by payments, and what a commitment
leaves unspent goes back to the fund by an uncommitment (`payments.give_back`). A cost
above what was granted is a new request to the committee, not a quiet adjustment.

Every function here expects the caller's transaction and the fund's row lock
(`locked_fund`): two payments from one fund are ordered by the database, not by luck.
"""

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from waystation.cases.workflow import TransitionRefusedError

from .models import Account, Commitment, Fund, FundingRequest, LedgerEntry, LedgerTransaction
from .money import round_to

Kind = Account.Kind
Movement = LedgerTransaction.Kind

# What each movement debits and credits.
MOVES: dict[str, tuple[str, str]] = {
    Movement.DEPOSIT: (Kind.AVAILABLE, Kind.INCOME),
    Movement.WITHDRAWAL: (Kind.INCOME, Kind.AVAILABLE),
    Movement.COMMITMENT: (Kind.COMMITTED, Kind.AVAILABLE),
    Movement.UNCOMMITMENT: (Kind.AVAILABLE, Kind.COMMITTED),
    Movement.PAYMENT: (Kind.SPENT, Kind.COMMITTED),
}


class LedgerRefusedError(TransitionRefusedError):
    """A movement the ledger's rules do not allow; `message` says why."""


def locked_fund(fund: Fund | Any) -> Fund:
    """The fund's row, locked until the caller's transaction ends."""
    return Fund.objects.select_for_update().get(pk=getattr(fund, "pk", fund))


def accounts(fund: Fund) -> dict[str, Account]:
    """The fund's four accounts, made on first use (the unique constraint keeps one each)."""
    found = {account.kind: account for account in Account.objects.filter(fund=fund)}
    missing = [Account(fund=fund, kind=kind) for kind in Kind.values if kind not in found]
    if missing:
        Account.objects.bulk_create(missing, ignore_conflicts=True)
        found = {account.kind: account for account in Account.objects.filter(fund=fund)}
    return found


def balances(fund: Fund) -> dict[str, Decimal]:
    """Each account's balance (debits positive), in the fund's currency."""
    found = dict(Account.objects.filter(fund=fund).values_list("kind", "balance"))
    return {kind: Decimal(found.get(kind) or 0) for kind in Kind.values}


def balances_of(funds: Iterable[Fund]) -> dict[Any, dict[str, Decimal]]:
    """Balances of many funds in one query."""
    ids = [fund.pk for fund in funds]
    found: dict[Any, dict[str, Decimal]] = {
        pk: {kind: Decimal(0) for kind in Kind.values} for pk in ids
    }
    for fund_id, kind, balance in Account.objects.filter(fund_id__in=ids).values_list(
        "fund_id", "kind", "balance"
    ):
        found[fund_id][kind] = Decimal(balance)
    return found


def available(fund: Fund) -> Decimal:
    """What the fund can still set aside, its overdraft included."""
    return balances(fund)[Kind.AVAILABLE] + fund.overdraft_limit


def move(
    fund: Fund,
    kind: str,
    amount: Decimal,
    *,
    by: Any,
    request: FundingRequest | None = None,
    category: str = "",
    memo: str = "",
) -> LedgerTransaction:
    """Record one movement of `amount` (> 0, in the fund's currency, rounded to its minor
    unit) on a fund the caller has locked. Raises LedgerRefusedError when the amount is not
    positive or the movement would take an account where the rules forbid, writing nothing."""
    amount = round_to(Decimal(amount), fund.currency)
    if amount <= 0:
        raise LedgerRefusedError(_("An amount must be more than zero."))
    debit, credit = MOVES[kind]
    current = balances(fund)
    after = dict(current)
    after[debit] += amount
    after[credit] -= amount
    _check(fund, after)
    books = accounts(fund)
    entry = LedgerTransaction.objects.create(
        fund=fund, kind=kind, by=by, request=request, category=category, memo=memo[:200]
    )
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(transaction=entry, account=books[debit], amount=amount),
            LedgerEntry(transaction=entry, account=books[credit], amount=-amount),
        ]
    )
    for kind_changed in (debit, credit):
        Account.objects.filter(pk=books[kind_changed].pk).update(balance=after[kind_changed])
    return entry


def _check(fund: Fund, after: dict[str, Decimal]) -> None:
    if after[Kind.AVAILABLE] < -fund.overdraft_limit:
        if fund.overdraft_limit:
            raise LedgerRefusedError(
                _("%(fund)s would go past the overdraft a coordinator allowed.") % {"fund": fund}
            )
        raise LedgerRefusedError(_("%(fund)s does not have that much available.") % {"fund": fund})
    if after[Kind.COMMITTED] < 0:
        raise LedgerRefusedError(_("That is more than %(fund)s has set aside.") % {"fund": fund})
    if after[Kind.SPENT] < 0:
        raise LedgerRefusedError(_("That is more than %(fund)s has paid out.") % {"fund": fund})
    if after[Kind.INCOME] > 0:
        raise LedgerRefusedError(
            _("That is more than %(fund)s has ever received.") % {"fund": fund}
        )


def unbalanced_transactions() -> list[int]:
    """Ids of transactions whose entries do not add up to zero (none, unless someone wrote
    around this module). Summed here in Decimal, not by the database."""
    totals: dict[int, Decimal] = defaultdict(Decimal)
    for transaction_id, amount in LedgerEntry.objects.values_list("transaction_id", "amount"):
        totals[transaction_id] += amount
    return sorted(pk for pk, total in totals.items() if total != 0)


def committed_mismatch() -> list[Any]:
    """Ids of funds whose committed balance is not what their commitments still hold open
    (none, unless a commitment was changed around the services)."""
    open_totals: dict[Any, Decimal] = defaultdict(Decimal)
    for fund_id, amount in Commitment.objects.values_list("fund_id", "open_amount"):
        open_totals[fund_id] += amount
    return sorted(
        fund_id
        for fund_id, balance in Account.objects.filter(kind=Kind.COMMITTED).values_list(
            "fund_id", "balance"
        )
        if balance != open_totals[fund_id]
    )


def drifted_accounts() -> list[int]:
    """Ids of accounts whose kept balance is not the sum of their entries."""
    totals: dict[int, Decimal] = defaultdict(Decimal)
    for account_id, amount in LedgerEntry.objects.values_list("account_id", "amount"):
        totals[account_id] += amount
    return sorted(
        account.pk for account in Account.objects.all() if account.balance != totals[account.pk]
    )

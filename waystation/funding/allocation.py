"""The Case Committee's allocation: which funding requests to fund from which funds, so that
the total priority funded is the largest the funds' balances, restrictions and envelopes
allow, beside the greedy allocation a person would make by hand. Pure: plain dataclasses and
Decimal in, the same out; no models, no database. All money is in the committee's reporting
currency, with at most two decimal places.

A request is funded whole or not at all, but each of its cost categories may be paid from
several funds. A fund may pay a category of a request when the request's country, pathway
and crisis and the category all pass the fund's restrictions (an empty restriction admits
anything; a fund restricted to crises admits only requests tagged to one of them). An
envelope caps what one fund pays to the requests matching its crisis and pathway.

`allocate` solves a mixed-integer programme with HiGHS: a 0/1
variable per request, and continuous flows per eligibility class, not per request. A class
is the requests whose country, pathway and crisis admit the same funds and match the same
envelopes; within a class, the categories the same funds may pay form a group, and the funds
that may pay the same groups form a pool (see `_Model`). Any flow of a class can be split
back among its requests, and any flow of a pool among its funds, so the model is exact while
its size grows with the classes, not the requests.

It first tries to prove the optimum from the linear relaxation alone (`highspy`, which keeps
the basis between solves): the relaxation's prices on the funds give every request a reduced
cost, the requests whose reduced cost is small form a core, a knapsack over the core solved
exactly by dynamic programming finds the best of it, and the relaxation's bound proves it
(`_Model.by_reduced_costs`). On large agendas of requests small beside the funds this takes
a second where the branch and bound took half a minute. When it proves nothing (the funds'
restrictions, not their sum, bind), the mixed-integer programme is solved by branch and
bound (`scipy.optimize.milp`): first for the most priority, then, in a shorter time of its
own, for an allocation of that priority spending less. `greedy` funds requests in order of
priority per unit of cost. `compare` runs both.

Each request gets a `Reason`, a code with data, for the caller to put into words:

- ``funded``: funded; `funds` are the funds paying it.
- ``no_eligible_fund``: no fund may pay `category` (the first such, in the order of the
  request's costs) under its restrictions.
- ``over_budget``: funds may pay every category, but their balances and envelopes together
  cannot pay even this request alone; `funds` are the funds that may pay it.
- ``zero_priority``: its priority is zero, so funding it would add nothing.
- ``outranked`` (optimal only): it could be paid alone, but the money went to requests with
  more priority in total; `funds` are the funds that may pay it.
- ``dropped_in_repair`` (optimal only): the solver chose it, but once the solver's figures
  were rounded to the cent no fund had room left for it (see `Outcome.repaired`).
- ``not_chosen_greedy`` (greedy only): it could be paid alone, but the funds that may pay
  it had run out when its turn came; `funds` are the funds that may pay it.
"""

import math
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import combinations
from typing import TypeVar

import highspy
import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_array

CENT = Decimal("0.01")
# The largest table (core requests times units) the knapsack over the core may fill: about
# 20 MB of booleans and a few seconds at worst, far more than agendas need.
_KNAPSACK_CELLS = 20_000_000
_Key = TypeVar("_Key", str, tuple[str, ...])
_Owed = TypeVar("_Owed")


@dataclass(frozen=True)
class Request:
    id: str
    priority: Decimal
    costs: Mapping[str, Decimal]
    country: str
    pathway: str
    crisis: str = ""


@dataclass(frozen=True)
class Fund:
    id: str
    available: Decimal
    countries: frozenset[str] = frozenset()
    pathways: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    crises: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Envelope:
    """A cap within one fund on what goes to requests matching it (a programme or a crisis)."""

    id: str
    fund: str
    cap: Decimal
    crisis: str = ""
    pathway: str = ""


@dataclass(frozen=True)
class Payment:
    request: str
    fund: str
    category: str
    amount: Decimal


@dataclass(frozen=True)
class Reason:
    code: str
    category: str = ""
    funds: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelSize:
    """The size of the programme `allocate` solved."""

    classes: int
    variables: int
    binaries: int
    constraints: int


@dataclass(frozen=True)
class Outcome:
    method: str
    funded: list[str]
    payments: list[Payment]
    priority: Decimal
    spent: Decimal
    # The solver's bound shows that no allocation funds more priority (greedy: False).
    proven: bool
    reasons: dict[str, Reason]
    seconds: float
    # Cents had to be moved between funds, or requests dropped, to keep every fund and
    # envelope within its limit once the solver's figures were rounded to the cent.
    repaired: bool = False
    # The most priority any allocation could fund, as far as the solver could tell: equal to
    # `priority` when proven (greedy: None).
    bound: Decimal | None = None
    # Seconds from the call until the optimum was proven, before the search for an allocation
    # spending less (None when not proven).
    proven_after: float | None = None
    model: ModelSize | None = None


def allocate(
    requests: Sequence[Request],
    funds: Sequence[Fund],
    envelopes: Sequence[Envelope] = (),
    *,
    time_limit: float = 30.0,
) -> Outcome:
    """The allocation funding the most priority within every fund's balance and
    restrictions and every envelope's cap, then, among those, spending the least.

    The solver first maximises priority; `proven` is True only when its bound shows that no
    allocation funds more (`bound` is the most any could fund, as far as it could tell).
    Then, in what is left of `time_limit` (seconds of solver time for both searches) and
    for at most a second plus a quarter as long again, it looks for an allocation of that
    priority spending less. When the time limit stops the first search, the best allocation
    it found is returned, or the greedy one if that is better.

    Raises ValueError on bad input (see `validate`) or a time limit that is not positive.
    """
    started = time.perf_counter()
    validate(requests, funds, envelopes)
    if time_limit <= 0:
        raise ValueError(f"The time limit must be positive, not {time_limit}.")
    setup = _Setup(requests, funds, envelopes)
    candidates, reasons = _screen(setup, requests)
    if not candidates:
        return _outcome(
            "optimal",
            requests,
            {},
            reasons,
            True,
            started,
            Decimal(0),
            proven_after=time.perf_counter() - started,
            model=ModelSize(0, 0, 0, 0),
        )
    model = _Model(setup, candidates)
    proven_after = None
    most: int | None = None
    quick = model.by_reduced_costs()
    if quick is not None:
        # Already the cheapest of the optimal allocations: no second search.
        solution, most = quick
        proven_after = time.perf_counter() - started
    else:
        first = model.maximize_priority(time_limit)
        solution = first
        # Priorities are whole units, so the bound rounds down to the most units any
        # allocation could fund; the small margin absorbs the solver's tolerance.
        if first.bound is not None and model.exact:
            most = math.floor(first.bound + 1e-6)
        left = time_limit - first.seconds
        if most is not None and model.units_of(_ids(first.chosen)) >= most:
            proven_after = time.perf_counter() - started
            spent = model.cost_of(_ids(first.chosen))
            if left > 0:
                # Only a tie-break: it gets a fraction of the time the priority took.
                limit = min(left, 1.0 + first.seconds / 4)
                cheaper = model.minimize_spending(most, spent, limit)
                ids = _ids(cheaper.chosen)
                if model.units_of(ids) >= most and model.cost_of(ids) < spent:
                    solution = cheaper
    paid, dropped, moved = _pay(setup, model, solution)
    units = model.units_of(paid)
    proven = most is not None and units >= most
    if not proven:
        # Stopped by the time limit: greedy may have done better than the best found.
        by_hand, _ = _greedy(setup, candidates)
        if (model.units_of(by_hand), -model.cost_of(by_hand)) > (units, -model.cost_of(paid)):
            paid, dropped, moved = by_hand, set(), False
            units = model.units_of(by_hand)
    for request in candidates:
        if request.id in dropped:
            reasons[request.id] = Reason("dropped_in_repair", funds=setup.funds_for(request))
        elif request.id not in paid:
            reasons[request.id] = Reason("outranked", funds=setup.funds_for(request))
    bound = None if most is None else Decimal(max(most, units) * model.step).scaleb(-model.places)
    return _outcome(
        "optimal",
        requests,
        paid,
        reasons,
        proven,
        started,
        bound,
        repaired=moved or bool(dropped),
        proven_after=proven_after if proven else None,
        model=model.size,
    )


def greedy(
    requests: Sequence[Request], funds: Sequence[Fund], envelopes: Sequence[Envelope] = ()
) -> Outcome:
    """The allocation a person would make by hand: requests in order of priority per unit of
    cost (then priority, then id), each funded if what is left can pay all of it, else
    skipped. A request's categories are paid most constrained first (fewest funds that may
    pay it), each from the fund with the most room left first (then by fund id).

    Raises ValueError on bad input (see `validate`).
    """
    started = time.perf_counter()
    validate(requests, funds, envelopes)
    setup = _Setup(requests, funds, envelopes)
    candidates, reasons = _screen(setup, requests)
    paid, skipped = _greedy(setup, candidates)
    for request in skipped:
        reasons[request.id] = Reason("not_chosen_greedy", funds=setup.funds_for(request))
    return _outcome("greedy", requests, paid, reasons, False, started, None)


def _screen(
    setup: "_Setup", requests: Sequence[Request]
) -> tuple[list[Request], dict[str, Reason]]:
    """The requests worth considering, and why each other one is out."""
    candidates: list[Request] = []
    reasons: dict[str, Reason] = {}
    for request in requests:
        obstacle = setup.obstacle(request)
        if obstacle is None and request.priority == 0:
            obstacle = Reason("zero_priority", funds=setup.funds_for(request))
        if obstacle is None:
            candidates.append(request)
        else:
            reasons[request.id] = obstacle
    return candidates, reasons


def _greedy(
    setup: "_Setup", candidates: Sequence[Request]
) -> tuple[dict[str, list[tuple[str, str, int]]], list[Request]]:
    """The greedy payments by request, and the requests it skipped."""
    left = dict(setup.limit)
    paid: dict[str, list[tuple[str, str, int]]] = {}
    skipped: list[Request] = []

    def room(cls: int, fund: str, used: Mapping[tuple[str, str], int]) -> int:
        return min(left[key] - used.get(key, 0) for key in setup.limits[cls, fund])

    def order(request: Request) -> tuple[Decimal, Decimal, str]:
        return (-request.priority / sum(request.costs.values()), -request.priority, request.id)

    for request in sorted(candidates, key=order):
        cls = setup.class_of[request.id]
        costs = setup.costs[request.id]
        # What this request would take from each limit, until it is all paid.
        used: dict[tuple[str, str], int] = {}
        payments: list[tuple[str, str, int]] = []
        for category in sorted(costs, key=lambda k: (len(setup.eligible(cls, k)), k)):
            need = costs[category]
            # Within one category each fund is drawn on once, so its room is known up front.
            for space, fund in sorted(
                (-room(cls, j, used), j) for j in setup.eligible(cls, category)
            ):
                take = min(need, -space)
                if take <= 0:
                    break
                payments.append((fund, category, take))
                for key in setup.limits[cls, fund]:
                    used[key] = used.get(key, 0) + take
                need -= take
                if need == 0:
                    break
            if need:
                skipped.append(request)
                break
        else:
            paid[request.id] = payments
            for key, amount in used.items():
                left[key] -= amount
    return paid, skipped


def compare(
    requests: Sequence[Request],
    funds: Sequence[Fund],
    envelopes: Sequence[Envelope] = (),
    *,
    time_limit: float = 30.0,
) -> tuple[Outcome, Outcome]:
    """The optimal and the greedy allocation of the same agenda, in that order.

    Raises ValueError on bad input (see `validate`).
    """
    return (
        allocate(requests, funds, envelopes, time_limit=time_limit),
        greedy(requests, funds, envelopes),
    )


def validate(
    requests: Sequence[Request], funds: Sequence[Fund], envelopes: Sequence[Envelope]
) -> None:
    """Raise ValueError, naming the offending id, on a duplicate id, a negative priority, a
    request without costs, a cost that is not positive, a negative balance or cap, an amount
    with more than two decimal places, or an envelope of an unknown fund."""
    for kind, ids in (
        ("request", [r.id for r in requests]),
        ("fund", [f.id for f in funds]),
        ("envelope", [e.id for e in envelopes]),
    ):
        seen: set[str] = set()
        for id_ in ids:
            if id_ in seen:
                raise ValueError(f"The {kind} id {id_!r} appears more than once.")
            seen.add(id_)
    for request in requests:
        if not isinstance(request.priority, Decimal) or not request.priority.is_finite():
            raise ValueError(f"Request {request.id!r} has a priority that is not a number.")
        if request.priority < 0:
            raise ValueError(f"Request {request.id!r} has a negative priority.")
        if not request.costs:
            raise ValueError(f"Request {request.id!r} has no costs.")
        for category, amount in request.costs.items():
            _check_money(amount, f"Request {request.id!r}, cost {category!r}")
            if amount <= 0:
                raise ValueError(
                    f"Request {request.id!r} has a cost {category!r} that is not positive."
                )
    for fund in funds:
        _check_money(fund.available, f"Fund {fund.id!r}, available")
        if fund.available < 0:
            raise ValueError(f"Fund {fund.id!r} has a negative balance.")
    fund_ids = {f.id for f in funds}
    for envelope in envelopes:
        if envelope.fund not in fund_ids:
            raise ValueError(f"Envelope {envelope.id!r} names an unknown fund {envelope.fund!r}.")
        _check_money(envelope.cap, f"Envelope {envelope.id!r}, cap")
        if envelope.cap < 0:
            raise ValueError(f"Envelope {envelope.id!r} has a negative cap.")


def _check_money(amount: Decimal, what: str) -> None:
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise ValueError(f"{what}: {amount!r} is not a Decimal amount.")
    if amount != amount.quantize(CENT):
        raise ValueError(f"{what}: {amount} has more than two decimal places.")


def _cents(amount: Decimal) -> int:
    return int(amount * 100)


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


class _Setup:
    """Who may pay what: the eligibility classes of the requests, and every amount in whole
    cents, so that all sums after the solver are exact integers."""

    def __init__(
        self, requests: Sequence[Request], funds: Sequence[Fund], envelopes: Sequence[Envelope]
    ) -> None:
        ordered = sorted(funds, key=lambda f: f.id)
        self.fund = {f.id: f for f in ordered}
        self.available = {f.id: _cents(f.available) for f in ordered}
        self.caps = {e.id: _cents(e.cap) for e in sorted(envelopes, key=lambda e: e.id)}
        self.envelope_fund = {e.id: e.fund for e in envelopes}
        self.costs = {r.id: {k: _cents(v) for k, v in r.costs.items()} for r in requests}
        # A class: the funds its requests' country, pathway and crisis admit (before cost
        # categories), and the envelopes of those funds its requests match. Two profiles with
        # both equal have the same eligible funds for every category and the same caps.
        self.classes: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
        self.class_of: dict[str, int] = {}
        index: dict[tuple[tuple[str, ...], tuple[str, ...]], int] = {}
        profiles: dict[tuple[str, str, str], int] = {}
        for request in requests:
            profile = (request.country, request.pathway, request.crisis)
            if profile not in profiles:
                admitting = tuple(f.id for f in ordered if _admits(f, request))
                matching = tuple(
                    sorted(e.id for e in envelopes if e.fund in admitting and _matches(e, request))
                )
                signature = (admitting, matching)
                if signature not in index:
                    index[signature] = len(self.classes)
                    self.classes.append(signature)
                profiles[profile] = index[signature]
            self.class_of[request.id] = profiles[profile]
        self.envelopes_of: dict[tuple[int, str], tuple[str, ...]] = {}
        # Every limit by kind and id (a fund and an envelope may share an id), and the limits
        # a payment from a fund to a class counts against: the fund's and its envelopes'.
        self.limit: dict[tuple[str, str], int] = {("fund", j): c for j, c in self.available.items()}
        self.limit.update({("envelope", e): c for e, c in self.caps.items()})
        self.limits: dict[tuple[int, str], tuple[tuple[str, str], ...]] = {}
        # What one request of a class could get from a fund at most: its balance, within
        # every cap on it that the class matches.
        self.alone: dict[tuple[int, str], int] = {}
        for cls, (admitting, matching) in enumerate(self.classes):
            for fund_id in admitting:
                mine = tuple(e for e in matching if self.envelope_fund[e] == fund_id)
                self.envelopes_of[cls, fund_id] = mine
                self.limits[cls, fund_id] = (("fund", fund_id), *(("envelope", e) for e in mine))
                self.alone[cls, fund_id] = min(
                    [self.available[fund_id], *(self.caps[e] for e in mine)]
                )
        self._eligible: dict[tuple[int, str], tuple[str, ...]] = {}
        self._capacity: dict[tuple[int, tuple[tuple[str, ...], ...]], int] = {}

    def eligible(self, cls: int, category: str) -> tuple[str, ...]:
        """The funds that may pay `category` for requests of class `cls`, by id."""
        key = (cls, category)
        if key not in self._eligible:
            self._eligible[key] = tuple(
                j
                for j in self.classes[cls][0]
                if not self.fund[j].categories or category in self.fund[j].categories
            )
        return self._eligible[key]

    def funds_for(self, request: Request) -> tuple[str, ...]:
        cls = self.class_of[request.id]
        return tuple(sorted({j for k in request.costs for j in self.eligible(cls, k)}))

    def obstacle(self, request: Request) -> Reason | None:
        """Why the request cannot be paid even alone from the full balances, or None."""
        cls = self.class_of[request.id]
        for category in request.costs:
            if not self.eligible(cls, category):
                return Reason("no_eligible_fund", category=category)
        # Categories that the same funds may pay count as one, their costs added up.
        due: dict[tuple[str, ...], int] = {}
        for category, cents in self.costs[request.id].items():
            group = self.eligible(cls, category)
            due[group] = due.get(group, 0) + cents
        groups = sorted(due)
        # Any set of groups can draw on at least what the funds of one of them can give: a
        # request costing no more than the least of those passes every set at once.
        if sum(due.values()) <= min(self._capacity_of(cls, (g,)) for g in groups):
            return None
        # Hall's condition: the costs can be paid together if and only if every set of them
        # costs no more than what the funds that may pay any of them can give. Requests have
        # a handful of categories, so trying every set is cheap.
        for size in range(1, len(groups) + 1):
            for subset in combinations(groups, size):
                if sum(due[g] for g in subset) > self._capacity_of(cls, subset):
                    return Reason("over_budget", funds=self.funds_for(request))
        return None

    def _capacity_of(self, cls: int, groups: tuple[tuple[str, ...], ...]) -> int:
        key = (cls, groups)
        if key not in self._capacity:
            self._capacity[key] = sum(self.alone[cls, j] for j in set().union(*groups))
        return self._capacity[key]


def _admits(fund: Fund, request: Request) -> bool:
    return (
        (not fund.countries or request.country in fund.countries)
        and (not fund.pathways or request.pathway in fund.pathways)
        and (not fund.crises or (request.crisis != "" and request.crisis in fund.crises))
    )


def _matches(envelope: Envelope, request: Request) -> bool:
    return (not envelope.crisis or envelope.crisis == request.crisis) and (
        not envelope.pathway or envelope.pathway == request.pathway
    )


# A group: the cost categories of a class that the same funds may pay, named by those funds.
# Its categories are interchangeable for the allocation, so the model sees one demand.
_Group = tuple[str, ...]
# A pool: the funds that may pay the same groups of a class's categories.
_Pool = tuple[str, ...]
# Flows rounded to the cent: (class, group) -> fund -> cents.
_Flows = dict[tuple[int, _Group], dict[str, int]]


class _Model:
    """The mixed-integer programme. x[i] in {0, 1} per request. Per class, the funds that
    may pay the same groups of its categories form a pool: within a pool any fund may pay
    any of those groups, so only v[s, P, g] >= 0, what pool P pays of group g, and y[s, j] >=
    0, what fund j of the pool pays in all, are needed (a pool of one fund needs no y).

    Rows: sum_P v[s, P, g] = sum_{i in s} c[i, g] x[i] per class and group; sum_j y[s, j] =
    sum_g v[s, P, g] per pool of several funds; what each fund pays to all classes <=
    available; the same over the matching classes per envelope."""

    def __init__(self, setup: _Setup, candidates: list[Request]) -> None:
        self.setup = setup
        self.candidates = candidates
        # Priorities in whole units of their greatest common step, so that two totals that
        # differ differ by at least one unit.
        self.places = max(0, *(-_exponent(r.priority) for r in candidates))
        scaled = {r.id: int(r.priority.scaleb(self.places)) for r in candidates}
        self.step = math.gcd(*scaled.values())
        self.units = {key: value // self.step for key, value in scaled.items()}
        # The solver counts in floating point: beyond this many units its bound no longer
        # tells one unit from the next, and proves nothing.
        self.exact = sum(self.units.values()) < 2**40
        self.cost = {r.id: sum(setup.costs[r.id].values()) for r in candidates}

        n = len(candidates)
        demand: dict[tuple[int, _Group], dict[int, int]] = {}
        for i, request in enumerate(candidates):
            cls = setup.class_of[request.id]
            for category, cents in setup.costs[request.id].items():
                due = demand.setdefault((cls, setup.eligible(cls, category)), {})
                due[i] = due.get(i, 0) + cents
        groups: dict[int, list[_Group]] = {}
        for cls, group in sorted(demand):
            groups.setdefault(cls, []).append(group)

        entries: list[tuple[int, int, float]] = []
        row_upper: list[float] = []
        upper: list[float] = []
        # Flow columns: (column, class, pool, group) for v, (column, class, pool, fund) for y.
        self.shares: list[tuple[int, int, _Pool, _Group]] = []
        self.totals: list[tuple[int, int, _Pool, str]] = []
        charged: dict[tuple[str, str], list[int]] = {}

        def column(bound: float) -> int:
            upper.append(bound)
            return n + len(upper) - 1

        def row(upper_bound: float) -> int:
            row_upper.append(upper_bound)
            return len(row_upper) - 1

        def charge(cls: int, fund: str, col: int) -> None:
            for key in setup.limits[cls, fund]:
                charged.setdefault(key, []).append(col)

        for cls, present in sorted(groups.items()):
            rows = {}
            for group in present:
                rows[group] = row(0.0)
                for i, cents in demand[cls, group].items():
                    entries.append((rows[group], i, -cents / 100))
            pools: dict[tuple[_Group, ...], list[str]] = {}
            for fund in sorted({j for group in present for j in group}):
                admitted = tuple(group for group in present if fund in group)
                pools.setdefault(admitted, []).append(fund)
            for admitted, members in sorted(pools.items(), key=lambda item: item[1]):
                pool = tuple(members)
                reach = sum(setup.alone[cls, j] for j in pool)
                owed = sum(sum(demand[cls, group].values()) for group in admitted)
                balance = row(0.0) if len(pool) > 1 else -1
                for group in admitted:
                    total = sum(demand[cls, group].values())
                    col = column(min(total, reach) / 100)
                    self.shares.append((col, cls, pool, group))
                    entries.append((rows[group], col, 1.0))
                    if len(pool) > 1:
                        entries.append((balance, col, -1.0))
                    else:
                        charge(cls, pool[0], col)
                if len(pool) > 1:
                    for fund in pool:
                        col = column(min(owed, setup.alone[cls, fund]) / 100)
                        self.totals.append((col, cls, pool, fund))
                        entries.append((balance, col, 1.0))
                        charge(cls, fund, col)
        equalities = len(row_upper)
        self.equalities = equalities
        # The limit rows, in order after the equalities.
        self.limit_keys = [key for key, _ in sorted(charged.items())]
        for key, cols in sorted(charged.items()):
            limit = row(setup.limit[key] / 100)
            entries.extend((limit, col, 1.0) for col in cols)

        size = n + len(upper)
        rows_, cols_, values = zip(*entries, strict=True)
        self.matrix = csr_array(
            (np.array(values), (np.array(rows_), np.array(cols_))), shape=(len(row_upper), size)
        )
        self.lower_rows = np.concatenate(
            [np.zeros(equalities), np.full(len(row_upper) - equalities, -np.inf)]
        )
        self.upper_rows = np.array(row_upper)
        self.upper = np.concatenate([np.ones(n), np.array(upper)])
        self.integrality = np.concatenate([np.ones(n), np.zeros(len(upper))])
        # What the solver maximises: whole units when it can count them exactly; else the
        # priorities themselves, as HiGHS takes coefficients past 1e20 for infinite.
        self.priority = np.array(
            [self.units[r.id] if self.exact else float(r.priority) for r in candidates],
            dtype=float,
        )
        self.size = ModelSize(
            classes=len(groups), variables=size, binaries=n, constraints=len(row_upper)
        )

    def units_of(self, ids: Iterable[str]) -> int:
        return sum(self.units[request_id] for request_id in ids)

    def cost_of(self, ids: Iterable[str]) -> int:
        return sum(self.cost[request_id] for request_id in ids)

    def by_reduced_costs(self) -> tuple["_Solution", int] | None:
        """The optimal allocation, the cheapest of them, and its units, proven through the
        linear relaxation; None when this way reaches no proof, and the caller searches.

        Any prices y >= 0 on the funds' and envelopes' limits bound what an allocation can
        fund: L = the sum of y times each limit, plus every request's reduced cost d where
        positive, d being its units less its costs at the cheapest price among the funds that
        may pay each (a fund's price with those of its envelopes the request matches). An
        allocation that differs from "every request with d > 0 and none with d < 0" on
        requests of reduced costs d_1, ..., d_k funds at most L - |d_1| - ... - |d_k|. So
        any allocation funding more than L - delta agrees with that one outside the core,
        the requests with |d| <= delta. Within the core, the cheapest set funding the most
        units while all funds together can pay it (a knapsack, solved exactly over units)
        bounds what any allocation can add there. If that set also fits every fund,
        envelope and restriction, and funds L - delta or more, nothing funds more, and
        nothing funding as much costs less. The prices are those of the relaxation's
        optimum. On agendas with many requests, small beside the funds, the core is a few
        dozen requests.
        """
        if not self.exact:
            return None
        started = time.perf_counter()
        n = len(self.candidates)
        highs = self._relaxation()
        if highs is None:
            return None
        # Units per cent of each limit (the rows count money, not cents); the duals of a
        # minimisation are negative on the limits that bind.
        duals = np.asarray(highs.getSolution().row_dual)[self.equalities :]
        marginals = np.maximum(0.0, -duals) / 100
        price = dict(zip(self.limit_keys, marginals.tolist(), strict=True))
        reduced = self._reduced_costs(price)
        held = sum(price[key] * self.setup.limit[key] for key in self.limit_keys)
        bound = held + float(np.maximum(reduced, 0.0).sum())
        # Room for floating point in every comparison with the bound.
        slack = 1e-9 * (held + float(np.abs(reduced).sum())) + 1e-6
        units = np.array([self.units[r.id] for r in self.candidates], dtype=np.int64)
        cents = np.array([self.cost[r.id] for r in self.candidates], dtype=np.int64)
        capacity = sum(self.setup.available.values())
        # First a core that proves floor(L) - 1 or more; then, from what the knapsack
        # found, one that proves whatever it finds.
        delta = bound - math.floor(bound) + 1 + slack
        for _ in range(2):
            core = np.abs(reduced) <= delta + slack
            kept = ~core & (reduced > 0)
            found = _knapsack(units[core], cents[core], capacity - int(cents[kept].sum()))
            if found is None:
                return None
            most, picked = found
            total = int(units[kept].sum()) + most
            # Units are whole: funding more than `total` means funding total + 1.
            if total + 1 > bound - delta + slack:
                break
            delta = bound - total + slack
        else:
            return None
        picks = np.zeros(n)
        picks[np.flatnonzero(kept)] = 1.0
        picks[np.flatnonzero(core)[picked]] = 1.0
        # The flows paying exactly those requests: the relaxation again with them fixed and
        # nothing to gain, started from its last basis, so it takes a few hundred pivots.
        columns = np.arange(n, dtype=np.int32)
        highs.changeColsBounds(n, columns, picks, picks)
        highs.changeColsCost(n, columns, np.zeros(n))
        highs.run()
        if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            # All funds together could pay them, but not within each fund's restrictions.
            return None
        values = np.asarray(highs.getSolution().col_value)
        chosen: dict[int, list[Request]] = {}
        for i in np.flatnonzero(picks).tolist():
            request = self.candidates[i]
            chosen.setdefault(self.setup.class_of[request.id], []).append(request)
        return _Solution(chosen, values, float(total), time.perf_counter() - started), total

    def _relaxation(self) -> highspy.Highs | None:
        """HiGHS holding the linear relaxation of the programme, solved; None if it could not
        solve it. Through `highspy`, not scipy, because it keeps the basis for the next run."""
        n = len(self.candidates)
        size = len(self.upper)
        program = highspy.HighsLp()
        program.num_col_ = size
        program.num_row_ = len(self.upper_rows)
        program.col_cost_ = np.concatenate([-self.priority, np.zeros(size - n)])
        program.col_lower_ = np.zeros(size)
        # The flows' bounds follow from the rows; left out, they cannot take a price that
        # belongs to a fund's limit (a bound binding in its place), which the reduced costs
        # read from the rows.
        program.col_upper_ = np.concatenate([np.ones(n), np.full(size - n, np.inf)])
        program.row_lower_ = self.lower_rows
        program.row_upper_ = self.upper_rows
        by_column = self.matrix.tocsc()
        program.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        program.a_matrix_.start_ = by_column.indptr
        program.a_matrix_.index_ = by_column.indices
        program.a_matrix_.value_ = by_column.data
        highs = highspy.Highs()
        highs.setOptionValue("output_flag", False)
        highs.passModel(program)
        highs.run()
        if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        return highs

    def _reduced_costs(self, price: Mapping[tuple[str, str], float]) -> np.ndarray:
        """Each candidate's units less its costs at the cheapest price per cent among the
        funds that may pay each of them."""
        setup = self.setup
        cheapest: dict[tuple[int, _Group], float] = {}
        reduced = np.empty(len(self.candidates))
        for i, request in enumerate(self.candidates):
            cls = setup.class_of[request.id]
            worth = 0.0
            for category, cents in setup.costs[request.id].items():
                group = setup.eligible(cls, category)
                if (cls, group) not in cheapest:
                    cheapest[cls, group] = min(
                        sum(price[key] for key in setup.limits[cls, fund]) for fund in group
                    )
                worth += cents * cheapest[cls, group]
            reduced[i] = self.units[request.id] - worth
        return reduced

    def maximize_priority(self, time_limit: float) -> "_Solution":
        """The allocation funding the most priority units, or the best found in time."""
        objective = np.concatenate([-self.priority, np.zeros(len(self.upper) - len(self.priority))])
        # The objective is whole units: a gap below one unit is no gap at all.
        gap = 0.99 / max(float(self.priority.sum()), 1.0) if self.exact else 1e-9
        return self._solve(objective, [], time_limit, gap)

    def minimize_spending(self, units: int, below: int, time_limit: float) -> "_Solution":
        """The allocation funding at least `units` priority units that spends the least, if
        that is less than `below` cents; else it chooses nothing."""
        n = len(self.candidates)
        spending = np.array([self.cost[r.id] / 100 for r in self.candidates])
        objective = np.concatenate([spending, np.zeros(len(self.upper) - n)])
        row = np.concatenate([self.priority, np.zeros(len(self.upper) - n)])
        # Half a unit below: the solver's x are integral only within its tolerance.
        floor = LinearConstraint(row.reshape(1, -1), units - 0.5, np.inf)
        # HiGHS's objective_bound prunes every branch that cannot spend less, which proves
        # "nothing cheaper" much sooner than a constraint would.
        cutoff = {"objective_bound": (below - 0.5) / 100}
        return self._solve(objective, [floor], time_limit, 1e-6, cutoff)

    def refit(self, chosen: Mapping[int, list[Request]]) -> np.ndarray | None:
        """Flows paying exactly the chosen requests, at a vertex of the linear programme
        with x fixed; None if the solver finds none."""
        picked = set(_ids(chosen))
        fixed = np.array([1.0 if r.id in picked else 0.0 for r in self.candidates])
        lower = np.concatenate([fixed, np.zeros(len(self.upper) - len(fixed))])
        upper = np.concatenate([fixed, self.upper[len(fixed) :]])
        result = milp(
            np.zeros(len(self.upper)),
            bounds=Bounds(lower, upper),
            constraints=LinearConstraint(self.matrix, self.lower_rows, self.upper_rows),
        )
        return None if result.x is None else np.asarray(result.x)

    def rounded_flows(
        self, chosen: Mapping[int, list[Request]], values: np.ndarray | None
    ) -> "_Flows":
        """The solver's flows for the chosen requests in whole cents: each group's cost split
        among the pools that may pay it, each pool's part among its funds, then the funds of
        a pool matched to its groups in order (any match will do: each fund of a pool may
        pay each group of it)."""
        if values is None:
            return {}
        shares: dict[tuple[int, _Group], dict[_Pool, float]] = {}
        for col, cls, pool, group in self.shares:
            shares.setdefault((cls, group), {})[pool] = float(values[col]) * 100
        totals: dict[tuple[int, _Pool], dict[str, float]] = {}
        for col, cls, pool, fund in self.totals:
            totals.setdefault((cls, pool), {})[fund] = float(values[col]) * 100
        flows: _Flows = {}
        for cls, members in chosen.items():
            due: dict[_Group, int] = {}
            for request in members:
                for category, cents in self.setup.costs[request.id].items():
                    group = self.setup.eligible(cls, category)
                    due[group] = due.get(group, 0) + cents
            parts: dict[_Pool, list[tuple[_Group, int]]] = {}
            for group, need in sorted(due.items()):
                flows[cls, group] = {}
                for pool, cents in _apportion(need, shares[cls, group]).items():
                    parts.setdefault(pool, []).append((group, cents))
            for pool, owed in sorted(parts.items()):
                if len(pool) == 1:
                    for group, cents in owed:
                        flows[cls, group][pool[0]] = cents
                    continue
                given = _apportion(sum(c for _, c in owed), totals[cls, pool])
                for group, fund, cents in _match(owed, sorted(given.items())):
                    flows[cls, group][fund] = flows[cls, group].get(fund, 0) + cents
        return flows

    def _solve(
        self,
        objective: np.ndarray,
        extra: list[LinearConstraint],
        time_limit: float,
        gap: float,
        verbatim: Mapping[str, float] | None = None,
    ) -> "_Solution":
        """Run HiGHS. Chooses nothing if it found no allocation in time."""
        started = time.perf_counter()
        with warnings.catch_warnings():
            # scipy passes options it does not know to HiGHS as they are, with a warning.
            warnings.filterwarnings("ignore", "Unrecognized options", RuntimeWarning)
            result = milp(
                objective,
                integrality=self.integrality,
                bounds=Bounds(np.zeros(len(self.upper)), self.upper),
                constraints=[
                    LinearConstraint(self.matrix, self.lower_rows, self.upper_rows),
                    *extra,
                ],
                options={
                    "time_limit": time_limit,
                    "mip_rel_gap": gap,
                    "presolve": True,
                    **(verbatim or {}),
                },
            )
        bound = None if result.mip_dual_bound is None else -float(result.mip_dual_bound)
        chosen: dict[int, list[Request]] = {}
        if result.x is not None:
            for i, request in enumerate(self.candidates):
                # Integral within the solver's tolerance.
                if result.x[i] > 0.5:
                    chosen.setdefault(self.setup.class_of[request.id], []).append(request)
        return _Solution(chosen, result.x, bound, time.perf_counter() - started)


@dataclass
class _Solution:
    # The chosen requests by class.
    chosen: dict[int, list[Request]]
    # The solver's values of every variable; None if it found no allocation.
    values: np.ndarray | None
    # The solver's bound on its objective, negated (for the first search: priority units).
    bound: float | None
    seconds: float


def _knapsack(units: np.ndarray, cents: np.ndarray, capacity: int) -> tuple[int, np.ndarray] | None:
    """The most units a set of the items costing at most `capacity` cents funds, and the
    cheapest such set (positions, ascending), by dynamic programming over units: exact.
    None when the capacity is negative or the table would pass `_KNAPSACK_CELLS`."""
    top = int(units.sum())
    if capacity < 0 or len(units) * (top + 1) > _KNAPSACK_CELLS:
        return None
    never = np.iinfo(np.int64).max // 2
    # cheapest[u]: the least cost of a set of the items seen so far funding exactly u units.
    cheapest = np.full(top + 1, never, dtype=np.int64)
    cheapest[0] = 0
    taken = np.zeros((len(units), top + 1), dtype=bool)
    for k, (gain, cost) in enumerate(zip(units.tolist(), cents.tolist(), strict=True)):
        with_it = np.full(top + 1, never, dtype=np.int64)
        with_it[gain:] = cheapest[: top + 1 - gain] + cost
        taken[k] = with_it < cheapest
        cheapest = np.where(taken[k], with_it, cheapest)
    most = int(np.flatnonzero(cheapest <= capacity).max())
    picked: list[int] = []
    left = most
    for k in range(len(units) - 1, -1, -1):
        if taken[k, left]:
            picked.append(k)
            left -= int(units[k])
    return most, np.array(picked[::-1], dtype=int)


def _pay(
    setup: _Setup, model: _Model, solution: _Solution
) -> tuple[dict[str, list[tuple[str, str, int]]], set[str], bool]:
    """The solution's payments in whole cents, by request; the requests dropped to keep
    within a limit; whether cents were moved between funds (see `_settle`)."""
    flows = model.rounded_flows(solution.chosen, solution.values)
    if any(load > setup.limit[key] for key, load in _loads(setup, flows).items()):
        # Rounding flows that fill a limit to the brim may overshoot it by a cent or two.
        # Flows at a vertex of the flow programme are whole cents, as long as the envelopes
        # of each fund nest (they usually do), and then need no rounding.
        values = model.refit(solution.chosen)
        if values is not None:
            flows = model.rounded_flows(solution.chosen, values)
    return _settle(setup, solution.chosen, flows)


def _ids(chosen: Mapping[int, list[Request]]) -> list[str]:
    return [r.id for members in chosen.values() for r in members]


def _exponent(amount: Decimal) -> int:
    exponent = amount.normalize().as_tuple().exponent
    return exponent if isinstance(exponent, int) else 0


def _settle(
    setup: _Setup, chosen: dict[int, list[Request]], flows: _Flows
) -> tuple[dict[str, list[tuple[str, str, int]]], set[str], bool]:
    """Pay the chosen requests from flows in whole cents, first bringing every fund and
    envelope within its limit: cents moved to another fund that may pay the same, or, if
    none has room, the least urgent request paid from the one over its limit dropped.
    Returns the payments by request, the requests dropped, and whether cents were moved."""
    chosen = {cls: list(members) for cls, members in chosen.items()}
    limit = setup.limit
    load = _loads(setup, flows)

    def shift(cls: int, fund: str, cents: int) -> None:
        for key in setup.limits[cls, fund]:
            load[key] += cents

    def room(cls: int, fund: str) -> int:
        return min(limit[key] - load[key] for key in setup.limits[cls, fund])

    moved = False
    dropped: set[str] = set()
    while True:
        over = next((key for key in sorted(limit) if load[key] > limit[key]), None)
        if over is None:
            break
        kind, name = over
        fund = name if kind == "fund" else setup.envelope_fund[name]
        # The flows counting against the limit that is exceeded.
        culprits = sorted(
            (cls, group)
            for (cls, group), paid in flows.items()
            if paid.get(fund, 0) > 0 and over in setup.limits[cls, fund]
        )
        excess = load[over] - limit[over]
        # First move cents to another fund that may pay the same class and group.
        for cls, group in culprits:
            paid = flows[cls, group]
            for other in group:
                if other == fund or excess == 0:
                    continue
                cents = min(excess, paid.get(fund, 0), room(cls, other))
                if cents > 0:
                    paid[fund] -= cents
                    paid[other] = paid.get(other, 0) + cents
                    shift(cls, fund, -cents)
                    shift(cls, other, cents)
                    excess -= cents
                    moved = True
        if excess == 0:
            continue
        # Else give up the least urgent request paid there: least priority, then most cost.
        classes = {cls for cls, _ in culprits}
        victim = min(
            (r for cls in classes for r in chosen[cls]),
            key=lambda r: (r.priority, -sum(setup.costs[r.id].values()), r.id),
        )
        dropped.add(victim.id)
        cls = setup.class_of[victim.id]
        chosen[cls] = [r for r in chosen[cls] if r.id != victim.id]
        for category, cents in setup.costs[victim.id].items():
            paid = flows[cls, setup.eligible(cls, category)]
            # Take it back from the fund over its limit first.
            for other in sorted(paid, key=lambda j: (j != fund, j)):
                take = min(cents, paid[other])
                paid[other] -= take
                shift(cls, other, -take)
                cents -= take
    return _split(setup, chosen, flows), dropped, moved


def _loads(setup: _Setup, flows: _Flows) -> dict[tuple[str, str], int]:
    """What the flows take from each limit, in cents."""
    load = dict.fromkeys(setup.limit, 0)
    for (cls, _), paid in flows.items():
        for fund, cents in paid.items():
            for key in setup.limits[cls, fund]:
                load[key] += cents
    return load


def _match(
    owed: Sequence[tuple[_Owed, int]], given: Sequence[tuple[str, int]]
) -> list[tuple[_Owed, str, int]]:
    """Amounts owed matched to amounts funds give, both in order, adding up to the same."""
    matched = []
    funds = iter(given)
    fund, left = "", 0
    for who, need in owed:
        while need:
            if left == 0:
                fund, left = next(funds)
            take = min(need, left)
            matched.append((who, fund, take))
            need -= take
            left -= take
    return matched


def _apportion(total: int, weights: Mapping[_Key, float]) -> dict[_Key, int]:
    """Whole cents adding up to `total`, as close to `weights` as the largest-remainder
    method gets. Ties go to the fund first by id."""
    floors = {j: max(0, math.floor(w)) for j, w in weights.items()}
    rest = total - sum(floors.values())
    if rest > 0:
        ranked = sorted(weights, key=lambda j: (floors[j] - weights[j], j))
        each, extra = divmod(rest, len(ranked))
        for position, fund in enumerate(ranked):
            floors[fund] += each + (1 if position < extra else 0)
    elif rest < 0:
        for fund in sorted(weights, key=lambda j: (-floors[j], j)):
            take = min(-rest, floors[fund])
            floors[fund] -= take
            rest += take
    return {j: cents for j, cents in floors.items() if cents > 0}


def _split(
    setup: _Setup, chosen: dict[int, list[Request]], flows: _Flows
) -> dict[str, list[tuple[str, str, int]]]:
    """Split each class's flows among its requests. Every request of a class may be paid by
    the same funds within the same envelopes, so any split keeps every fund and envelope
    total: funds in id order fill requests in id order, which pays each request from as few
    funds as possible."""
    paid: dict[str, list[tuple[str, str, int]]] = {}
    for cls, members in chosen.items():
        owed: dict[_Group, list[tuple[tuple[str, str], int]]] = {}
        for request in sorted(members, key=lambda r: r.id):
            paid[request.id] = []
            for category, cents in setup.costs[request.id].items():
                group = setup.eligible(cls, category)
                owed.setdefault(group, []).append(((request.id, category), cents))
        for group, items in owed.items():
            given = sorted((j, c) for j, c in flows[cls, group].items() if c > 0)
            for (request_id, category), fund, cents in _match(items, given):
                paid[request_id].append((fund, category, cents))
    return paid


def _outcome(
    method: str,
    requests: Iterable[Request],
    paid: Mapping[str, list[tuple[str, str, int]]],
    reasons: dict[str, Reason],
    proven: bool,
    started: float,
    bound: Decimal | None,
    *,
    repaired: bool = False,
    proven_after: float | None = None,
    model: ModelSize | None = None,
) -> Outcome:
    funded = sorted(paid)
    payments: list[Payment] = []
    priority = Decimal(0)
    spent = 0
    by_id = {r.id: r for r in requests}
    for request_id in funded:
        priority += by_id[request_id].priority
        reasons[request_id] = Reason(
            "funded", funds=tuple(sorted({fund for fund, _, _ in paid[request_id]}))
        )
        order = list(by_id[request_id].costs)
        for fund, category, cents in sorted(
            paid[request_id], key=lambda p: (order.index(p[1]), p[0])
        ):
            payments.append(Payment(request_id, fund, category, _money(cents)))
            spent += cents
    return Outcome(
        method=method,
        funded=funded,
        payments=payments,
        priority=priority,
        spent=_money(spent),
        proven=proven,
        reasons={r: reasons[r] for r in by_id},
        seconds=time.perf_counter() - started,
        repaired=repaired,
        bound=bound,
        proven_after=proven_after,
        model=model,
    )

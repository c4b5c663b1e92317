"""The committee's allocation: the optimum against greedy, restrictions, envelopes, exact
cents, the reason given for every request, bad input, and random agendas checked against a
brute-force optimum. Pure functions: no database."""

from collections.abc import Sequence
from decimal import Decimal
from itertools import combinations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from waystation.funding import allocation
from waystation.funding.allocation import (
    Envelope,
    Fund,
    Outcome,
    Request,
    allocate,
    compare,
    greedy,
)


def money(amount: str) -> Decimal:
    return Decimal(amount)


def make_request(id_: str, priority: str, costs: dict[str, str], **overrides: str) -> Request:
    fields = {"country": "UG", "pathway": "inland_asylum", "crisis": ""} | overrides
    return Request(
        id=id_,
        priority=Decimal(priority),
        costs={k: money(v) for k, v in costs.items()},
        **fields,
    )


def may_pay(fund: Fund, request: Request, category: str) -> bool:
    return (
        (not fund.countries or request.country in fund.countries)
        and (not fund.pathways or request.pathway in fund.pathways)
        and (not fund.categories or category in fund.categories)
        and (not fund.crises or request.crisis in fund.crises)
    )


def in_envelope(envelope: Envelope, request: Request) -> bool:
    return (not envelope.crisis or envelope.crisis == request.crisis) and (
        not envelope.pathway or envelope.pathway == request.pathway
    )


def check(
    outcome: Outcome,
    requests: Sequence[Request],
    funds: Sequence[Fund],
    envelopes: Sequence[Envelope] = (),
) -> None:
    """Every payment may be made, every fund and envelope within its limit, every funded
    request paid exactly per category and no other paid at all, totals right, a reason for
    every request."""
    by_id = {r.id: r for r in requests}
    fund_of = {f.id: f for f in funds}
    paid: dict[tuple[str, str], Decimal] = {}
    by_fund: dict[str, Decimal] = {}
    for payment in outcome.payments:
        request = by_id[payment.request]
        assert payment.amount > 0
        assert payment.amount == payment.amount.quantize(Decimal("0.01"))
        assert may_pay(fund_of[payment.fund], request, payment.category), payment
        key = (payment.request, payment.category)
        paid[key] = paid.get(key, Decimal(0)) + payment.amount
        by_fund[payment.fund] = by_fund.get(payment.fund, Decimal(0)) + payment.amount
    assert {p.request for p in outcome.payments} == set(outcome.funded)
    for request_id in outcome.funded:
        costs = by_id[request_id].costs
        assert {k: v for (r, k), v in paid.items() if r == request_id} == dict(costs)
    for fund in funds:
        assert by_fund.get(fund.id, Decimal(0)) <= fund.available, fund.id
    for envelope in envelopes:
        total = sum(
            (
                p.amount
                for p in outcome.payments
                if p.fund == envelope.fund and in_envelope(envelope, by_id[p.request])
            ),
            Decimal(0),
        )
        assert total <= envelope.cap, envelope.id
    assert outcome.priority == sum((by_id[r].priority for r in outcome.funded), Decimal(0))
    assert outcome.spent == sum((p.amount for p in outcome.payments), Decimal(0))
    assert set(outcome.reasons) == set(by_id)
    for request_id, reason in outcome.reasons.items():
        assert (reason.code == "funded") == (request_id in outcome.funded)
        if reason.code == "funded":
            assert reason.funds == tuple(
                sorted({p.fund for p in outcome.payments if p.request == request_id})
            )


def test_optimum_beats_greedy_on_a_knapsack() -> None:
    # Greedy takes the best ratio first, and then neither of the others fits.
    requests = [
        make_request("a", "6", {"airfare": "51.00"}),
        make_request("b", "5", {"airfare": "50.00"}),
        make_request("c", "5", {"airfare": "50.00"}),
    ]
    funds = [Fund("general", money("100.00"))]
    optimal, by_hand = compare(requests, funds)
    check(optimal, requests, funds)
    check(by_hand, requests, funds)
    assert (optimal.method, optimal.funded, optimal.priority) == ("optimal", ["b", "c"], 10)
    assert optimal.proven
    assert optimal.bound == 10
    assert optimal.proven_after is not None
    assert 0 < optimal.proven_after <= optimal.seconds
    assert optimal.reasons["a"].code == "outranked"
    assert (by_hand.method, by_hand.funded, by_hand.priority) == ("greedy", ["a"], 6)
    assert not by_hand.proven
    assert by_hand.reasons["b"].code == by_hand.reasons["c"].code == "not_chosen_greedy"
    assert by_hand.reasons["b"].funds == ("general",)


def test_equal_priority_goes_to_the_cheaper_set() -> None:
    requests = [
        make_request("a", "2", {"airfare": "90.00"}),
        make_request("b", "1", {"airfare": "40.00"}),
        make_request("c", "1", {"airfare": "45.00"}),
    ]
    funds = [Fund("general", money("100.00"))]
    outcome = allocate(requests, funds)
    check(outcome, requests, funds)
    assert outcome.funded == ["b", "c"]
    assert outcome.spent == money("85.00")


def test_restricted_funds_pay_only_what_they_admit() -> None:
    requests = [
        make_request("kenya", "5", {"airfare": "500.00"}, country="KE"),
        make_request("resettle", "5", {"airfare": "500.00"}, pathway="resettlement"),
        make_request("visa", "5", {"visa_fee": "80.00", "airfare": "400.00"}),
        make_request("crisis", "5", {"airfare": "300.00"}, crisis="ug-2023"),
        make_request("plain", "1", {"shelter": "200.00"}),
    ]
    funds = [
        Fund("kenya-only", money("500.00"), countries=frozenset({"KE"})),
        Fund("resettlement-only", money("500.00"), pathways=frozenset({"resettlement"})),
        Fund("visas-only", money("80.00"), categories=frozenset({"visa_fee"})),
        Fund("crisis-only", money("300.00"), crises=frozenset({"ug-2023"})),
        Fund("general", money("400.00"), countries=frozenset({"UG"})),
    ]
    optimal, by_hand = compare(requests, funds)
    for outcome in (optimal, by_hand):
        check(outcome, requests, funds)
    # Each restricted fund paid exactly the request made for it.
    paid = {(p.request, p.fund) for p in optimal.payments}
    assert paid == {
        ("kenya", "kenya-only"),
        ("resettle", "resettlement-only"),
        ("visa", "visas-only"),
        ("visa", "general"),
        ("crisis", "crisis-only"),
    }
    assert optimal.reasons["plain"].code == "outranked"
    assert optimal.reasons["plain"].funds == ("general",)


def test_crisis_fund_does_not_pay_requests_outside_a_crisis() -> None:
    requests = [make_request("r1", "3", {"airfare": "100.00"})]
    funds = [Fund("crisis-only", money("1000.00"), crises=frozenset({"ug-2023"}))]
    outcome = allocate(requests, funds)
    assert outcome.funded == []
    assert outcome.reasons["r1"] == allocation.Reason("no_eligible_fund", category="airfare")


def test_envelope_caps_what_its_fund_pays_to_matching_requests() -> None:
    requests = [
        make_request("c1", "5", {"airfare": "200.00"}, crisis="ug-2023"),
        make_request("c2", "5", {"airfare": "200.00"}, crisis="ug-2023"),
        make_request("other", "1", {"airfare": "200.00"}, pathway="resettlement"),
    ]
    funds = [Fund("general", money("1000.00"))]
    envelopes = [
        Envelope("ug-crisis", "general", money("300.00"), crisis="ug-2023"),
        Envelope("resettlement", "general", money("150.00"), pathway="resettlement"),
    ]
    optimal, by_hand = compare(requests, funds, envelopes)
    for outcome in (optimal, by_hand):
        check(outcome, requests, funds, envelopes)
        assert outcome.funded == ["c1"]
        assert outcome.reasons["other"].code == "over_budget"
    assert optimal.reasons["c2"].code == "outranked"
    assert by_hand.reasons["c2"].code == "not_chosen_greedy"


def test_envelope_leaves_room_to_another_fund() -> None:
    requests = [
        make_request("c1", "5", {"airfare": "200.00"}, crisis="ug-2023"),
        make_request("c2", "5", {"airfare": "200.00"}, crisis="ug-2023"),
    ]
    funds = [Fund("general", money("1000.00")), Fund("small", money("150.00"))]
    envelopes = [Envelope("ug-crisis", "general", money("250.00"), crisis="ug-2023")]
    outcome = allocate(requests, funds, envelopes)
    check(outcome, requests, funds, envelopes)
    # 400.00 due: 250.00 within the envelope, 150.00 from the other fund.
    assert outcome.funded == ["c1", "c2"]
    by_fund = {f.id: sum(p.amount for p in outcome.payments if p.fund == f.id) for f in funds}
    assert by_fund == {"general": money("250.00"), "small": money("150.00")}


def test_request_split_across_funds_by_category() -> None:
    requests = [make_request("r1", "4", {"airfare": "600.00", "visa_fee": "100.00"})]
    funds = [
        Fund("flights", money("400.00"), categories=frozenset({"airfare"})),
        Fund("general", money("300.00")),
    ]
    optimal, by_hand = compare(requests, funds)
    for outcome in (optimal, by_hand):
        check(outcome, requests, funds)
        assert outcome.funded == ["r1"]
        assert outcome.spent == money("700.00")
        payments = {(p.fund, p.category): p.amount for p in outcome.payments}
        assert payments == {
            ("flights", "airfare"): money("400.00"),
            ("general", "airfare"): money("200.00"),
            ("general", "visa_fee"): money("100.00"),
        }
        assert outcome.reasons["r1"] == allocation.Reason("funded", funds=("flights", "general"))


def test_cents_are_exact_when_a_class_shares_funds() -> None:
    # Three requests of one class share two funds whose balances leave no cent to spare.
    requests = [
        make_request("r1", "3", {"airfare": "333.33", "visa_fee": "66.67"}),
        make_request("r2", "3", {"airfare": "333.33"}),
        make_request("r3", "3", {"airfare": "333.34", "visa_fee": "0.01"}),
    ]
    funds = [Fund("a", money("500.01")), Fund("b", money("566.67"))]
    outcome = allocate(requests, funds)
    check(outcome, requests, funds)
    assert outcome.funded == ["r1", "r2", "r3"]
    assert outcome.spent == money("1066.68")
    assert not outcome.repaired


def test_reason_codes() -> None:
    requests = [
        make_request("no-fund", "5", {"airfare": "10.00", "legal": "10.00"}),
        make_request("too-dear", "5", {"airfare": "5000.00"}),
        make_request("nothing", "0", {"airfare": "10.00"}),
        make_request("chosen", "5", {"airfare": "100.00"}),
        make_request("second", "1", {"airfare": "100.00"}),
    ]
    funds = [Fund("flights", money("150.00"), categories=frozenset({"airfare"}))]
    optimal, by_hand = compare(requests, funds)
    for outcome in (optimal, by_hand):
        check(outcome, requests, funds)
        reasons = outcome.reasons
        assert reasons["no-fund"] == allocation.Reason("no_eligible_fund", category="legal")
        assert reasons["too-dear"] == allocation.Reason("over_budget", funds=("flights",))
        assert reasons["nothing"].code == "zero_priority"
        assert reasons["chosen"] == allocation.Reason("funded", funds=("flights",))
    assert optimal.reasons["second"].code == "outranked"
    assert by_hand.reasons["second"].code == "not_chosen_greedy"


def test_over_budget_counts_what_funds_can_give_together() -> None:
    # Each cost alone fits, and so does the total, but airfare and visa together need more
    # than the two funds that may pay them have.
    requests = [
        make_request("r1", "2", {"airfare": "60.00", "visa_fee": "60.00", "shelter": "10.00"})
    ]
    funds = [
        Fund("travel", money("100.00"), categories=frozenset({"airfare", "visa_fee"})),
        Fund("visas", money("10.00"), categories=frozenset({"visa_fee"})),
        Fund("shelter", money("1000.00"), categories=frozenset({"shelter"})),
    ]
    optimal, by_hand = compare(requests, funds)
    for outcome in (optimal, by_hand):
        assert outcome.reasons["r1"] == allocation.Reason(
            "over_budget", funds=("shelter", "travel", "visas")
        )


@pytest.mark.parametrize(
    ("requests", "funds", "envelopes", "message"),
    [
        ([make_request("r1", "1", {"airfare": "-5.00"})], [], [], "'r1'"),
        ([make_request("r1", "1", {"airfare": "0.00"})], [], [], "'r1'"),
        ([make_request("r1", "-1", {"airfare": "5.00"})], [], [], "'r1'"),
        ([make_request("r1", "1", {})], [], [], "'r1'"),
        ([make_request("r1", "1", {"airfare": "5.001"})], [], [], "'r1'"),
        (
            [make_request("r1", "1", {"airfare": "5.00"}), make_request("r1", "2", {"x": "1.00"})],
            [],
            [],
            "'r1'",
        ),
        ([], [Fund("f1", money("1.00")), Fund("f1", money("2.00"))], [], "'f1'"),
        ([], [Fund("f1", money("-1.00"))], [], "'f1'"),
        ([], [Fund("f1", money("1.00"))], [Envelope("e1", "f2", money("1.00"))], "'e1'"),
        ([], [Fund("f1", money("1.00"))], [Envelope("e1", "f1", money("-1.00"))], "'e1'"),
    ],
)
def test_bad_input_is_refused_naming_the_id(
    requests: list[Request], funds: list[Fund], envelopes: list[Envelope], message: str
) -> None:
    for run in (allocate, greedy, compare):
        with pytest.raises(ValueError, match=message):
            run(requests, funds, envelopes)


def test_empty_agenda_is_a_proven_empty_outcome() -> None:
    outcome = allocate([], [])
    assert (outcome.funded, outcome.payments, outcome.priority, outcome.spent) == (
        [],
        [],
        0,
        0,
    )
    assert outcome.proven
    assert outcome.reasons == {}
    nothing_to_pay = allocate([make_request("r1", "1", {"airfare": "1.00"})], [])
    assert nothing_to_pay.proven
    assert nothing_to_pay.reasons["r1"].code == "no_eligible_fund"


def test_rounding_overshoot_moves_cents_to_another_fund() -> None:
    requests = [make_request("r1", "1", {"airfare": "150.00"})]
    funds = [Fund("a", money("100.00")), Fund("b", money("100.00"))]
    setup = allocation._Setup(requests, funds, [])
    # Flows rounded to the cent, two over fund a's balance. Airfare may be paid by a or b.
    flows = {(0, ("a", "b")): {"a": 10002, "b": 4998}}
    paid, dropped, moved = allocation._settle(setup, {0: list(requests)}, flows)
    assert (dropped, moved) == (set(), True)
    assert sorted(paid["r1"]) == [("a", "airfare", 10000), ("b", "airfare", 5000)]


def test_rounding_overshoot_with_no_room_drops_the_least_urgent() -> None:
    requests = [
        make_request("r1", "2", {"airfare": "60.00"}),
        make_request("r2", "1", {"airfare": "40.01"}),
    ]
    funds = [Fund("a", money("100.00"))]
    setup = allocation._Setup(requests, funds, [])
    flows = {(0, ("a",)): {"a": 10001}}
    paid, dropped, _ = allocation._settle(setup, {0: list(requests)}, flows)
    assert dropped == {"r2"}
    assert paid == {"r1": [("a", "airfare", 6000)]}


def test_solver_figures_that_round_over_a_limit_are_refitted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Two classes (fund c admits only Kenya), each paying 30.00 of airfare from funds a and
    # b, which the two requests fill to the cent.
    requests = [
        make_request("uganda", "1", {"airfare": "30.00"}),
        make_request("kenya", "1", {"airfare": "30.00"}, country="KE"),
    ]
    funds = [
        Fund("a", money("50.01")),
        Fund("b", money("9.99")),
        Fund("c", money("0.00"), countries=frozenset({"KE"})),
    ]

    def halfway(model: allocation._Model, time_limit: float) -> allocation._Solution:
        # Feasible figures with half a cent each way: rounded per class, both halves go to
        # fund a, one cent over its balance.
        values = np.zeros(len(model.upper))
        values[: len(model.candidates)] = 1
        for col, *_ in model.shares:
            values[col] = 30.00
        for col, _, _, fund in model.totals:
            values[col] = {"a": 25.005, "b": 4.995, "c": 0.0}[fund]
        chosen: dict[int, list[Request]] = {}
        for request in model.candidates:
            chosen.setdefault(model.setup.class_of[request.id], []).append(request)
        return allocation._Solution(chosen, values, 2.0, 0.0)

    monkeypatch.setattr(allocation._Model, "by_reduced_costs", lambda model: None)
    monkeypatch.setattr(allocation._Model, "maximize_priority", halfway)
    outcome = allocate(requests, funds)
    check(outcome, requests, funds)
    assert outcome.funded == ["kenya", "uganda"]
    assert outcome.proven
    assert not outcome.repaired


def test_solver_stopped_empty_handed_falls_back_to_greedy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    requests = [
        make_request("a", "6", {"airfare": "51.00"}),
        make_request("b", "5", {"airfare": "50.00"}),
    ]
    funds = [Fund("general", money("100.00"))]

    def nothing_in_time(model: allocation._Model, time_limit: float) -> allocation._Solution:
        return allocation._Solution({}, None, None, time_limit)

    monkeypatch.setattr(allocation._Model, "by_reduced_costs", lambda model: None)
    monkeypatch.setattr(allocation._Model, "maximize_priority", nothing_in_time)
    outcome = allocate(requests, funds, time_limit=0.5)
    check(outcome, requests, funds)
    assert (outcome.method, outcome.funded, outcome.proven, outcome.bound) == (
        "optimal",
        ["a"],
        False,
        None,
    )
    assert outcome.reasons["b"].code == "outranked"
    assert outcome.proven_after is None


def test_reduced_costs_prove_the_optimum_without_the_search(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Many small requests beside the funds: the relaxation's prices leave a core of a few
    # requests, and the knapsack over them finds the optimum its bound proves.
    requests = [
        make_request(f"r{n:02d}", str(1 + n % 7), {"airfare": f"{30 + 7 * n % 41}.00"})
        for n in range(40)
    ]
    funds = [
        Fund("general", money("600.00")),
        Fund("kenya", money("0.00"), countries=frozenset({"KE"})),
    ]

    def no_search(model: allocation._Model, time_limit: float) -> allocation._Solution:
        raise AssertionError("the search ran")

    monkeypatch.setattr(allocation._Model, "maximize_priority", no_search)
    outcome = allocate(requests, funds)
    check(outcome, requests, funds)
    assert outcome.proven
    # One fund pays them all: the best is a knapsack, written out here over whole money.
    best = [0] * 601
    for request in requests:
        cost, gain = int(request.costs["airfare"]), int(request.priority)
        for room in range(600, cost - 1, -1):
            best[room] = max(best[room], best[room - cost] + gain)
    assert outcome.bound == outcome.priority == best[600]


def test_a_core_that_only_all_funds_together_can_pay_goes_to_the_search() -> None:
    # All funds together could pay both Ugandan requests, but only the general fund may,
    # and it holds enough for one: the knapsack over all funds together is wrong here.
    requests = [
        make_request("u1", "5", {"airfare": "50.00"}),
        make_request("u2", "5", {"airfare": "50.00"}),
        make_request("k", "1", {"airfare": "100.00"}, country="KE"),
    ]
    funds = [
        Fund("general", money("50.00")),
        Fund("kenya", money("100.00"), countries=frozenset({"KE"})),
    ]
    setup = allocation._Setup(requests, funds, [])
    candidates, _ = allocation._screen(setup, requests)
    assert allocation._Model(setup, candidates).by_reduced_costs() is None
    outcome = allocate(requests, funds)
    check(outcome, requests, funds)
    assert (outcome.funded, outcome.proven, outcome.priority) == (["k", "u1"], True, Decimal(6))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 30), st.integers(1, 500)), max_size=10),
    st.integers(-5, 2_000),
)
def test_knapsack_is_the_cheapest_of_the_best(items: list[tuple[int, int]], capacity: int) -> None:
    units = np.array([u for u, _ in items], dtype=np.int64)
    cents = np.array([c for _, c in items], dtype=np.int64)
    found = allocation._knapsack(units, cents, capacity)
    if capacity < 0:
        assert found is None
        return
    assert found is not None
    most, picked = found
    assert int(units[picked].sum()) == most
    assert int(cents[picked].sum()) <= capacity
    best = max(
        (int(units[list(s)].sum()), -int(cents[list(s)].sum()))
        for size in range(len(items) + 1)
        for s in combinations(range(len(items)), size)
        if int(cents[list(s)].sum()) <= capacity
    )
    assert (most, -int(cents[picked].sum())) == best


def test_knapsack_too_large_for_its_table_is_declined() -> None:
    units = np.full(1_000, 100_000, dtype=np.int64)
    assert allocation._knapsack(units, units, 10**9) is None


def test_priorities_finer_than_the_solver_counts_are_never_proven() -> None:
    requests = [
        make_request("a", "6.000000000000000000001", {"airfare": "51.00"}),
        make_request("b", "5", {"airfare": "50.00"}),
        make_request("c", "5", {"airfare": "50.00"}),
    ]
    outcome = allocate(requests, [Fund("general", money("100.00"))])
    check(outcome, requests, [Fund("general", money("100.00"))])
    assert outcome.funded == ["b", "c"]
    assert (outcome.proven, outcome.bound) == (False, None)


def test_time_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="time limit"):
        allocate([], [], time_limit=0)


def test_full_funds_are_paid_to_the_cent_without_repair() -> None:
    # Many requests sharing funds that the optimum spends to the last cent.
    requests = [
        make_request(f"r{n:02d}", "1", {"airfare": f"{100 + n}.{n:02d}", "visa_fee": "33.33"})
        for n in range(12)
    ]
    total = sum((sum(r.costs.values()) for r in requests), Decimal(0))
    funds = [
        Fund("a", (total / 3).quantize(Decimal("0.01"))),
        Fund("b", (total / 3).quantize(Decimal("0.01"))),
        Fund("c", total - 2 * (total / 3).quantize(Decimal("0.01"))),
    ]
    outcome = allocate(requests, funds)
    check(outcome, requests, funds)
    assert outcome.funded == [r.id for r in requests]
    assert outcome.spent == total
    assert not outcome.repaired


# Random agendas: small enough to check against every subset of requests.
COUNTRIES = ("UG", "KE")
PATHWAYS = ("inland_asylum", "resettlement")
CRISES = ("", "ug-2023")
CATEGORIES = ("airfare", "visa_fee", "shelter")


def cents(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda n: Decimal(n).scaleb(-2))


def restriction(values: Sequence[str]) -> st.SearchStrategy[frozenset[str]]:
    return st.one_of(st.just(frozenset()), st.sets(st.sampled_from(values), min_size=1))


@st.composite
def agendas(draw: st.DrawFn) -> tuple[list[Request], list[Fund], list[Envelope]]:
    requests = [
        Request(
            id=f"r{number}",
            priority=draw(st.integers(0, 50)).__index__() * Decimal("0.1"),
            costs=draw(st.dictionaries(st.sampled_from(CATEGORIES), cents(1, 60_000), min_size=1)),
            country=draw(st.sampled_from(COUNTRIES)),
            pathway=draw(st.sampled_from(PATHWAYS)),
            crisis=draw(st.sampled_from(CRISES)),
        )
        for number in range(draw(st.integers(0, 8)))
    ]
    funds = [
        Fund(
            id=f"f{number}",
            available=draw(cents(0, 150_000)),
            countries=draw(restriction(COUNTRIES)),
            pathways=draw(restriction(PATHWAYS)),
            categories=draw(restriction(CATEGORIES)),
            crises=draw(st.one_of(st.just(frozenset()), st.just(frozenset({"ug-2023"})))),
        )
        for number in range(draw(st.integers(1, 4)))
    ]
    envelopes = [
        Envelope(
            id=f"e{number}",
            fund=draw(st.sampled_from([f.id for f in funds])),
            cap=draw(cents(0, 80_000)),
            crisis=draw(st.sampled_from(CRISES)),
            pathway=draw(st.sampled_from(("", *PATHWAYS))),
        )
        for number in range(draw(st.integers(0, 2)))
    ]
    return requests, funds, envelopes


def fundable(
    chosen: Sequence[Request], funds: Sequence[Fund], envelopes: Sequence[Envelope]
) -> bool:
    """Whether these requests can all be paid: a linear programme with one flow per request,
    fund and category, written independently of the module under test."""
    flows = [
        (i, j, k)
        for i, r in enumerate(chosen)
        for k in r.costs
        for j, f in enumerate(funds)
        if may_pay(f, r, k)
    ]
    needs = [(i, k) for i, r in enumerate(chosen) for k in r.costs]
    if any(not any(f[0] == i and f[2] == k for f in flows) for i, k in needs):
        return False
    if not needs:
        return True
    equal = np.zeros((len(needs), len(flows)))
    for row, (i, k) in enumerate(needs):
        for column, flow in enumerate(flows):
            equal[row, column] = flow[0] == i and flow[2] == k
    limits = np.zeros((len(funds) + len(envelopes), len(flows)))
    caps = [float(f.available) for f in funds] + [float(e.cap) for e in envelopes]
    for column, (i, j, _k) in enumerate(flows):
        limits[j, column] = 1
        for row, envelope in enumerate(envelopes, start=len(funds)):
            if envelope.fund == funds[j].id and in_envelope(envelope, chosen[i]):
                limits[row, column] = 1
    result = linprog(
        np.zeros(len(flows)),
        A_ub=limits,
        b_ub=caps,
        A_eq=equal,
        b_eq=[float(chosen[i].costs[k]) for i, k in needs],
        method="highs",
    )
    return bool(result.status == 0)


def brute_force(
    requests: Sequence[Request], funds: Sequence[Fund], envelopes: Sequence[Envelope]
) -> Decimal:
    subsets = [
        subset for size in range(len(requests) + 1) for subset in combinations(requests, size)
    ]
    subsets.sort(key=lambda s: sum((r.priority for r in s), Decimal(0)), reverse=True)
    for subset in subsets:
        if fundable(subset, funds, envelopes):
            return sum((r.priority for r in subset), Decimal(0))
    raise AssertionError("the empty set is always fundable")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(agendas())
def test_random_agendas_are_allocated_exactly_and_optimally(
    agenda: tuple[list[Request], list[Fund], list[Envelope]],
) -> None:
    requests, funds, envelopes = agenda
    optimal, by_hand = compare(requests, funds, envelopes)
    check(optimal, requests, funds, envelopes)
    check(by_hand, requests, funds, envelopes)
    assert optimal.proven
    assert not any(r.code == "dropped_in_repair" for r in optimal.reasons.values())
    assert optimal.priority >= by_hand.priority
    assert optimal.priority == brute_force(requests, funds, envelopes)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(agendas())
def test_reduced_costs_and_the_search_agree(
    agenda: tuple[list[Request], list[Fund], list[Envelope]],
) -> None:
    """Whenever the reduced costs prove an allocation, the full search (its second pass for
    less spending included) finds the same priority at no lower cost."""
    requests, funds, envelopes = agenda
    setup = allocation._Setup(requests, funds, envelopes)
    candidates, _ = allocation._screen(setup, requests)
    if not candidates:
        return
    model = allocation._Model(setup, candidates)
    quick = model.by_reduced_costs()
    if quick is None:
        return
    solution, units = quick
    ids = [r.id for members in solution.chosen.values() for r in members]
    assert model.units_of(ids) == units
    searched = model.maximize_priority(30.0)
    assert model.units_of(allocation._ids(searched.chosen)) == units
    cheaper = model.minimize_spending(units, model.cost_of(ids), 30.0)
    assert model.units_of(allocation._ids(cheaper.chosen)) < units or model.cost_of(
        allocation._ids(cheaper.chosen)
    ) >= model.cost_of(ids)

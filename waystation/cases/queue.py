"""Queues of cases: in order of danger, then of the promised answer date, filtered, counted
and paged by keyset (a cursor of the last row seen), so a page costs the same at the first
case and the millionth.

Callers pass the cases a user may see (`access.visible_cases`); nothing here decides who
sees what.
"""

import uuid
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet, Value
from django.db.models.functions import Lower
from django.db.models.lookups import Exact
from django.utils import timezone

from .models import RISK_RANK, Case, State

PAGE_SIZE = 50
# "Due soon": the answer is due within this many days.
DUE_SOON = timedelta(days=3)
ORDER = ("risk_rank", "answer_due_at", "id")


@dataclass(frozen=True)
class Filters:
    state: str = State.NEW
    country: str = ""
    region: str = ""
    risk: str = ""
    language: str = ""
    unassigned: bool = False
    overdue: bool = False
    due_soon: bool = False
    crisis: uuid.UUID | None = None
    # "any": referred by any partner; else a partner's id.
    referred_by: str = ""

    def apply(self, cases: QuerySet[Case], now: datetime) -> QuerySet[Case]:
        if self.state:
            cases = cases.filter(state=self.state)
        if self.country:
            cases = cases.filter(country=self.country)
        if self.region:
            # The person typed their region: matched whatever its case, on the expression
            # the `case_region_order` index holds (both sides lowered by the database, so
            # they fold alike).
            cases = cases.filter(Exact(Lower("region"), Lower(Value(self.region))))
        if self.risk in RISK_RANK:
            cases = cases.filter(risk_rank=RISK_RANK[self.risk])
        if self.language:
            cases = cases.filter(language=self.language)
        if self.crisis is not None:
            cases = cases.filter(crisis_id=self.crisis)
        if self.referred_by == "any":
            cases = cases.filter(referred_by__isnull=False)
        elif self.referred_by:
            cases = cases.filter(referred_by_id=uuid.UUID(self.referred_by))
        if self.unassigned:
            cases = cases.filter(assigned_to__isnull=True)
        if self.overdue:
            cases = cases.filter(answered_at__isnull=True, answer_due_at__lt=now)
        elif self.due_soon:
            cases = cases.filter(
                answered_at__isnull=True, answer_due_at__gte=now, answer_due_at__lt=now + DUE_SOON
            )
        return cases

    def without(self, name: str) -> "Filters":
        """The same filters with `name`'s left out: for the state, every state (its
        default, "new", is a filter too)."""
        default = {f.name: f.default for f in fields(self)}
        return Filters(**{**self.__dict__, name: "" if name == "state" else default[name]})


@dataclass(frozen=True)
class Page:
    cases: list[Case]
    next_cursor: str  # "" on the last page


def encode_cursor(case: Case) -> str:
    return f"{case.risk_rank}~{case.answer_due_at.isoformat()}~{case.pk}"


def decode_cursor(cursor: str) -> tuple[int, datetime, uuid.UUID] | None:
    """The position a cursor names, or None for anything malformed (the first page)."""
    try:
        rank, due, pk = cursor.split("~")
        when = datetime.fromisoformat(due)
        if timezone.is_naive(when):
            return None
        return int(rank), when, uuid.UUID(pk)
    except ValueError:
        return None


def page(
    cases: QuerySet[Case],
    filters: Filters,
    *,
    after: str = "",
    size: int = PAGE_SIZE,
    now: datetime | None = None,
) -> Page:
    """One page of the queue after the cursor `after`, in queue order."""
    selected = filters.apply(cases, now or timezone.now())
    position = decode_cursor(after) if after else None
    if position is not None:
        rank, due, pk = position
        selected = selected.filter(
            Q(risk_rank__gt=rank)
            | Q(risk_rank=rank, answer_due_at__gt=due)
            | Q(risk_rank=rank, answer_due_at=due, id__gt=pk)
        )
    rows = list(selected.select_related("assigned_to").order_by(*ORDER)[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows, encode_cursor(rows[-1]) if more and rows else "")


def counts(
    cases: QuerySet[Case], filters: Filters, facet: str, *, now: datetime | None = None
) -> dict[str, int]:
    """How many cases each value of `facet` (country, risk_rank, language or state) would
    show, with every other filter applied."""
    if facet not in {"country", "risk_rank", "language", "state"}:
        raise ValueError(f"not a queue facet: {facet!r}")
    name = "risk" if facet == "risk_rank" else facet
    selected = filters.without(name).apply(cases, now or timezone.now())
    # COUNT(*), not COUNT(id): the id is no part of the indexes, so counting it would
    # read every row instead of the index alone.
    rows = selected.order_by().values_list(facet).annotate(n=Count("*"))
    return {str(value): n for value, n in rows}

"""Who reaches what of funding. Everyone else gets 404, as for what does not exist.

- Caseworkers: the funding requests of cases they may open (`cases.access`), to write,
  submit and withdraw them, confirm a payment received and record actual costs; the
  payments of those requests and their receipts.
- Committee members: meetings and their agendas, each request as its pseudonymized summary,
  amounts and operational fields (never the case: its reference, the person's name or the
  case page), to score, vote, declare conflicts and decide.
- Finance: funds, deposits, exchange rates, payments to authorize and release, and every
  payment's receipts.
- Coordinators: the scoring rubric and overdrafts; funds and reports to read.
"""

import uuid
from typing import TypeVar

from django.db.models import Model, QuerySet
from django.http import Http404

from waystation.accounts.models import Role, User
from waystation.cases.access import get_case_for_user, visible_cases
from waystation.cases.models import Case

from .models import (
    AgendaItem,
    Commitment,
    Disbursement,
    Fund,
    FundingRequest,
    LineItem,
    Meeting,
    Receipt,
)

_Row = TypeVar("_Row", bound=Model)

CASEWORK_ROLES = (Role.CASEWORKER,)
COMMITTEE_ROLES = (Role.COMMITTEE_MEMBER,)
FINANCE_ROLES = (Role.FINANCE,)
FUND_READERS = (Role.FINANCE, Role.COORDINATOR)
# A payment's page and its receipts: finance, and the caseworkers of its case.
PAYMENT_READERS = (Role.FINANCE, Role.CASEWORKER)


def get_case_for_funding(user: User, pk: uuid.UUID) -> Case:
    """A case the caseworker may open; Http404 otherwise."""
    if not user.has_role(*CASEWORK_ROLES):
        raise Http404
    return get_case_for_user(user, pk)


def get_request_for_caseworker(user: User, pk: uuid.UUID) -> FundingRequest:
    """A funding request of a case the caseworker may open; Http404 otherwise."""
    if not user.has_role(*CASEWORK_ROLES):
        raise Http404
    request = (
        FundingRequest.objects.filter(pk=pk, case__in=visible_cases(user))
        .select_related("case", "case__keyring", "case__request", "keyring")
        .first()
    )
    if request is None:
        raise Http404
    return request


def get_meeting_for_member(user: User, pk: uuid.UUID) -> Meeting:
    if not user.has_role(*COMMITTEE_ROLES):
        raise Http404
    meeting = Meeting.objects.filter(pk=pk).select_related("keyring").first()
    if meeting is None:
        raise Http404
    return meeting


def get_item_for_member(user: User, pk: uuid.UUID) -> AgendaItem:
    if not user.has_role(*COMMITTEE_ROLES):
        raise Http404
    item = (
        AgendaItem.objects.filter(pk=pk)
        .select_related("meeting", "meeting__keyring", "request", "request__keyring")
        .first()
    )
    if item is None:
        raise Http404
    return item


def get_fund_for_user(user: User, pk: uuid.UUID, *, write: bool = False) -> Fund:
    """A fund for finance (to change) or a coordinator (to read, or set an overdraft)."""
    roles = FINANCE_ROLES if write else FUND_READERS
    if not user.has_role(*roles):
        raise Http404
    fund = Fund.objects.filter(pk=pk).first()
    if fund is None:
        raise Http404
    return fund


def get_payment_for_finance(user: User, pk: uuid.UUID) -> Disbursement:
    if not user.has_role(*FINANCE_ROLES):
        raise Http404
    payment = (
        Disbursement.objects.filter(pk=pk)
        .select_related("commitment", "commitment__fund", "request", "keyring")
        .first()
    )
    if payment is None:
        raise Http404
    return payment


def get_payment_for_caseworker(user: User, pk: uuid.UUID) -> Disbursement:
    """A payment towards a case the caseworker may open; Http404 otherwise."""
    if not user.has_role(*CASEWORK_ROLES):
        raise Http404
    payment = Disbursement.objects.filter(pk=pk, request__case__in=visible_cases(user)).first()
    if payment is None:
        raise Http404
    return payment


def get_payment_for_user(user: User, pk: uuid.UUID) -> Disbursement:
    """A payment for finance, or for a caseworker who may open its case; Http404
    otherwise."""
    payments = Disbursement.objects.filter(pk=pk).select_related(
        "commitment", "commitment__fund", "request", "keyring"
    )
    return _for_finance_or_casework(user, payments, "request__case")


def get_receipt_for_user(user: User, pk: uuid.UUID) -> Receipt:
    """A payment's receipt, for whoever may see the payment (`get_payment_for_user`);
    Http404 otherwise."""
    receipts = Receipt.objects.filter(pk=pk).select_related(
        "file", "disbursement", "disbursement__keyring"
    )
    return _for_finance_or_casework(user, receipts, "disbursement__request__case")


def _for_finance_or_casework(user: User, rows: QuerySet[_Row], case: str) -> _Row:
    """The one row for finance, or for a caseworker who may open the case at `case`;
    Http404 otherwise."""
    if user.has_role(*FINANCE_ROLES):
        row = rows.first()
    elif user.has_role(*CASEWORK_ROLES):
        row = rows.filter(**{f"{case}__in": visible_cases(user)}).first()
    else:
        row = None
    if row is None:
        raise Http404
    return row


def get_line_item_for_user(user: User, pk: uuid.UUID) -> LineItem:
    """A cost of a request, for finance, or for a caseworker who may open its case."""
    items = LineItem.objects.filter(pk=pk).select_related("request")
    if user.has_role(*FINANCE_ROLES):
        item = items.first()
    elif user.has_role(*CASEWORK_ROLES):
        item = items.filter(request__case__in=visible_cases(user)).first()
    else:
        item = None
    if item is None:
        raise Http404
    return item


def get_commitment_for_finance(user: User, pk: uuid.UUID) -> Commitment:
    if not user.has_role(*FINANCE_ROLES):
        raise Http404
    commitment = Commitment.objects.filter(pk=pk).first()
    if commitment is None:
        raise Http404
    return commitment

"""The case workflow: every allowed and forbidden move, reasons, guards from other apps
(on moves, resumes and reopenings), "verified" only through two people's decision, stale
forms, and a case opened with every request."""

from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from conftest import make_user, sign_in
from waystation.accounts.models import Role
from waystation.audit.models import AuditEntry
from waystation.cases import services, workflow
from waystation.cases.forms import MoveForm
from waystation.cases.models import Case, CaseEvent, Reason, State
from waystation.intake.models import HelpRequest
from waystation.vault import crypto
from waystation.verification import services as verification
from waystation.verification.tests.factories import verify

from .conftest import ask

pytestmark = pytest.mark.django_db

MAIN = [
    "new",
    "triaged",
    "in_verification",
    "verified",
    "planning",
    "awaiting_funding",
    "funded",
    "travelling",
    "arrived",
    "in_support",
]
ACTIVE = set(MAIN)
# States the verification app's guard keeps a case out of until it is verified.
AFTER_VERIFICATION = set(MAIN[MAIN.index("planning") :])
BEFORE_FUNDING = {"new", "triaged", "in_verification", "verified", "planning", "awaiting_funding"}
# The workflow as the organization describes it, written out by hand.
ALLOWED = {
    **{MAIN[i + 1]: {MAIN[i]} for i in range(len(MAIN) - 1)},
    "closed": {"arrived", "in_support"},
    "on_hold": ACTIVE,
    "declined": BEFORE_FUNDING,
    "withdrawn": ACTIVE | {"on_hold"},
    "duplicate": {"new", "triaged", "in_verification"},
    "referred": BEFORE_FUNDING,
    "quarantined": ACTIVE | {"on_hold"},
}
REASON = {
    "closed": Reason.SUPPORT_ENDED,
    "declined": Reason.OUTSIDE_MANDATE,
    "withdrawn": Reason.PERSON_WITHDREW,
    "referred": Reason.OTHER_ORGANIZATION,
    "quarantined": Reason.SUSPECTED_ENTRAPMENT,
}


def _case_in(state: str, **fields: object) -> Case:
    case = ask().case
    Case.objects.filter(pk=case.pk).update(state=state, **fields)
    case.refresh_from_db()
    return case


def test_every_request_opens_a_case_with_its_operational_fields(intake_team) -> None:  # type: ignore[no-untyped-def]
    request = ask(risk="weeks", country="KE")
    case = Case.objects.get(request=request)
    assert (case.state, case.country, case.risk_rank, case.reference) == (
        "new",
        "KE",
        2,
        request.reference,
    )
    assert case.keyring_id == request.keyring_id
    assert case.answer_due_at == request.received_at + timedelta(days=14)


def test_request_and_case_commit_together(intake_team, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    taken = ask().case.reference
    stored = HelpRequest.objects.count()

    def clashing(request: HelpRequest) -> Case:
        # A case the database refuses (its reference is taken) inside intake's transaction.
        case = services.prepare_case(request)
        case.reference = taken
        return case

    monkeypatch.setattr("waystation.cases.receivers.prepare_case", clashing)
    with pytest.raises(IntegrityError):
        ask()
    assert HelpRequest.objects.count() == stored
    assert Case.objects.count() == stored


@pytest.mark.parametrize("target", sorted(ALLOWED))
@pytest.mark.parametrize("state", list(State.values))
def test_every_move_is_allowed_only_from_its_states(intake_team, state: str, target: str) -> None:  # type: ignore[no-untyped-def]
    other = ask().case
    case = _case_in(state, resume_state="triaged" if state == "on_hold" else "")
    arguments: dict[str, object] = {"reason": REASON.get(target, "")}
    if target == "duplicate":
        arguments["duplicate_of"] = other
    if target == "verified" and state in ALLOWED[target]:
        # Allowed by the workflow, refused by the verification app's guard: only the
        # two-person decision makes a case verified, and it moves the case itself.
        with pytest.raises(workflow.TransitionRefusedError, match="two staff members"):
            services.transition(case, target, by=None, **arguments)  # type: ignore[arg-type]
        assert Case.objects.get(pk=case.pk).state == state
        verify(case)
        moved = Case.objects.get(pk=case.pk)
        assert moved.state == target and moved.version == case.version + 1
        return
    if target in AFTER_VERIFICATION and state in ALLOWED[target]:
        verify(case)  # the verification app's guard: planning and later need it
        case.refresh_from_db()
    if state in ALLOWED[target]:
        moved = services.transition(case, target, by=None, **arguments)  # type: ignore[arg-type]
        assert moved.state == target and moved.version == case.version + 1
    else:
        with pytest.raises(workflow.TransitionRefusedError):
            services.transition(case, target, by=None, **arguments)  # type: ignore[arg-type]
        case.refresh_from_db()
        assert case.state == state and not CaseEvent.objects.filter(case=case).exists()


def test_a_move_leaves_an_event_and_an_audit_entry_without_content(intake_team) -> None:  # type: ignore[no-untyped-def]
    case = ask().case
    services.transition(case, State.DECLINED, by=None, reason=Reason.OUTSIDE_MANDATE)
    event = CaseEvent.objects.get(case=case)
    assert (event.from_state, event.to_state, event.reason) == (
        "new",
        "declined",
        "outside_mandate",
    )
    entry = AuditEntry.objects.get(action="cases.case.moved", object_id=case.pk)
    assert entry.details == {"from": "new", "to": "declined", "reason": "outside_mandate"}


def test_reasons_are_required_where_they_matter_and_refused_elsewhere(intake_team) -> None:  # type: ignore[no-untyped-def]
    case = ask().case
    with pytest.raises(workflow.TransitionRefusedError, match="reason"):
        services.transition(case, State.DECLINED, by=None)
    with pytest.raises(workflow.TransitionRefusedError, match="reason"):
        services.transition(case, State.DECLINED, by=None, reason=Reason.MISTAKE)
    with pytest.raises(workflow.TransitionRefusedError, match="no reason"):
        services.transition(case, State.TRIAGED, by=None, reason=Reason.OTHER)


def test_a_duplicate_names_another_case(intake_team) -> None:  # type: ignore[no-untyped-def]
    case, other = ask().case, ask().case
    with pytest.raises(workflow.TransitionRefusedError):
        services.transition(case, State.DUPLICATE, by=None)
    with pytest.raises(workflow.TransitionRefusedError):
        services.transition(case, State.DUPLICATE, by=None, duplicate_of=case)
    moved = services.transition(case, State.DUPLICATE, by=None, duplicate_of=other)
    assert moved.duplicate_of == other


def test_triage_marks_the_first_answer(intake_team) -> None:  # type: ignore[no-untyped-def]
    case = ask().case
    assert case.is_overdue(case.answer_due_at + timedelta(seconds=1))
    moved = services.transition(case, State.TRIAGED, by=None)
    assert moved.answered_at is not None
    assert not moved.is_overdue(case.answer_due_at + timedelta(days=1))


def test_hold_and_resume_return_to_the_same_state(intake_team) -> None:  # type: ignore[no-untyped-def]
    case = _case_in("in_verification")
    held = services.transition(case, State.ON_HOLD, by=None)
    assert held.resume_state == "in_verification"
    resumed = services.resume(held, by=None)
    assert (resumed.state, resumed.resume_state) == ("in_verification", "")
    with pytest.raises(workflow.TransitionRefusedError):
        services.resume(resumed, by=None)


def test_quarantine_from_hold_remembers_the_state_before_the_hold(intake_team) -> None:  # type: ignore[no-untyped-def]
    case = _case_in("in_verification")
    verify(case)  # reopening runs the guard of "verified"
    case.refresh_from_db()
    held = services.transition(case, State.ON_HOLD, by=None)
    quarantined = services.transition(
        held, State.QUARANTINED, by=None, reason=Reason.SUSPECTED_FRAUD
    )
    released = services.reopen(quarantined, by=None, reason=Reason.MISTAKE)
    assert released.state == "verified"


def test_reopen_needs_an_ended_case_and_a_reason(intake_team) -> None:  # type: ignore[no-untyped-def]
    case = ask().case
    with pytest.raises(workflow.TransitionRefusedError, match="open"):
        services.reopen(case, by=None, reason=Reason.NEW_INFORMATION)
    declined = services.transition(case, State.DECLINED, by=None, reason=Reason.NO_FUNDS)
    with pytest.raises(workflow.TransitionRefusedError, match="reason"):
        services.reopen(declined, by=None, reason=Reason.NO_FUNDS)
    reopened = services.reopen(declined, by=None, reason=Reason.NEW_INFORMATION)
    assert reopened.state == "triaged"
    assert AuditEntry.objects.filter(action="cases.case.moved").count() == 2


def test_a_stale_form_changes_nothing(intake_team) -> None:  # type: ignore[no-untyped-def]
    case = ask().case
    drawn_at = case.version
    services.transition(case, State.TRIAGED, by=None, expected_version=drawn_at)
    with pytest.raises(services.StaleCaseError):
        services.transition(
            case, State.DECLINED, by=None, reason=Reason.OTHER, expected_version=drawn_at
        )
    case.refresh_from_db()
    assert case.state == "triaged"


def test_guards_from_other_apps_can_stop_a_move(intake_team) -> None:  # type: ignore[no-untyped-def]
    def verified_first(case: Case, target: str) -> None:
        raise workflow.TransitionRefusedError("Verify the case before planning.")

    workflow.register_guard(State.PLANNING, verified_first)
    try:
        case = _case_in("verified")
        with pytest.raises(workflow.TransitionRefusedError, match="Verify"):
            services.transition(case, State.PLANNING, by=None)
        case.refresh_from_db()
        assert case.state == "verified"
    finally:
        workflow.unregister_guard(State.PLANNING, verified_first)
    verify(case)  # the verification app's own guard, met
    assert services.transition(case, State.PLANNING, by=None).state == "planning"
    with pytest.raises(ValueError):
        workflow.register_guard("nowhere", verified_first)


def test_guards_also_hold_on_resume_and_reopen(intake_team) -> None:  # type: ignore[no-untyped-def]
    def closed_door(case: Case, target: str) -> None:
        raise workflow.TransitionRefusedError("Not now.")

    held = _case_in("on_hold", resume_state="triaged")
    declined = _case_in("declined", reason=Reason.NO_FUNDS)
    workflow.register_guard(State.TRIAGED, closed_door)
    try:
        with pytest.raises(workflow.TransitionRefusedError, match="Not now"):
            services.resume(held, by=None)
        with pytest.raises(workflow.TransitionRefusedError, match="Not now"):
            services.reopen(declined, by=None, reason=Reason.NEW_INFORMATION)
    finally:
        workflow.unregister_guard(State.TRIAGED, closed_door)
    assert [Case.objects.get(pk=c.pk).state for c in (held, declined)] == ["on_hold", "declined"]
    assert not CaseEvent.objects.exists()
    assert services.resume(held, by=None).state == "triaged"
    assert services.reopen(declined, by=None, reason=Reason.MISTAKE).state == "triaged"


# --- "Verified" takes two people's decision -------------------------------------------------


def test_the_move_form_does_not_offer_verified(intake_team, client: Client) -> None:  # type: ignore[no-untyped-def]
    offered = {value for value, _label in MoveForm().fields["target"].choices}  # type: ignore[attr-defined]
    assert "verified" not in offered
    assert {"in_verification", "planning", "declined", "resume", "reopen"} <= offered
    assert "target" in MoveForm({"target": "verified", "version": 1}).errors
    caseworker = make_user(Role.CASEWORKER)
    case = _case_in("in_verification", assigned_to=caseworker)
    sign_in(client, caseworker)
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert '<option value="planning"' in page and '<option value="verified"' not in page
    assert "To make a case verified, take the decision on its verification page" in page
    sent = client.post(
        f"/staff/cases/{case.pk}/move/", {"target": "verified", "version": case.version}
    )
    assert sent.status_code == 400
    assert Case.objects.get(pk=case.pk).state == "in_verification"
    assert not AuditEntry.objects.filter(action="cases.case.moved").exists()


def test_verified_without_a_decision_is_refused_in_the_askers_language(intake_team) -> None:  # type: ignore[no-untyped-def]
    case = _case_in("in_verification")
    with translation.override("es"), pytest.raises(workflow.TransitionRefusedError) as refused:
        services.transition(case, State.VERIFIED, by=None)
    with translation.override("es"):
        expected = gettext(
            "Verify the case first: it can become “%(target)s” only after two staff "
            "members have decided it is verified."
        ) % {"target": State.VERIFIED.label}
    assert refused.value.message == expected and expected.startswith("Primero verifica")
    case.refresh_from_db()
    assert (case.state, case.version) == ("in_verification", 1)
    assert not CaseEvent.objects.filter(case=case).exists()
    assert not AuditEntry.objects.filter(action="cases.case.moved").exists()


def test_one_proposal_does_not_make_a_case_verified(intake_team) -> None:  # type: ignore[no-untyped-def]
    case = _case_in("in_verification")
    verification.propose_verified(
        case,
        "One attestation answered.",
        by=make_user(Role.CASEWORKER),
        keyring_key=crypto.new_key(),
        expected_version=None,
    )
    with pytest.raises(workflow.TransitionRefusedError, match="two staff members"):
        services.transition(case, State.VERIFIED, by=None)
    assert Case.objects.get(pk=case.pk).state == "in_verification"


def test_a_second_persons_confirmation_makes_the_case_verified(intake_team) -> None:  # type: ignore[no-untyped-def]
    case = _case_in("in_verification")
    confirmer = make_user(Role.VERIFIER)
    # The decision is saved before the move, so the guard on "verified" lets it through.
    decision = verify(case, confirmer=confirmer)
    case.refresh_from_db()
    assert case.state == "verified" and decision.status == "decided"
    event = CaseEvent.objects.get(case=case)
    assert (event.from_state, event.to_state, event.by) == (
        "in_verification",
        "verified",
        confirmer,
    )


def test_resume_and_reopen_into_verified_need_a_decision_in_force(intake_team) -> None:  # type: ignore[no-untyped-def]
    held = _case_in("on_hold", resume_state="verified")
    held_later = _case_in("on_hold", resume_state="planning")
    quarantined = _case_in("quarantined", resume_state="verified", reason=Reason.SUSPECTED_FRAUD)
    for case in (held, held_later):
        with pytest.raises(workflow.TransitionRefusedError, match="Verify the case first"):
            services.resume(case, by=None)
    with pytest.raises(workflow.TransitionRefusedError, match="Verify the case first"):
        services.reopen(quarantined, by=None, reason=Reason.MISTAKE)
    states = [Case.objects.get(pk=c.pk).state for c in (held, held_later, quarantined)]
    assert states == ["on_hold", "on_hold", "quarantined"]
    assert not CaseEvent.objects.exists()
    # Verified by two people, held, and resumed: back to "verified".
    case = _case_in("in_verification")
    verify(case)
    held = services.transition(Case.objects.get(pk=case.pk), State.ON_HOLD, by=None)
    assert services.resume(held, by=None).state == "verified"


def test_a_linked_request_opens_a_case_linked_to_the_earlier_case(intake_team) -> None:  # type: ignore[no-untyped-def]
    first = ask(handle="+234 803 123 4567").case
    second = ask(handle="0803 123 4567").case
    assert second.duplicate_of == first and second.state == "new"

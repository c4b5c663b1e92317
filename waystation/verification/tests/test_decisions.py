"""Verification decisions: four eyes, one open proposal, declined and more-information
paths, the guard on planning and later states, re-verification, and their audit entries."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from conftest import make_user
from waystation.accounts.models import Role, Team
from waystation.audit.models import AuditEntry
from waystation.cases import services as cases
from waystation.cases.models import Case, CaseEvent, Reason, ReplyTemplate, State
from waystation.cases.signals import Signal
from waystation.cases.tests.factories import make_case
from waystation.cases.workflow import TransitionRefusedError
from waystation.intake.models import Message
from waystation.vault import crypto
from waystation.vault.fields import decrypt_value
from waystation.vault.services import UnlockedKeys
from waystation.verification import services
from waystation.verification.models import Decision

from .factories import verify

pytestmark = pytest.mark.django_db

KEY = crypto.new_key()


def _propose(case: Case, by: object, summary: str = "Partner attestation answered.") -> Decision:
    return services.propose_verified(
        case,
        summary,
        by=by,  # type: ignore[arg-type]
        keyring_key=KEY,
        expected_version=None,
    )


def _actions(decision: Decision) -> list[str]:
    return list(
        AuditEntry.objects.filter(object_id=decision.pk)
        .order_by("position")
        .values_list("action", flat=True)
    )


# --- Four eyes -----------------------------------------------------------------------------


def test_verified_needs_a_second_person_and_moves_the_case() -> None:
    case = make_case(state="in_verification")
    first, second = make_user(Role.CASEWORKER), make_user(Role.VERIFIER)
    proposal = _propose(case, first)
    case.refresh_from_db()
    assert (proposal.status, case.state) == ("proposed", "in_verification")
    assert not services.is_verified(case)

    with pytest.raises(TransitionRefusedError, match="different staff member"):
        services.confirm_verified(case, proposal.pk, by=first)
    proposal.refresh_from_db()
    assert proposal.status == "proposed" and proposal.confirmed_by is None

    decided = services.confirm_verified(case, proposal.pk, by=second)
    case.refresh_from_db()
    assert (decided.status, decided.confirmed_by, case.state) == ("decided", second, "verified")
    assert services.is_verified(case)
    assert CaseEvent.objects.filter(case=case, to_state="verified", by=second).exists()


def test_the_database_refuses_one_person_proposing_and_confirming() -> None:
    case = make_case(state="in_verification")
    person = make_user(Role.CASEWORKER)
    proposal = _propose(case, person)
    with pytest.raises(IntegrityError), transaction.atomic():
        Decision.objects.filter(pk=proposal.pk).update(
            confirmed_by=person, status="decided", decided_at=timezone.now()
        )


def test_one_open_proposal_per_case_in_the_service_and_the_database() -> None:
    case = make_case(state="in_verification")
    _propose(case, make_user(Role.CASEWORKER))
    with pytest.raises(TransitionRefusedError, match="already waiting"):
        _propose(case, make_user(Role.CASEWORKER))
    with pytest.raises(IntegrityError), transaction.atomic():
        Decision.objects.create(
            case=case, keyring_id=case.keyring_id, outcome="verified", status="proposed"
        )
    assert Decision.objects.filter(case=case).count() == 1


def test_a_withdrawn_proposal_cannot_be_confirmed_and_makes_room_for_another() -> None:
    case = make_case(state="in_verification")
    proposal = _propose(case, make_user(Role.CASEWORKER))
    services.withdraw_proposal(case, proposal.pk, by=make_user(Role.VERIFIER))
    with pytest.raises(TransitionRefusedError, match="withdrawn or decided"):
        services.confirm_verified(case, proposal.pk, by=make_user(Role.VERIFIER))
    assert _propose(case, make_user(Role.CASEWORKER)).status == "proposed"
    assert _actions(proposal) == [
        "verification.decision.proposed",
        "verification.decision.withdrawn",
    ]


def test_the_summary_is_sealed_and_the_audit_entries_hold_no_content() -> None:
    case = make_case(state="in_verification")
    proposal = _propose(case, make_user(Role.CASEWORKER))
    assert decrypt_value(KEY, proposal, "summary") == "Partner attestation answered."
    assert b"attestation" not in bytes(proposal.summary)
    services.confirm_verified(case, proposal.pk, by=make_user(Role.VERIFIER))
    assert _actions(proposal) == [
        "verification.decision.proposed",
        "verification.decision.confirmed",
    ]
    for entry in AuditEntry.objects.filter(action__startswith="verification."):
        assert "attestation" not in str(entry.details).lower()


def test_no_decision_on_a_case_not_sent_to_verification() -> None:
    case = make_case(state="triaged")
    with pytest.raises(TransitionRefusedError, match="takes no verification decision"):
        _propose(case, make_user(Role.CASEWORKER))
    with pytest.raises(TransitionRefusedError, match="Sum up"):
        _propose(make_case(state="in_verification"), make_user(Role.CASEWORKER), summary="  ")
    assert not Decision.objects.exists()


def test_a_stale_form_proposes_nothing() -> None:
    case = make_case(state="in_verification")
    with pytest.raises(cases.StaleCaseError):
        services.propose_verified(
            case, "Checked.", by=make_user(Role.CASEWORKER), keyring_key=KEY, expected_version=7
        )
    assert not Decision.objects.exists()


# --- Declined and more information -----------------------------------------------------------


def test_declining_moves_the_case_and_supersedes_an_open_proposal() -> None:
    case = make_case(state="in_verification")
    proposal = _propose(case, make_user(Role.CASEWORKER))
    declined = services.decline(
        case,
        Reason.NOT_VERIFIABLE,
        "No source could be reached.",
        by=make_user(Role.VERIFIER),
        keyring_key=KEY,
        expected_version=case.version,
    )
    case.refresh_from_db()
    proposal.refresh_from_db()
    assert (case.state, case.reason) == ("declined", "not_verifiable")
    assert (declined.outcome, declined.status, proposal.status) == (
        "declined",
        "decided",
        "superseded",
    )
    entry = AuditEntry.objects.get(action="verification.decision.decided", object_id=declined.pk)
    assert entry.details == {
        "case": str(case.pk),
        "outcome": "declined",
        "reason": "not_verifiable",
    }


def test_declining_needs_a_declining_reason_and_changes_nothing_without() -> None:
    case = make_case(state="in_verification")
    with pytest.raises(TransitionRefusedError, match="reason"):
        services.decline(
            case,
            Reason.SUPPORT_ENDED,
            "x",
            by=make_user(Role.CASEWORKER),
            keyring_key=KEY,
            expected_version=None,
        )
    case.refresh_from_db()
    assert case.state == "in_verification" and not Decision.objects.exists()


def test_a_refused_move_undoes_the_declined_decision() -> None:
    case = make_case(state="travelling")
    verify(case)
    with pytest.raises(TransitionRefusedError, match="cannot become"):
        services.decline(
            case,
            Reason.OTHER,
            "Too late to decline.",
            by=make_user(Role.CASEWORKER),
            keyring_key=KEY,
            expected_version=None,
        )
    assert list(Decision.objects.values_list("outcome", "status")) == [("verified", "decided")]


def test_more_information_sends_the_template_in_the_case_language() -> None:
    case = make_case(state="in_verification", language="fr")
    ReplyTemplate.objects.create(name="More documents", language="en", text="Send more, please.")
    ReplyTemplate.objects.create(
        name="More documents", language="fr", text="Envoyez d'autres documents."
    )
    asked = services.ask_for_more_information(
        case,
        "More documents",
        "The letter is unsigned.",
        by=make_user(Role.CASEWORKER),
        keyring_key=KEY,
        expected_version=case.version,
    )
    assert (asked.outcome, asked.status) == ("more_info", "decided")
    assert Message.objects.filter(request=case.request, sender="staff").count() == 1
    assert CaseEvent.objects.filter(case=case, kind="replied").exists()
    entry = AuditEntry.objects.get(action="verification.decision.decided", object_id=asked.pk)
    template = ReplyTemplate.objects.get(language="fr")
    assert entry.details["template"] == str(template.pk)


def test_more_information_without_a_template_in_the_case_language_sends_nothing() -> None:
    case = make_case(state="in_verification", language="ar")
    ReplyTemplate.objects.create(name="More documents", language="en", text="Send more.")
    with pytest.raises(TransitionRefusedError, match="no reply template"):
        services.ask_for_more_information(
            case,
            "More documents",
            "Unsigned letter.",
            by=make_user(Role.CASEWORKER),
            keyring_key=KEY,
            expected_version=None,
        )
    assert not Message.objects.exists() and not Decision.objects.exists()


def test_more_information_leaves_a_verified_case_verified() -> None:
    case = make_case(state="verified")
    verified = verify(case)
    ReplyTemplate.objects.create(name="More", language="en", text="Tell us more.")
    services.ask_for_more_information(
        case,
        "More",
        "Checking again.",
        by=make_user(Role.CASEWORKER),
        keyring_key=KEY,
        expected_version=None,
    )
    verified.refresh_from_db()
    assert verified.status == "decided" and services.is_verified(case)


def test_a_new_verification_supersedes_the_earlier_one() -> None:
    case = make_case(state="planning")
    first = verify(case)
    second = verify(case)
    first.refresh_from_db()
    assert (first.status, second.status) == ("superseded", "decided")
    case.refresh_from_db()
    assert case.state == "planning"  # re-verification moves nothing


# --- The guard -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "target"),
    [
        ("verified", "planning"),
        ("planning", "awaiting_funding"),
        ("awaiting_funding", "funded"),
        ("funded", "travelling"),
        ("travelling", "arrived"),
        ("arrived", "in_support"),
    ],
)
def test_no_planning_or_later_state_before_verified(state: str, target: str) -> None:
    case = make_case(state=state)
    with pytest.raises(TransitionRefusedError, match="Verify the case first"):
        cases.transition(case, target, by=None)
    case.refresh_from_db()
    assert case.state == state
    verify(case)
    assert cases.transition(case, target, by=None).state == target


def test_a_proposal_or_a_superseded_verification_does_not_open_the_way() -> None:
    case = make_case(state="in_verification")
    verify(case)
    case.refresh_from_db()
    services.decline(
        case,
        Reason.NOT_VERIFIABLE,
        "A source withdrew.",
        by=make_user(Role.CASEWORKER),
        keyring_key=KEY,
        expected_version=None,
    )
    case = cases.reopen(case, by=None, reason=Reason.NEW_INFORMATION)
    Case.objects.filter(pk=case.pk).update(state=State.VERIFIED)
    case.refresh_from_db()
    _propose(case, make_user(Role.CASEWORKER))
    with pytest.raises(TransitionRefusedError, match="Verify the case first"):
        cases.transition(case, State.PLANNING, by=None)


def test_require_verified_for_later_apps() -> None:
    case = make_case(state="verified")
    with pytest.raises(TransitionRefusedError, match="not verified"):
        services.require_verified(case)
    verify(case)
    services.require_verified(case)


def test_a_case_due_by_date_stays_verified_but_later_apps_are_refused() -> None:
    case = make_case(state="in_verification")
    decision = verify(case)
    Decision.objects.filter(pk=decision.pk).update(review_due_on=timezone.localdate())
    case.refresh_from_db()
    with pytest.raises(TransitionRefusedError, match="due for re-verification"):
        services.require_verified(case)
    # For the workflow it is still verified: the plan goes on while it is looked at again.
    assert services.is_verified(case)
    assert cases.transition(case, State.PLANNING, by=None).state == "planning"
    # Verified again by two people: a new review date, and later apps may go on.
    again = verify(case)
    assert again.review_due_on > timezone.localdate()
    services.require_verified(case)


def test_a_signal_the_reviewers_did_not_see_refuses_later_apps_at_once(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    case = make_case(state="in_verification")
    proposal = _propose(case, make_user(Role.CASEWORKER))
    services.confirm_verified(
        case, proposal.pk, by=make_user(Role.VERIFIER), signals=["contact_names"]
    )
    found = [Signal("contact_names", "Different names: 2.")]
    monkeypatch.setattr(services, "signals_for", lambda case, content=None: found)
    services.require_verified(case)  # the reviewers saw this one
    # A new signal, before the daily run has brought the review date forward.
    found.append(Signal("evidence_shared", "Same file elsewhere: 1."))
    with pytest.raises(TransitionRefusedError, match="due for re-verification"):
        services.require_verified(case)
    assert services.is_verified(case)


def test_the_refusals_of_later_apps_are_in_the_askers_language() -> None:
    case = make_case(state="verified")
    with translation.override("es"), pytest.raises(TransitionRefusedError) as refused:
        services.require_verified(case)
    with translation.override("es"):
        expected = gettext(
            "This case is not verified. Two staff members must verify it before travel, "
            "money or safe-house details can be recorded."
        )
    assert refused.value.message == expected and not expected.startswith("This case")


# --- Re-verification -------------------------------------------------------------------------


def test_review_date_follows_the_setting(settings) -> None:  # type: ignore[no-untyped-def]
    settings.VERIFICATION_REVIEW_DAYS = 30
    decision = verify(make_case(state="in_verification"))
    today = timezone.localdate()
    assert decision.review_due_on == today + timedelta(days=30)
    assert services.due_reasons(decision, [], today=today + timedelta(days=29)) == []
    assert services.due_reasons(decision, [], today=today + timedelta(days=30)) == ["date"]


def test_a_signal_after_the_decision_makes_it_due_one_seen_before_does_not() -> None:
    case = make_case(state="in_verification")
    proposal = _propose(case, make_user(Role.CASEWORKER))
    decision = services.confirm_verified(
        case, proposal.pk, by=make_user(Role.VERIFIER), signals=["contact_names"]
    )
    today = timezone.localdate()
    assert services.signals_seen(decision) == {"contact_names"}
    assert services.due_reasons(decision, ["contact_names"], today=today) == []
    assert services.due_reasons(decision, ["contact_names", "evidence_shared"], today=today) == [
        "signal"
    ]


def test_the_daily_run_brings_review_forward_on_a_new_signal(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    quiet, flagged = make_case(state="verified"), make_case(state="verified")
    verify(quiet)
    decision = verify(flagged)
    monkeypatch.setattr(
        services,
        "signals_for",
        lambda case, content=None: (
            [Signal("evidence_shared", "Same file elsewhere: 1.")] if case.pk == flagged.pk else []
        ),
    )
    assert services.bring_reviews_forward() == 1
    assert services.bring_reviews_forward() == 0
    decision.refresh_from_db()
    assert decision.review_due_on == timezone.localdate()
    entry = AuditEntry.objects.get(action="verification.decision.review_due")
    assert entry.details == {"case": str(flagged.pk), "signals": 1}


def test_the_daily_command_reports_what_it_brought_forward() -> None:
    out = io.StringIO()
    call_command("review_verifications", stdout=out)
    assert out.getvalue().strip() == "re-verifications brought forward: 0"


# --- Sharing with verifiers ------------------------------------------------------------------


def test_only_verifier_teams_share_a_case_in_verification() -> None:
    case = make_case(state="in_verification")
    team = Team.objects.create(name="Caseworkers", role=Role.CASEWORKER)
    keys = UnlockedKeys(user_id=case.pk, private_key=b"")  # refused before any key is used
    with pytest.raises(TransitionRefusedError, match="verifier teams"):
        services.share_with_verifiers(case, team, by=make_user(Role.CASEWORKER), keys=keys)
    verifiers = Team.objects.create(name="Verifiers", role=Role.VERIFIER)
    Case.objects.filter(pk=case.pk).update(state=State.VERIFIED)
    with pytest.raises(TransitionRefusedError, match="in verification"):
        services.share_with_verifiers(case, verifiers, by=make_user(Role.CASEWORKER), keys=keys)

"""Duplicate decisions: link, dismiss or merge two cases, each audited on both cases; merged
histories on the kept case's page, with the keys that open them."""

import itertools
import uuid
from collections.abc import Iterator

import pytest
from django.test import Client
from django.utils import translation

from conftest import PASSWORD, make_user, sign_in
from waystation.accounts.models import Membership, Role, Team, User
from waystation.audit.models import AuditEntry
from waystation.cases import merging, services
from waystation.cases.access import merged_into
from waystation.cases.merging import dismiss_duplicate, link_duplicates, merge_cases
from waystation.cases.models import Case, CaseEvent, DuplicateDecision
from waystation.cases.services import StaleCaseError
from waystation.cases.workflow import TransitionRefusedError
from waystation.intake import services as intake
from waystation.vault import services as vault
from waystation.vault.models import KeyringGrant

from .factories import make_case

pytestmark = pytest.mark.django_db

PHONE = "+234 803 123 4567"
_forms = itertools.count()


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    # Refusals are matched by their English words, whatever an earlier test left active.
    with translation.override("en"):
        yield


def _volunteer() -> User:
    """An intake volunteer with keys, whose team key opens what the public form seals."""
    volunteer = make_user(Role.INTAKE_VOLUNTEER, keys=True)
    vault.ensure_team_key(Team.objects.get(memberships__user=volunteer))
    return volunteer


def _ask(narrative: str, *, name: str = "Ada Okafor", handle: str = PHONE) -> Case:
    """A request stored as the public form stores it (sealed to the intake team); its case."""
    answers = intake.Answers(
        country="NG",
        region="Lagos",
        nationalities="",
        narrative=narrative,
        risk="now",
        organization="",
        documents=["none"],
        name=name,
        channel="phone",
        handle=handle,
    )
    request, _code = intake.submit_request(
        answers, language="en", form_token=f"decision-form-{next(_forms)}"
    )
    return Case.objects.get(request=request)


def _keys(user: User) -> vault.UnlockedKeys:
    return vault.unlock_with_password(user, PASSWORD)


def _nothing_recorded(*cases: Case) -> None:
    assert not DuplicateDecision.objects.exists()
    assert not CaseEvent.objects.filter(kind=CaseEvent.Kind.DUPLICATE).exists()
    assert not AuditEntry.objects.filter(action__startswith="cases.duplicate.").exists()
    assert not AuditEntry.objects.filter(action="cases.case.moved").exists()
    assert not AuditEntry.objects.filter(action="vault.keyring.granted").exists()
    for case in cases:
        stored = Case.objects.get(pk=case.pk)
        assert (stored.state, stored.version) == (case.state, case.version)


# --- services ---------------------------------------------------------------------------------


def test_linking_stores_the_pair_once_with_an_event_and_an_audit_entry_on_each_case() -> None:
    volunteer = make_user(Role.INTAKE_VOLUNTEER)
    one, two = make_case(), make_case()
    link_duplicates(two, one, by=volunteer)
    first, second = sorted((one, two), key=lambda c: str(c.pk))
    decision = DuplicateDecision.objects.get()
    assert (decision.first_id, decision.second_id) == (first.pk, second.pk)
    assert (decision.kind, decision.by) == (DuplicateDecision.Kind.LINKED, volunteer)
    for case, other in ((one, two), (two, one)):
        assert case.events.filter(kind=CaseEvent.Kind.DUPLICATE, by=volunteer).count() == 1
        entry = AuditEntry.objects.get(action="cases.duplicate.linked", object_id=case.pk)
        assert entry.details == {"other": str(other.pk), "was": ""}
        assert entry.actor_id == volunteer.pk
        case.refresh_from_db()
        assert case.version == 2  # pages drawn before the decision are stale


def test_a_dismissal_can_become_a_link_and_the_row_is_updated() -> None:
    volunteer, colleague = make_user(Role.INTAKE_VOLUNTEER), make_user(Role.INTAKE_VOLUNTEER)
    one, two = make_case(), make_case()
    dismiss_duplicate(one, two, by=volunteer)
    assert AuditEntry.objects.filter(action="cases.duplicate.dismissed").count() == 2
    link_duplicates(two, one, by=colleague)
    decision = DuplicateDecision.objects.get()
    assert (decision.kind, decision.by) == (DuplicateDecision.Kind.LINKED, colleague)
    linked = AuditEntry.objects.filter(action="cases.duplicate.linked")
    assert {entry.details["was"] for entry in linked} == {"dismissed"}
    assert CaseEvent.objects.filter(case=one, kind=CaseEvent.Kind.DUPLICATE).count() == 2


def test_the_same_decision_twice_and_a_case_with_itself_are_refused() -> None:
    volunteer = make_user(Role.INTAKE_VOLUNTEER)
    one, two = make_case(), make_case()
    with pytest.raises(TransitionRefusedError, match="duplicate of itself"):
        link_duplicates(one, one, by=volunteer)
    link_duplicates(one, two, by=volunteer)
    with pytest.raises(TransitionRefusedError, match="already made"):
        link_duplicates(two, one, by=volunteer)
    assert DuplicateDecision.objects.count() == 1


def test_a_stale_page_is_refused_and_nothing_changes() -> None:
    volunteer = make_user(Role.INTAKE_VOLUNTEER, keys=True)
    one, two = make_case(), make_case()
    Case.objects.filter(pk=two.pk).update(version=5)  # changed by someone meanwhile
    two.refresh_from_db()
    with pytest.raises(StaleCaseError):
        link_duplicates(one, two, by=volunteer, expected_version=1, other_version=1)
    with pytest.raises(StaleCaseError):
        dismiss_duplicate(two, one, by=volunteer, expected_version=4, other_version=1)
    with pytest.raises(StaleCaseError):
        merge_cases(
            one, two, by=volunteer, keys=_keys(volunteer), expected_version=1, merged_version=4
        )
    _nothing_recorded(one, two)


def test_both_rows_are_locked_smaller_id_first_from_either_side(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    volunteer = make_user(Role.INTAKE_VOLUNTEER)
    one, two = make_case(), make_case()
    locked: list[str] = []
    real = merging._locked

    def recording(case: Case, expected_version: int | None) -> Case:
        locked.append(str(case.pk))
        return real(case, expected_version)

    monkeypatch.setattr(merging, "_locked", recording)
    link_duplicates(one, two, by=volunteer)
    dismiss_duplicate(two, one, by=volunteer)
    smaller_first = sorted([str(one.pk), str(two.pk)])
    assert locked == smaller_first + smaller_first


def test_merging_moves_the_merged_case_through_the_workflow_and_audits_both() -> None:
    volunteer = make_user(Role.INTAKE_VOLUNTEER, keys=True)
    keep, merged = make_case(state="triaged"), make_case()
    merge_cases(
        keep, merged, by=volunteer, keys=_keys(volunteer), expected_version=1, merged_version=1
    )
    keep.refresh_from_db()
    merged.refresh_from_db()
    assert (merged.state, merged.duplicate_of, merged.version) == ("duplicate", keep, 2)
    assert keep.state == "triaged" and keep.version == 2
    assert DuplicateDecision.objects.get().kind == DuplicateDecision.Kind.MERGED
    assert merged.events.filter(kind=CaseEvent.Kind.STATE, to_state="duplicate").exists()
    for case, other in ((keep, merged), (merged, keep)):
        assert case.events.filter(kind=CaseEvent.Kind.DUPLICATE).count() == 1
        entry = AuditEntry.objects.get(action="cases.duplicate.merged", object_id=case.pk)
        assert entry.details == {"other": str(other.pk), "was": "", "kept": str(keep.pk)}
    assert AuditEntry.objects.filter(action="cases.case.moved", object_id=merged.pk).exists()
    assert merged_into(keep) == [merged]


def test_a_merge_the_workflow_refuses_is_refused_with_its_message_and_changes_nothing() -> None:
    volunteer = make_user(Role.INTAKE_VOLUNTEER, keys=True)
    keep, merged = make_case(state="triaged"), make_case(state="verified")
    with pytest.raises(TransitionRefusedError, match="cannot become"):
        merge_cases(keep, merged, by=volunteer, keys=_keys(volunteer))
    _nothing_recorded(keep, merged)
    assert not merged.events.exists()


def test_a_case_is_not_merged_into_an_ended_one() -> None:
    volunteer = make_user(Role.INTAKE_VOLUNTEER, keys=True)
    keep, merged = make_case(state="closed"), make_case()
    with pytest.raises(TransitionRefusedError, match="Reopen the case to keep"):
        merge_cases(keep, merged, by=volunteer, keys=_keys(volunteer))
    _nothing_recorded(keep, merged)


def test_a_merged_pair_is_not_merged_again_nor_changed_until_reopened() -> None:
    volunteer = make_user(Role.INTAKE_VOLUNTEER, keys=True)
    keep, merged = make_case(), make_case()
    merge_cases(keep, merged, by=volunteer, keys=_keys(volunteer))
    with pytest.raises(TransitionRefusedError, match="already merged"):
        merge_cases(keep, merged, by=volunteer, keys=_keys(volunteer))
    with pytest.raises(TransitionRefusedError, match="Reopen the merged case"):
        dismiss_duplicate(keep, merged, by=volunteer)
    services.reopen(merged, by=volunteer, reason="mistake")
    assert merged_into(keep) == []
    link_duplicates(merged, keep, by=volunteer)
    assert DuplicateDecision.objects.get().kind == DuplicateDecision.Kind.LINKED


def test_merging_seals_the_merged_key_to_the_kept_cases_team_and_assignee() -> None:
    volunteer = _volunteer()
    keep, merged = _ask("First request."), _ask("Second request.")
    caseworker = make_user(Role.CASEWORKER, keys=True)
    team = Team.objects.get(memberships__user=caseworker)
    keep = services.assign_case(
        keep, team=team, user=caseworker, by=volunteer, keys=_keys(volunteer)
    )
    with pytest.raises(vault.KeysUnavailableError):
        vault.open_keyring(merged.keyring, _keys(caseworker))
    merge_cases(keep, merged, by=volunteer, keys=_keys(volunteer))
    assert vault.open_keyring(merged.keyring, _keys(caseworker))
    assert KeyringGrant.objects.filter(keyring=merged.keyring, team_key__team=team).exists()
    assert (
        AuditEntry.objects.filter(
            action="vault.keyring.granted", object_id=merged.keyring_id
        ).count()
        == 2
    )


def test_a_merge_the_user_cannot_open_is_refused_and_changes_nothing() -> None:
    volunteer = make_user(Role.INTAKE_VOLUNTEER, keys=True)
    caseworker = make_user(Role.CASEWORKER, keys=True)
    keep, merged = make_case(assigned_to=caseworker), make_case()  # no key opens `merged`
    with pytest.raises(TransitionRefusedError, match="Your keys do not open case"):
        merge_cases(keep, merged, by=volunteer, keys=_keys(volunteer))
    _nothing_recorded(keep, merged)
    assert not merged.events.exists()


def test_assigning_the_kept_case_later_moves_the_merged_keys_with_it() -> None:
    volunteer = _volunteer()
    keep, merged = _ask("First request."), _ask("Second request.")
    first = make_user(Role.CASEWORKER, keys=True)
    keep = services.assign_case(keep, team=None, user=first, by=volunteer, keys=_keys(volunteer))
    merge_cases(keep, merged, by=volunteer, keys=_keys(volunteer))
    north = Team.objects.create(name="North", role=Role.CASEWORKER)
    second = make_user(Role.CASEWORKER, keys=True, email="second@example.org")
    Membership.objects.create(team=north, user=second)
    services.assign_case(keep, team=north, user=second, by=volunteer, keys=_keys(volunteer))
    assert vault.open_keyring(merged.keyring, _keys(second))
    assert KeyringGrant.objects.filter(keyring=merged.keyring, team_key__team=north).exists()
    assert not KeyringGrant.objects.filter(keyring=merged.keyring, user=first).exists()


def test_merges_into_a_merged_case_follow_it_to_the_kept_one() -> None:
    volunteer = _volunteer()
    kept, middle, oldest = _ask("One."), _ask("Two."), _ask("Three.")
    caseworker = make_user(Role.CASEWORKER, keys=True)
    kept = services.assign_case(
        kept, team=None, user=caseworker, by=volunteer, keys=_keys(volunteer)
    )
    merge_cases(middle, oldest, by=volunteer, keys=_keys(volunteer))
    merge_cases(kept, middle, by=volunteer, keys=_keys(volunteer))
    assert [case.pk for case in merged_into(kept)] == [middle.pk, oldest.pk]
    assert vault.open_keyring(oldest.keyring, _keys(caseworker))


# --- the case page ----------------------------------------------------------------------------


def _decide(client: Client, case: Case, other: Case, decision: str, **data: object):  # type: ignore[no-untyped-def]
    case.refresh_from_db()
    other.refresh_from_db()
    return client.post(
        f"/staff/cases/{case.pk}/duplicates/{other.pk}/",
        {"decision": decision, "version": case.version, "other_version": other.version, **data},
    )


def test_the_kept_page_shows_the_merged_history_to_whoever_reads_the_kept_case(
    client: Client,
) -> None:
    volunteer = _volunteer()
    keep = _ask("The police came to my house twice this month.")
    merged = _ask("My landlord told the neighbours about me.")
    sign_in(client, volunteer)
    client.post("/staff/unlock/", {"password": PASSWORD})
    client.post(f"/staff/cases/{merged.pk}/notes/", {"text": "Called back on the old number."})
    client.post(
        f"/staff/cases/{merged.pk}/tasks/",
        {"title": "Ask for the tenancy letter", "owner": volunteer.pk, "due_on": "2030-01-01"},
    )
    client.post(
        f"/staff/cases/{merged.pk}/reply/", {"text": "We read your second request.", "version": 1}
    )
    response = _decide(client, keep, merged, "merge_here")
    assert response.status_code == 302 and response["Location"] == f"/staff/cases/{keep.pk}/"
    page = client.get(f"/staff/cases/{keep.pk}/").content.decode()
    assert f"Merged case {merged.reference}" in page
    for text in (
        "My landlord told the neighbours about me.",
        "Called back on the old number.",
        "Ask for the tenancy letter",
        "We read your second request.",
        "Duplicate decision",
        "Merged into one case",
    ):
        assert text in page, text
    read = AuditEntry.objects.get(action="cases.case.read", object_id=merged.pk)
    assert read.details == {"via": str(keep.pk)}
    # Messages stay with their request: nothing moved to the kept one.
    assert keep.request.messages.count() == 0 and merged.request.messages.count() == 1

    caseworker = make_user(Role.CASEWORKER, keys=True)
    services.assign_case(keep, team=None, user=caseworker, by=volunteer, keys=_keys(volunteer))
    theirs = Client()
    sign_in(theirs, caseworker)
    theirs.post("/staff/unlock/", {"password": PASSWORD})
    page = theirs.get(f"/staff/cases/{keep.pk}/").content.decode()
    assert "My landlord told the neighbours about me." in page
    assert "Called back on the old number." in page


def test_merging_this_case_into_the_other_goes_to_the_kept_case(client: Client) -> None:
    volunteer = _volunteer()
    keep, merged = _ask("First request."), _ask("Second request.")
    sign_in(client, volunteer)
    client.post("/staff/unlock/", {"password": PASSWORD})
    response = _decide(client, merged, keep, "merge_there")
    assert response["Location"] == f"/staff/cases/{keep.pk}/"
    merged.refresh_from_db()
    assert merged.state == "duplicate" and merged.duplicate_of_id == keep.pk


def test_dismissed_candidates_go_and_linked_ones_show_as_decisions(client: Client) -> None:
    volunteer = _volunteer()
    volunteer.display_name = "Vera Volunteer"
    volunteer.save()
    earlier = _ask("One.", name="Grace Achieng Okoth", handle="+254 712 345 678")
    other = _ask("Two.", name="Grace Okoth", handle="+254 712 345 678")
    case = _ask("Three.", name="Grace A. Okoth", handle="+254 712 345 678")
    sign_in(client, volunteer)
    client.post("/staff/unlock/", {"password": PASSWORD})

    def suggested() -> set[uuid.UUID]:
        response = client.get(f"/staff/cases/{case.pk}/")
        return {shown.case.pk for shown in response.context["candidates"]}

    assert {earlier.pk, other.pk} <= suggested()
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert f'action="/staff/cases/{case.pk}/duplicates/{earlier.pk}/"' in page
    assert 'value="merge_here"' in page and f'aria-describedby="duplicate-{earlier.pk}"' in page
    assert _decide(client, case, earlier, "dismiss").status_code == 302
    assert _decide(client, case, other, "link").status_code == 302
    assert suggested().isdisjoint({earlier.pk, other.pk})
    response = client.get(f"/staff/cases/{case.pk}/")
    decisions = response.context["decisions"]
    assert [(d.other.pk, d.kind) for d in decisions.same] == [(other.pk, "linked")]
    assert [d.other.pk for d in decisions.dismissed] == [earlier.pk]
    page = response.content.decode()
    assert "Linked: the same person, both cases stay open" in page and "Vera Volunteer" in page
    # The decision holds from the other side too.
    from_other = client.get(f"/staff/cases/{other.pk}/")
    assert case.pk not in {shown.case.pk for shown in from_other.context["candidates"]}
    assert [d.other.pk for d in from_other.context["decisions"].same] == [case.pk]


def test_a_case_the_user_cannot_see_on_either_side_is_a_404(client: Client) -> None:
    volunteer = make_user(Role.INTAKE_VOLUNTEER)
    own, foreign = make_case(assigned_to=volunteer), make_case(state="triaged")
    sign_in(client, volunteer)
    assert _decide(client, own, foreign, "link").status_code == 404
    assert _decide(client, foreign, own, "link").status_code == 404
    missing = client.post(
        f"/staff/cases/{own.pk}/duplicates/{uuid.uuid4()}/",
        {"decision": "link", "version": 1, "other_version": 1},
    )
    assert missing.status_code == 404
    _nothing_recorded(own, foreign)


def test_refusals_on_the_page_say_why_and_change_nothing(client: Client) -> None:
    volunteer = make_user(Role.INTAKE_VOLUNTEER, keys=True)
    one, two = make_case(assigned_to=volunteer), make_case(assigned_to=volunteer)
    sign_in(client, volunteer)
    stale = _decide(client, one, two, "link", version=9)
    assert stale.status_code == 400 and "Someone else changed this case" in stale.content.decode()
    unknown = _decide(client, one, two, "explode")
    assert unknown.status_code == 400 and "choose a decision again" in unknown.content.decode()
    locked = _decide(client, one, two, "merge_here")
    assert locked.status_code == 400 and "Unlock your keys first" in locked.content.decode()
    itself = _decide(client, one, one, "dismiss")
    assert itself.status_code == 400 and "duplicate of itself" in itself.content.decode()
    _nothing_recorded(one, two)


def test_a_workflow_refusal_on_the_page_keeps_both_cases_as_they_were(client: Client) -> None:
    volunteer = make_user(Role.INTAKE_VOLUNTEER, keys=True)
    keep = make_case(assigned_to=volunteer)
    merged = make_case(assigned_to=volunteer, state="verified")
    sign_in(client, volunteer)
    client.post("/staff/unlock/", {"password": PASSWORD})
    response = _decide(client, keep, merged, "merge_here")
    assert response.status_code == 400
    assert "cannot become" in response.content.decode()
    _nothing_recorded(keep, merged)

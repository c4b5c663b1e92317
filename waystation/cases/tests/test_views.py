"""The case pages: the queue in order of danger, a case read and moved, breaking the glass."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from conftest import PASSWORD, make_user, sign_in
from waystation.accounts.models import Membership, Role, Team
from waystation.audit.models import AuditEntry
from waystation.cases.models import BreakGlass, Case
from waystation.vault import services as vault

from .conftest import ask
from .factories import make_case

pytestmark = pytest.mark.django_db


def _references(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [case.reference for case in response.context["page"].cases]


def test_queue_lists_new_cases_most_urgent_first_then_by_due_date(client: Client) -> None:
    now = timezone.now()
    later = make_case(risk="now", answer_due_at=now + timedelta(days=9))
    sooner = make_case(risk="now", answer_due_at=now + timedelta(days=2))
    weeks = make_case(risk="weeks", answer_due_at=now - timedelta(days=1))
    make_case(state="closed")
    sign_in(client, make_user(Role.INTAKE_VOLUNTEER))
    response = client.get("/staff/cases/")
    assert _references(response) == [sooner.reference, later.reference, weeks.reference]
    content = response.content.decode()
    assert "overdue" in content and "due soon" in content
    assert response.context["by_risk"] == {"1": 2, "2": 1}


def test_filters_and_pages_follow_the_cursor(client: Client) -> None:
    for _ in range(3):
        make_case(country="KE")
    make_case(country="UG")
    sign_in(client, make_user(Role.INTAKE_VOLUNTEER))
    response = client.get("/staff/cases/", {"state": "new", "country": "ke"})
    assert len(_references(response)) == 3
    assert dict(response.context["by_country"]) == {"KE": 3, "UG": 1}
    first = client.get("/staff/cases/", {"state": "new"})
    assert len(first.context["page"].cases) == 4 and not first.context["next_query"]


def test_bad_filters_and_cursors_give_the_queue_not_an_error(client: Client) -> None:
    make_case()
    sign_in(client, make_user(Role.INTAKE_VOLUNTEER))
    for query in ({"state": "nowhere"}, {"after": "garbage"}, {"after": "1~x~y", "risk": "soon"}):
        response = client.get("/staff/cases/", query)
        assert response.status_code == 200


def test_keyset_pages_cover_every_case_once(client: Client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("waystation.cases.queue.PAGE_SIZE", 2)
    made = {make_case(risk=risk).reference for risk in ["now", "weeks", "now", "ongoing", "now"]}
    sign_in(client, make_user(Role.INTAKE_VOLUNTEER))
    seen: list[str] = []
    query = "state=new"
    while True:
        response = client.get(f"/staff/cases/?{query}")
        seen += _references(response)
        query = response.context["next_query"]
        if not query:
            break
    assert sorted(seen) == sorted(made) and len(seen) == len(made)


def test_caseworker_sees_only_their_teams_cases(client: Client) -> None:
    caseworker = make_user(Role.CASEWORKER)
    mine = Team.objects.get(memberships__user=caseworker)
    other = Team.objects.create(name="Other caseworkers", role=Role.CASEWORKER)
    ours = make_case(state="triaged", team=mine)
    theirs = make_case(state="triaged", team=other)
    make_case()  # new: the intake queue, not the caseworker's
    sign_in(client, caseworker)
    assert _references(client.get("/staff/cases/")) == [ours.reference]
    assert client.get(f"/staff/cases/{ours.pk}/").status_code == 200
    assert client.get(f"/staff/cases/{theirs.pk}/").status_code == 404


def test_reading_a_case_shows_the_request_and_logs_the_look(client: Client) -> None:
    volunteer = make_user(Role.INTAKE_VOLUNTEER, keys=True)
    vault.ensure_team_key(Team.objects.get(memberships__user=volunteer))
    case = ask(name="Ada Okafor").case
    sign_in(client, volunteer)
    locked = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert "Unlock your keys" in locked and "police came" not in locked
    client.post("/staff/unlock/", {"password": PASSWORD})
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert "The police came to my house twice this month." in page and "Ada Okafor" in page
    assert AuditEntry.objects.filter(action="cases.case.read", object_id=case.pk).count() == 1


def test_moving_a_case_and_refusals_keep_the_page(client: Client) -> None:
    volunteer = make_user(Role.INTAKE_VOLUNTEER)
    case = make_case(assigned_to=volunteer)  # still theirs once triaged
    sign_in(client, volunteer)
    moved = client.post(f"/staff/cases/{case.pk}/move/", {"target": "triaged", "version": 1})
    assert moved.status_code == 302
    case.refresh_from_db()
    assert case.state == "triaged" and case.version == 2
    # A second volunteer's form, drawn before the first change:
    stale = client.post(
        f"/staff/cases/{case.pk}/move/",
        {"target": "declined", "reason": "outside_mandate", "version": 1},
    )
    assert stale.status_code == 400 and "Someone else changed this case" in stale.content.decode()
    illegal = client.post(f"/staff/cases/{case.pk}/move/", {"target": "funded", "version": 2})
    assert illegal.status_code == 400 and "cannot become" in illegal.content.decode()
    case.refresh_from_db()
    assert case.state == "triaged"


def test_break_glass_opens_a_case_logs_it_and_tells_coordinators(  # type: ignore[no-untyped-def]
    client: Client, django_capture_on_commit_callbacks
) -> None:
    coordinator = make_user(Role.COORDINATOR, email="coord@example.org")
    volunteer = make_user(Role.INTAKE_VOLUNTEER)
    case = make_case(state="triaged")
    sign_in(client, volunteer)
    assert client.get(f"/staff/cases/{case.pk}/").status_code == 404
    form = client.get(f"/staff/cases/{case.pk}/break-glass/")
    assert form.status_code == 200
    refused = client.post(f"/staff/cases/{case.pk}/break-glass/", {"reason": "x"})
    assert refused.status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        opened = client.post(f"/staff/cases/{case.pk}/break-glass/", {"reason": "urgent_danger"})
    assert opened["Location"] == f"/staff/cases/{case.pk}/"
    assert client.get(f"/staff/cases/{case.pk}/").status_code == 200
    assert AuditEntry.objects.filter(action="cases.case.glass_broken", object_id=case.pk).exists()
    assert [message.to for message in mail.outbox] == [[coordinator.email]]
    assert case.reference not in mail.outbox[0].body
    # The glass closes again after a few hours.
    BreakGlass.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    assert client.get(f"/staff/cases/{case.pk}/").status_code == 404


def test_coordinators_review_break_glass_weekly(client: Client) -> None:
    coordinator = make_user(Role.COORDINATOR)
    volunteer = make_user(Role.INTAKE_VOLUNTEER)
    case = make_case(state="triaged")
    from waystation.cases import services

    entry = services.break_glass(case, by=volunteer, reason="covering")
    sign_in(client, coordinator)
    page = client.get("/staff/cases/break-glass/").content.decode()
    assert case.reference in page and "Covering for an absent colleague" in page
    client.post("/staff/cases/break-glass/", {"entry": entry.pk})
    entry.refresh_from_db()
    assert entry.reviewed_by == coordinator
    assert client.get(f"/staff/cases/{case.pk}/").status_code == 404  # reviewing is not reading


def test_assigned_cases_are_visible_whatever_their_state(client: Client) -> None:
    caseworker = make_user(Role.CASEWORKER)
    case = make_case(state="planning", assigned_to=caseworker)
    Membership.objects.filter(user=caseworker).delete()
    Membership.objects.create(
        user=caseworker, team=Team.objects.create(name="Intake", role=Role.INTAKE_VOLUNTEER)
    )
    sign_in(client, caseworker)
    assert client.get(f"/staff/cases/{case.pk}/").status_code == 200
    assert Case.objects.count() == 1


def test_queue_queries_do_not_grow_with_the_cases_shown(  # type: ignore[no-untyped-def]
    client: Client, django_assert_max_num_queries
) -> None:
    volunteer = make_user(Role.INTAKE_VOLUNTEER)
    sign_in(client, volunteer)
    make_case(assigned_to=volunteer)
    client.get("/staff/cases/")  # warm the session and the sign-in checks
    # The bulk form (templates, responses) and three counts (risk, country, language).
    with django_assert_max_num_queries(15) as few:
        client.get("/staff/cases/")
    for _ in range(20):
        make_case(assigned_to=volunteer)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/staff/cases/")


def _unlocked_volunteer_and_case(client: Client):  # type: ignore[no-untyped-def]
    volunteer = make_user(Role.INTAKE_VOLUNTEER, keys=True)
    vault.ensure_team_key(Team.objects.get(memberships__user=volunteer))
    case = ask(name="Ada Okafor").case
    sign_in(client, volunteer)
    client.post("/staff/unlock/", {"password": PASSWORD})
    return volunteer, case


def test_assigning_seals_the_case_key_to_the_caseworker_and_moves_it_out_of_view(
    client: Client,
) -> None:
    volunteer, case = _unlocked_volunteer_and_case(client)
    caseworker = make_user(Role.CASEWORKER, keys=True)
    team = Team.objects.get(memberships__user=caseworker)
    client.post(f"/staff/cases/{case.pk}/move/", {"target": "triaged", "version": 1})
    # Triaged and unassigned: out of the intake queue, so reassigning is the caseworkers'.
    assert client.get(f"/staff/cases/{case.pk}/").status_code == 404
    Case.objects.filter(pk=case.pk).update(assigned_to=volunteer)
    response = client.post(
        f"/staff/cases/{case.pk}/assign/", {"team": team.pk, "user": caseworker.pk, "version": 2}
    )
    assert response["Location"] == "/staff/cases/"
    case.refresh_from_db()
    assert (case.team, case.assigned_to, case.version) == (team, caseworker, 3)
    keys = vault.unlock_with_password(caseworker, PASSWORD)
    assert vault.open_keyring(case.keyring, keys)  # the caseworker can read it now
    assert AuditEntry.objects.filter(action="cases.case.assigned", object_id=case.pk).exists()
    other = Client()
    sign_in(other, caseworker)
    assert other.get(f"/staff/cases/{case.pk}/").status_code == 200


def test_assigning_needs_unlocked_keys_and_a_person_with_keys(client: Client) -> None:
    volunteer = make_user(Role.INTAKE_VOLUNTEER, keys=True)
    case = make_case(assigned_to=volunteer)
    keyless = make_user(Role.CASEWORKER)
    sign_in(client, volunteer)
    locked = client.post(f"/staff/cases/{case.pk}/assign/", {"user": keyless.pk, "version": 1})
    assert locked.status_code == 400 and "Unlock your keys first" in locked.content.decode()
    client.post("/staff/unlock/", {"password": PASSWORD})
    refused = client.post(f"/staff/cases/{case.pk}/assign/", {"user": keyless.pk, "version": 1})
    assert refused.status_code == 400 and "no keys yet" in refused.content.decode()
    case.refresh_from_db()
    assert case.assigned_to == volunteer and case.version == 1


def test_answering_the_person_is_sealed_and_counts_as_the_first_answer(client: Client) -> None:
    _volunteer, case = _unlocked_volunteer_and_case(client)
    response = client.post(
        f"/staff/cases/{case.pk}/reply/", {"text": "We read your request.", "version": 1}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.answered_at is not None and case.version == 2
    message = case.request.messages.get()
    assert b"We read your request." not in bytes(message.for_person or b"")
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert "We read your request." in page
    empty = client.post(f"/staff/cases/{case.pk}/reply/", {"text": "", "version": 2})
    assert empty.status_code == 400 and case.request.messages.count() == 1


def test_notes_and_tasks_are_sealed_and_tasks_show_in_my_tasks(client: Client) -> None:
    volunteer, case = _unlocked_volunteer_and_case(client)
    client.post(f"/staff/cases/{case.pk}/notes/", {"text": "Called a partner in Lagos."})
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    client.post(
        f"/staff/cases/{case.pk}/tasks/",
        {"title": "Ask for the police letter", "owner": volunteer.pk, "due_on": yesterday},
    )
    note, task = case.notes.get(), case.tasks.get()
    assert b"Lagos" not in bytes(note.text) and b"police letter" not in bytes(task.title)
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert "Called a partner in Lagos." in page and "Ask for the police letter" in page
    mine = client.get("/staff/cases/tasks/").content.decode()
    assert "Ask for the police letter" in mine and "overdue" in mine
    client.post(f"/staff/cases/tasks/{task.pk}/done/", {"back": "mine"})
    task.refresh_from_db()
    assert task.status == "done"
    assert "Ask for the police letter" not in client.get("/staff/cases/tasks/").content.decode()
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"cases.note.written", "cases.task.created", "cases.task.done"} <= actions


def test_tasks_go_only_to_people_who_see_the_case(client: Client) -> None:
    _volunteer, case = _unlocked_volunteer_and_case(client)
    stranger = make_user(Role.CASEWORKER)
    response = client.post(
        f"/staff/cases/{case.pk}/tasks/",
        {"title": "Anything", "owner": stranger.pk, "due_on": "2030-01-01"},
    )
    assert response.status_code == 400 and "works on this case" in response.content.decode()
    assert not case.tasks.exists()


def test_notes_need_unlocked_keys(client: Client) -> None:
    volunteer = make_user(Role.INTAKE_VOLUNTEER, keys=True)
    case = make_case(assigned_to=volunteer)
    sign_in(client, volunteer)
    response = client.post(f"/staff/cases/{case.pk}/notes/", {"text": "x"})
    assert response.status_code == 400 and "Unlock your keys first" in response.content.decode()


def test_someone_elses_task_cannot_be_closed(client: Client) -> None:
    _volunteer, case = _unlocked_volunteer_and_case(client)
    client.post(
        f"/staff/cases/{case.pk}/tasks/",
        {"title": "Mine", "owner": _volunteer.pk, "due_on": "2030-01-01"},
    )
    task = case.tasks.get()
    outsider = Client()
    sign_in(outsider, make_user(Role.CASEWORKER))
    assert outsider.post(f"/staff/cases/tasks/{task.pk}/done/").status_code == 404
    task.refresh_from_db()
    assert task.status == "open"


def _tick(*cases: Case) -> list[str]:
    return [f"{case.pk}:{case.version}" for case in cases]


def test_bulk_triage_changes_every_case_ticked_each_audited(client: Client) -> None:
    volunteer = make_user(Role.INTAKE_VOLUNTEER)
    cases = [make_case(assigned_to=volunteer) for _ in range(3)]
    sign_in(client, volunteer)
    response = client.post(
        "/staff/cases/bulk/", {"chosen": _tick(*cases), "action": "triage", "back": "state=new"}
    )
    assert response["Location"] == "/staff/cases/?state=new"
    assert set(Case.objects.values_list("state", flat=True)) == {"triaged"}
    assert AuditEntry.objects.filter(action="cases.case.moved").count() == 3


def test_bulk_actions_are_all_or_nothing(client: Client) -> None:
    volunteer = make_user(Role.INTAKE_VOLUNTEER)
    fine = make_case(assigned_to=volunteer)
    ended = make_case(assigned_to=volunteer, state="declined", reason="no_funds")
    sign_in(client, volunteer)
    response = client.post(
        "/staff/cases/bulk/", {"chosen": _tick(fine, ended), "action": "triage"}, follow=True
    )
    assert f"Case {ended.reference}" in response.content.decode()
    fine.refresh_from_db()
    assert fine.state == "new" and not AuditEntry.objects.filter(action="cases.case.moved").exists()


def test_bulk_refuses_cases_one_may_not_touch_and_stale_ticks(client: Client) -> None:
    volunteer = make_user(Role.INTAKE_VOLUNTEER)
    mine = make_case(assigned_to=volunteer)
    someone_elses = make_case(state="triaged")
    sign_in(client, volunteer)
    client.post(
        "/staff/cases/bulk/",
        {"chosen": _tick(mine, someone_elses), "action": "risk", "risk": "ongoing"},
    )
    mine.refresh_from_db()
    assert mine.risk_rank == 1
    stale = _tick(mine)
    client.post("/staff/cases/bulk/", {"chosen": stale, "action": "risk", "risk": "weeks"})
    mine.refresh_from_db()
    assert mine.risk_rank == 2 and mine.version == 2
    client.post("/staff/cases/bulk/", {"chosen": stale, "action": "risk", "risk": "ongoing"})
    mine.refresh_from_db()
    assert mine.risk_rank == 2  # the tick was drawn before the last change


def test_bulk_marks_duplicates_of_one_case(client: Client) -> None:
    volunteer = make_user(Role.INTAKE_VOLUNTEER)
    original = make_case()
    copies = [make_case() for _ in range(2)]
    sign_in(client, volunteer)
    client.post(
        "/staff/cases/bulk/",
        {"chosen": _tick(*copies), "action": "duplicate", "duplicate_of": original.reference},
    )
    assert set(
        Case.objects.filter(pk__in=[c.pk for c in copies]).values_list("duplicate_of", flat=True)
    ) == {original.pk}


def test_the_case_page_lists_possible_duplicates_the_reader_can_open(client: Client) -> None:
    volunteer = make_user(Role.INTAKE_VOLUNTEER, keys=True)
    vault.ensure_team_key(Team.objects.get(memberships__user=volunteer))
    earlier = ask(name="Grace Achieng Okoth", handle="+254 712 345 678", country="KE").case
    hidden = ask(name="Grace Okoth", handle="+254 712 000 111", country="KE").case
    Case.objects.filter(pk=hidden.pk).update(state="triaged")  # out of this reader's view
    case = ask(name="Grace A. Okoth", handle="0712 345 678", country="KE").case
    sign_in(client, volunteer)
    client.post("/staff/unlock/", {"password": PASSWORD})
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert "Possible duplicates" in page and earlier.reference in page
    assert "same phone" in page and hidden.reference not in page

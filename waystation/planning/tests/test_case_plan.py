"""A case's plan: documents sealed with expiry warnings, nationalities, a pathway that
starts its milestones from the coordinators' template, milestones in "My tasks", and 404
for everyone else."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from conftest import make_user, sign_in
from waystation.accounts.models import Role, Team
from waystation.audit.models import AuditEntry
from waystation.cases import services as cases
from waystation.cases.models import Case, State
from waystation.cases.tests.factories import make_case
from waystation.planning.models import (
    Milestone,
    Owner,
    Pathway,
    Plan,
    TemplateStep,
    TravelDocument,
)
from waystation.vault.fields import decrypt_value

from .conftest import in_verification, member, unlocked

pytestmark = pytest.mark.django_db


def _url(case: Case, action: str = "") -> str:
    return f"/staff/planning/cases/{case.pk}/{action}"


def _document(client: Client, case: Case, **values: object) -> object:
    data = {"kind": "passport", "status": "held", "country": "UG", **values}
    return client.post(_url(case, "documents/"), data)


# --- Documents -----------------------------------------------------------------------------


def test_a_document_is_recorded_sealed_and_shown_to_the_caseworker(ana: Client, case: Case) -> None:
    expires = timezone.localdate() + timedelta(days=900)
    sent = _document(
        ana,
        case,
        number="B1234567",
        issued_on="2021-03-04",
        expires_on=expires.isoformat(),
        notes="Kept by a friend in Kampala",
    )
    assert sent.status_code == 302
    document = TravelDocument.objects.get(case=case)
    assert (document.kind, document.status, document.expires_on) == ("passport", "held", expires)
    # The number, country, issue date and notes are ciphertext under the case key.
    for field in ("number", "country", "issued_on", "notes"):
        assert b"B1234567" not in bytes(getattr(document, field))
    page = ana.get(_url(case)).content.decode()
    assert "B1234567" in page and "Kept by a friend in Kampala" in page and "Uganda" in page
    entry = AuditEntry.objects.get(action="planning.document.added")
    assert entry.details == {"case": str(case.pk), "kind": "passport", "status": "held"}
    assert AuditEntry.objects.filter(action="planning.case.read", object_id=case.pk).exists()


def test_expiry_warnings_name_expired_and_short_validity(ana: Client, case: Case) -> None:
    today = timezone.localdate()
    _document(ana, case, expires_on=(today - timedelta(days=3)).isoformat())
    _document(ana, case, kind="national_id", expires_on=(today + timedelta(days=40)).isoformat())
    page = ana.get(_url(case)).content.decode()
    assert "Expired on" in page
    assert "in 40 days: many countries ask for six months of validity" in page
    # The case page counts them without opening anything.
    assert (
        "2 documents expire soon or have expired."
        in ana.get(f"/staff/cases/{case.pk}/").content.decode()
    )


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"country": ""}, "country", "Say which country issued it"),
        ({"issued_on": "2999-01-01"}, "issued_on", "cannot be in the future"),
        (
            {"issued_on": "2020-01-01", "expires_on": "2019-01-01"},
            "expires_on",
            "A document expires after it was issued.",
        ),
        ({"weeks_to_obtain": "6"}, "weeks_to_obtain", "holds it already"),
        ({"expires_on": "31/12/2030"}, "expires_on", "Enter a valid date."),
    ],
)
def test_bad_document_input_is_refused_keeping_what_was_typed(
    ana: Client, case: Case, values: dict[str, str], field: str, message: str
) -> None:
    sent = _document(ana, case, number="TYPED-NUMBER-77", **values)
    assert sent.status_code == 400
    text = sent.content.decode()
    assert message in text and "TYPED-NUMBER-77" in text
    assert not TravelDocument.objects.exists()


def test_an_unverified_case_takes_no_travel_details(
    client: Client, intake_team: Team, caseworkers: Team
) -> None:
    case = in_verification(intake_team, caseworkers)
    Case.objects.filter(pk=case.pk).update(assigned_to=member(caseworkers))
    unlocked(client, member(caseworkers))
    sent = _document(client, case, number="KEEP-ME-42")
    assert sent.status_code == 400
    text = sent.content.decode()
    assert "This case is not verified" in text and "KEEP-ME-42" in text
    assert not TravelDocument.objects.exists()


def test_a_document_changed_from_a_stale_page_is_refused(ana: Client, case: Case) -> None:
    _document(ana, case, number="FIRST")
    document = TravelDocument.objects.get()
    url = f"/staff/planning/documents/{document.pk}/"
    page = ana.get(url).content.decode()
    assert "FIRST" in page
    data = {"kind": "passport", "status": "held", "country": "UG", "version": 1}
    assert ana.post(url, {**data, "number": "SECOND"}).status_code == 302
    stale = ana.post(url, {**data, "number": "THIRD"})
    assert stale.status_code == 400 and "Someone else changed this" in stale.content.decode()
    document.refresh_from_db()
    key = _case_key(case)
    assert decrypt_value(key, document, "number") == "SECOND" and document.version == 2
    removed = ana.post(f"{url}remove/", {"version": 2})
    assert removed.status_code == 302 and not TravelDocument.objects.exists()
    assert AuditEntry.objects.filter(action="planning.document.removed").count() == 1


def _case_key(case: Case) -> bytes:
    from conftest import PASSWORD
    from waystation.vault import services as vault

    keys = vault.unlock_with_password(case.assigned_to, PASSWORD)
    return vault.open_keyring(case.keyring, keys)


def test_without_unlocked_keys_nothing_is_written(client: Client, case: Case) -> None:
    sign_in(client, case.assigned_to)
    sent = _document(client, case, number="LOCKED-OUT")
    assert sent.status_code == 400 and "Unlock your keys first" in sent.content.decode()
    assert not TravelDocument.objects.exists()


# --- Nationalities and pathway ---------------------------------------------------------------


def test_nationalities_are_sealed_on_the_plan(ana: Client, case: Case) -> None:
    sent = ana.post(_url(case, "nationalities/"), {"countries": ["UG", "KE"]})
    assert sent.status_code == 302
    plan = Plan.objects.get(case=case)
    assert decrypt_value(_case_key(case), plan, "nationalities") == ["KE", "UG"]
    assert b"UG" not in bytes(plan.nationalities)
    stale = ana.post(_url(case, "nationalities/"), {"countries": ["UG"], "version": 1})
    assert stale.status_code == 400


def test_a_pathway_starts_its_milestones_from_the_template_and_moves_the_case(
    ana: Client, case: Case
) -> None:
    steps = list(TemplateStep.objects.filter(pathway=Pathway.INLAND_ASYLUM))
    assert steps, "the seed gives every pathway a template"
    sent = ana.post(_url(case, "pathway/"), {"pathway": "inland_asylum", "destination": "CA"})
    assert sent.status_code == 302
    case.refresh_from_db()
    assert case.state == State.PLANNING
    plan = Plan.objects.get(case=case)
    assert plan.pathway == "inland_asylum" and plan.started_on == timezone.localdate()
    key = _case_key(case)
    assert decrypt_value(key, plan, "destination") == "CA"
    milestones = list(plan.milestones.order_by("position"))
    assert [(m.owner, m.due_on) for m in milestones] == [
        (s.owner, timezone.localdate() + timedelta(days=s.days)) for s in steps
    ]
    assert [decrypt_value(key, m, "title") for m in milestones] == [s.title for s in steps]
    assert {m.assignee_id for m in milestones} == {case.assigned_to_id}
    entry = AuditEntry.objects.get(action="planning.plan.pathway_chosen")
    assert entry.details["milestones"] == len(steps)
    # Another pathway: the open milestones of the first are kept, as not needed.
    ana.post(_url(case, "pathway/"), {"pathway": "private_sponsorship", "version": 2})
    assert plan.milestones.filter(state=Milestone.State.SKIPPED).count() == len(steps)
    assert (
        plan.milestones.filter(state=Milestone.State.TODO).count()
        == TemplateStep.objects.filter(pathway="private_sponsorship").count()
    )


def test_a_pathway_needs_a_choice(ana: Client, case: Case) -> None:
    sent = ana.post(_url(case, "pathway/"), {"pathway": "", "destination": "CA"})
    assert sent.status_code == 400 and "Choose a pathway." in sent.content.decode()


# --- Milestones ------------------------------------------------------------------------------


def test_milestones_are_added_updated_and_refused_when_stale(ana: Client, case: Case) -> None:
    due = timezone.localdate() + timedelta(days=5)
    sent = ana.post(
        _url(case, "milestones/"),
        {"title": "Call the embassy in Nairobi", "owner": "caseworker", "due_on": due.isoformat()},
    )
    assert sent.status_code == 302
    milestone = Milestone.objects.get()
    assert milestone.assignee == case.assigned_to and b"Nairobi" not in bytes(milestone.title)
    url = f"/staff/planning/milestones/{milestone.pk}/"
    prefix = f"m-{milestone.pk}"
    done = ana.post(
        url, {f"{prefix}-state": "done", f"{prefix}-due_on": "", f"{prefix}-version": 1}
    )
    assert done.status_code == 302
    milestone.refresh_from_db()
    assert milestone.state == "done" and milestone.done_at is not None and milestone.due_on is None
    stale = ana.post(url, {f"{prefix}-state": "todo", f"{prefix}-version": 1})
    assert stale.status_code == 400 and "Someone else changed this" in stale.content.decode()


def test_milestones_go_only_to_someone_who_works_on_the_case(ana: Client, case: Case) -> None:
    stranger = make_user(Role.CASEWORKER)
    sent = ana.post(
        _url(case, "milestones/"),
        {"title": "Book the flight", "owner": "caseworker", "assignee": stranger.pk},
    )
    assert sent.status_code == 400
    assert "Give milestones to someone who works on this case." in sent.content.decode()


def test_my_tasks_lists_own_milestones_and_the_persons_overdue_steps(
    ana: Client, case: Case
) -> None:
    today = timezone.localdate()
    for title, owner, due in (
        ("Ask the lawyer for a date", "caseworker", today + timedelta(days=2)),
        ("Fetch the birth certificate", "person", today - timedelta(days=1)),
        ("Renew the passport", "person", today + timedelta(days=9)),
    ):
        ana.post(
            _url(case, "milestones/"), {"title": title, "owner": owner, "due_on": due.isoformat()}
        )
    page = ana.get("/staff/cases/tasks/").content.decode()
    assert "Ask the lawyer for a date" in page and "Plan milestone" in page
    # The person's step shows once it is overdue, to follow up with them.
    assert "Fetch the birth certificate" in page and "overdue" in page
    assert "Renew the passport" not in page
    overdue = Milestone.objects.get(owner=Owner.PERSON, due_on__lt=today)
    done = ana.post(f"/staff/planning/milestones/{overdue.pk}/done/", {"back": "mine"})
    assert done.status_code == 302 and done["Location"] == "/staff/cases/tasks/"
    assert "Fetch the birth certificate" not in ana.get("/staff/cases/tasks/").content.decode()


def test_the_digest_counts_milestones_due(ana: Client, case: Case, settings) -> None:  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    ana.post(
        _url(case, "milestones/"),
        {"title": "Today", "owner": "caseworker", "due_on": timezone.localdate().isoformat()},
    )
    assert cases.attention_counts(case.assigned_to)[1] == 1
    cases.send_digests()
    sent = [m for m in mail.outbox if case.assigned_to.email in m.to]
    assert sent and "Your tasks due: 1" in sent[0].body and "Today" not in sent[0].body


# --- Who reaches it --------------------------------------------------------------------------


def test_outsiders_get_404(client: Client, case: Case) -> None:
    ana_document = TravelDocument.objects.create(
        case=case, keyring_id=case.keyring_id, kind="passport", status="held"
    )
    for role in (Role.CASEWORKER, Role.INTAKE_VOLUNTEER, Role.COORDINATOR, Role.VERIFIER, None):
        sign_in(client, make_user(role))
        for url in (
            _url(case),
            _url(case, "options/"),
            _url(case, "dossier/"),
            f"/staff/planning/documents/{ana_document.pk}/",
        ):
            assert client.get(url).status_code == 404, (role, url)
        assert _document(client, case).status_code == 404
    other = make_case(state="verified")
    sign_in(client, case.assigned_to)
    assert client.get(_url(other)).status_code == 404


# --- Templates -------------------------------------------------------------------------------


def test_coordinators_change_a_template_and_new_plans_follow_it(
    client: Client, ana: Client, case: Case
) -> None:
    coordinator = make_user(Role.COORDINATOR)
    coordinators = sign_in(Client(), coordinator)
    steps = list(TemplateStep.objects.filter(pathway="work"))
    data: dict[str, object] = {
        "step-TOTAL_FORMS": len(steps) + 1,
        "step-INITIAL_FORMS": len(steps),
        "step-MIN_NUM_FORMS": 0,
        "step-MAX_NUM_FORMS": 40,
    }
    for index, step in enumerate(steps):
        data.update(
            {
                f"step-{index}-id": step.pk,
                f"step-{index}-title": step.title,
                f"step-{index}-owner": step.owner,
                f"step-{index}-days": step.days,
            }
        )
    data[f"step-{0}-DELETE"] = "on"
    data[f"step-{1}-title"] = "Get the job offer in writing"
    new = len(steps)
    data.update(
        {
            f"step-{new}-title": "Open a bank account",
            f"step-{new}-owner": "person",
            f"step-{new}-days": 3,
        }
    )
    saved = coordinators.post("/staff/planning/templates/work/", data)
    assert saved.status_code == 302, saved.content.decode()[:3000]
    titles = list(TemplateStep.objects.filter(pathway="work").values_list("title", "days"))
    assert ("Open a bank account", 3) in titles and len(titles) == len(steps)
    assert ("Get the job offer in writing", steps[1].days) in titles
    assert AuditEntry.objects.get(action="planning.template.changed").details == {
        "pathway": "work",
        "steps": len(steps),
    }
    ana.post(_url(case, "pathway/"), {"pathway": "work"})
    key = _case_key(case)
    assert "Open a bank account" in [
        decrypt_value(key, m, "title") for m in Milestone.objects.filter(case=case)
    ]
    bad = coordinators.post("/staff/planning/templates/work/", {**data, f"step-{new}-days": "-4"})
    assert bad.status_code == 400
    assert client.get("/staff/planning/templates/nothing/").status_code in (302, 404)
    sign_in(client, case.assigned_to)
    assert client.get("/staff/planning/templates/").status_code == 404
    assert coordinators.get("/staff/planning/templates/nothing/").status_code == 404


@pytest.mark.parametrize("language", ["en", "es", "fr", "ar", "fa", "ru", "pt", "tr", "sw", "uk"])
def test_the_plan_pages_speak_every_site_language(ana: Client, case: Case, language: str) -> None:
    today = timezone.localdate()
    _document(ana, case, expires_on=(today + timedelta(days=30)).isoformat())
    ana.post(_url(case, "pathway/"), {"pathway": "refugee_referral"})
    ana.cookies["lang"] = language
    for url in (_url(case), _url(case, "options/"), _url(case, "dossier/")):
        page = ana.get(url)
        assert page.status_code == 200
        assert f'lang="{language}"' in page.content.decode()
    case_page = ana.get(f"/staff/cases/{case.pk}/").content.decode()
    assert "/staff/planning/cases/" in case_page
    tasks = ana.get("/staff/cases/tasks/")
    assert tasks.status_code == 200

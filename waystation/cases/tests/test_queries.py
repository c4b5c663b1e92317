"""The staff lists and pages of cases cost the same number of queries however many rows
they show: each is measured with a few rows, then with many more."""

import io
import itertools
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from PIL import Image
from pytest_django.fixtures import DjangoAssertNumQueries

from conftest import PASSWORD, make_user, same_cost, sign_in
from waystation.accounts.models import Role, Team, User
from waystation.cases import services
from waystation.cases.models import Case, CrisisResponse, ReplyTemplate
from waystation.intake import services as intake
from waystation.vault import services as vault

from .conftest import ask, send_file
from .factories import make_case

pytestmark = pytest.mark.django_db


def _unlocked(client: Client, user: User) -> Client:
    sign_in(client, user)
    client.post("/staff/unlock/", {"password": PASSWORD})
    return client


def _coordinator(client: Client) -> User:
    coordinator = make_user(Role.COORDINATOR)
    sign_in(client, coordinator)
    return coordinator


def _response(by: User, name: str = "Kabul evacuation") -> CrisisResponse:
    return services.create_crisis_response(
        name=name,
        countries=["AF"],
        starts_on=timezone.localdate() - timedelta(days=10),
        ends_on=None,
        reply_template_name="",
        by=by,
    )


def _png(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (10, 10), colour).save(out, format="PNG")
    return out.getvalue()


def test_my_tasks_cost_the_same_for_many_tasks_on_many_cases(
    client: Client, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    volunteer = make_user(Role.INTAKE_VOLUNTEER, keys=True)
    vault.ensure_team_key(Team.objects.get(memberships__user=volunteer))
    keys = vault.unlock_with_password(volunteer, PASSWORD)
    _unlocked(client, volunteer)

    def add_tasks(count: int) -> None:
        for number in range(count):
            case = ask().case  # type: ignore[attr-defined]
            services.add_task(
                case,
                f"Call back {number}",
                owner=volunteer,
                due_on=timezone.localdate() + timedelta(days=number - 1),
                by=volunteer,
                keyring_key=vault.open_keyring(case.keyring, keys),
            )

    page = same_cost(client, "/staff/cases/tasks/", add_tasks, django_assert_max_num_queries)
    assert page.count("Call back") == 12


def test_the_break_glass_review_costs_the_same_for_many_openings(
    client: Client, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    coordinator = _coordinator(client)

    def add_openings(count: int) -> None:
        for number in range(count):
            opened = services.break_glass(
                make_case(state="triaged"), by=make_user(Role.CASEWORKER), reason="covering"
            )
            if number % 2:
                services.review_break_glass(opened, by=coordinator)

    page = same_cost(
        client, "/staff/cases/break-glass/", add_openings, django_assert_max_num_queries
    )
    assert page.count("Caseworker</td>") == 12


def test_the_crisis_responses_cost_the_same_for_many_responses(
    client: Client, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    coordinator = _coordinator(client)

    def add_responses(count: int) -> None:
        for _ in range(count):
            _response(coordinator, name=f"Response {CrisisResponse.objects.count()}")

    page = same_cost(client, "/staff/cases/crises/", add_responses, django_assert_max_num_queries)
    assert page.count(">Response ") == 12


def test_the_reply_templates_cost_the_same_for_many_templates(
    client: Client, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    coordinator = _coordinator(client)

    def add_templates(count: int) -> None:
        for _ in range(count):
            number = ReplyTemplate.objects.count()
            services.save_reply_template(
                ReplyTemplate(
                    name=f"Template {number}",
                    language=["en", "fr", "ar"][number % 3],
                    text="We have your message.",
                    neutral=bool(number % 2),
                ),
                by=coordinator,
            )

    page = same_cost(
        client, "/staff/cases/reply-templates/", add_templates, django_assert_max_num_queries
    )
    assert page.count(">Template ") == 12


def test_the_surge_page_costs_the_same_for_many_cases_questions_and_accounts(
    client: Client, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    coordinator = _coordinator(client)
    response = _response(coordinator)

    def add_rows(count: int) -> None:
        for _ in range(count):
            number = response.questions.count()
            make_case(
                country="AF", crisis=response, received_at=timezone.now() - timedelta(days=number)
            )
            services.add_crisis_question(response, {"en": f"Question {number}?"}, by=coordinator)
            services.create_surge_account(
                response,
                email=f"surge-{number}@example.org",
                display_name=f"Surge {number}",
                expires_on=timezone.localdate() + timedelta(days=30),
                by=coordinator,
            )

    # A response asks at most ten questions.
    page = same_cost(
        client,
        f"/staff/cases/crises/{response.pk}/",
        add_rows,
        django_assert_max_num_queries,
        many=10,
    )
    assert page.count("@example.org</td>") == 10 and page.count("<li>Question ") == 10


def test_the_crisis_questions_cost_the_same_for_many_questions(
    client: Client, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    coordinator = _coordinator(client)
    response = _response(coordinator)

    def add_questions(count: int) -> None:
        for _ in range(count):
            number = response.questions.count()
            services.add_crisis_question(
                response,
                {"en": f"Question {number}?", "fr": f"Question {number} ?"},
                by=coordinator,
            )

    # A response asks at most ten questions.
    page = same_cost(
        client,
        f"/staff/cases/crises/{response.pk}/questions/",
        add_questions,
        django_assert_max_num_queries,
        many=10,
    )
    assert page.count("<p>Question ") == 10


@pytest.mark.usefixtures("vault_storage")
def test_the_case_page_costs_the_same_for_many_notes_tasks_messages_and_files(
    client: Client, intake_team: Team, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    request = ask(name="Ada Okafor")
    case: Case = request.case  # type: ignore[attr-defined]
    volunteer = intake_team.memberships.get().user
    key = vault.open_keyring(case.keyring, vault.unlock_with_password(volunteer, PASSWORD))
    _unlocked(client, volunteer)
    numbers = itertools.count()
    colours = itertools.cycle(["red", "green", "blue", "white", "black", "yellow"])

    def add_work(count: int) -> None:
        for number in itertools.islice(numbers, count):
            services.add_note(case, f"Note {number} here", by=volunteer, keyring_key=key)
            services.add_task(
                case,
                f"Task {number} here",
                owner=volunteer,
                due_on=timezone.localdate() + timedelta(days=number),
                by=volunteer,
                keyring_key=key,
            )
            services.reply_to_person(case, f"Answer {number} here", by=volunteer)
            intake.person_reply(request, f"Reply {number} here")  # type: ignore[arg-type]
            send_file(request, _png(next(colours)), name=f"IMG_{number}.png")

    # The case page reads a great deal (thread, files, notes, tasks, duplicates, signals,
    # attestations): its ceiling is higher, and still it must not grow.
    page = same_cost(
        client, f"/staff/cases/{case.pk}/", add_work, django_assert_max_num_queries, ceiling=45
    )
    for number in range(12):
        for text in ("Note", "Task", "Answer", "Reply"):
            assert f"{text} {number} here" in page
    assert page.count(f"/staff/cases/{case.pk}/evidence/") == 12
    # The timeline: an event for each note, task and answer.
    assert page.count(f"· {volunteer.display_name}</li>") == 36

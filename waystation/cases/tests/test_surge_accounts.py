"""Surge volunteer accounts: made by coordinators for one crisis response, ending on a date,
seeing only that response's new requests, reading them with their team's key."""

import re
from datetime import date, datetime, time, timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import PASSWORD, make_user, sign_in
from waystation.accounts.access import pending_agreements
from waystation.accounts.models import Role, Team, User
from waystation.accounts.services import accept_agreements
from waystation.audit.models import AuditEntry
from waystation.cases import services
from waystation.cases.models import BreakGlass, Case, CrisisResponse
from waystation.vault import services as vault
from waystation.vault.models import KeyringGrant, TeamKeyCopy

from .conftest import ask
from .factories import make_case

pytestmark = pytest.mark.django_db


def _response(
    name: str = "Kabul evacuation", countries: tuple[str, ...] = ("AF",)
) -> CrisisResponse:
    return services.create_crisis_response(
        name=name,
        countries=list(countries),
        starts_on=timezone.localdate() - timedelta(days=10),
        ends_on=None,
        reply_template_name="",
        by=make_user(Role.COORDINATOR),
    )


def _in_days(days: int) -> date:
    return timezone.localdate() + timedelta(days=days)


def _volunteer(response: CrisisResponse, email: str = "surge@example.org") -> User:
    """A surge account as a coordinator makes it, after its first sign-in: own password,
    an authenticator, and keys (which make the surge team's key)."""
    user, _password = services.create_surge_account(
        response,
        email=email,
        display_name="Amal",
        expires_on=_in_days(30),
        by=make_user(Role.COORDINATOR),
    )
    user.set_password(PASSWORD)
    user.must_change_password = False
    user.save()
    TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    accept_agreements(user, pending_agreements(user))
    vault.create_user_key(user, PASSWORD)
    return user


def _new_account_url(response: CrisisResponse) -> str:
    return f"/staff/cases/crises/{response.pk}/surge-accounts/new/"


def _references(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [case.reference for case in page.context["page"].cases]


def test_coordinator_creates_surge_accounts_in_the_responses_team(
    coordinator_client: Client,
) -> None:
    response = _response()
    page = coordinator_client.get(_new_account_url(response))
    assert page.status_code == 200 and "90 days" in page.content.decode()
    created = coordinator_client.post(
        _new_account_url(response),
        {"email": "Amal.Surge@Example.org", "display_name": "Amal", "expires_on": _in_days(30)},
    )
    assert created.status_code == 200
    password = re.search(r'<p class="secret">([^<]+)</p>', created.content.decode()).group(1)  # type: ignore[union-attr]
    person = User.objects.get(email="amal.surge@example.org")
    response.refresh_from_db()
    team = response.surge_team
    assert team is not None and team.role == Role.SURGE_VOLUNTEER
    assert person.roles == {Role.SURGE_VOLUNTEER} and person.check_password(password)
    assert person.must_change_password
    assert person.expires_at == timezone.make_aware(datetime.combine(_in_days(30), time.min))
    coordinator_client.post(
        _new_account_url(response),
        {"email": "second@example.org", "display_name": "Ben", "expires_on": _in_days(5)},
    )
    assert Team.objects.filter(role=Role.SURGE_VOLUNTEER).count() == 1
    assert User.objects.get(email="second@example.org").roles == {Role.SURGE_VOLUNTEER}
    actions = list(AuditEntry.objects.values_list("action", flat=True))
    assert actions.count("cases.crisis.surge_team_created") == 1
    assert actions.count("cases.crisis.surge_account_created") == 2
    assert actions.count("accounts.user.created") >= 2
    # Like every new account: own password and a second factor first.
    newcomer = Client()
    newcomer.post("/staff/sign-in/", {"email": person.email, "password": password})
    assert newcomer.get("/staff/")["Location"].startswith("/staff/account/second-factor/")


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ({"expires_on": "today"}, "Enter a valid date."),
        ({"expires_on": "TODAY"}, "Choose a day after today."),
        ({"expires_on": "PAST"}, "Choose a day after today."),
        ({"expires_on": "FAR"}, "Choose a day at most 90 days from today"),
        ({"email": "taken@example.org"}, "An account with this e-mail already exists."),
        ({"email": "not an address"}, "Enter a valid email address."),
    ],
)
def test_bad_input_is_refused_and_typed_values_kept(
    coordinator_client: Client, typed: dict[str, str], message: str
) -> None:
    make_user(Role.HOST, email="taken@example.org")
    response = _response()
    days = {"TODAY": 0, "PAST": -3, "FAR": 91}
    data = {"email": "new@example.org", "display_name": "Kept name", "expires_on": _in_days(10)}
    data.update(typed)
    if data["expires_on"] in days:
        data["expires_on"] = _in_days(days[str(data["expires_on"])])
    refused = coordinator_client.post(_new_account_url(response), data)
    content = refused.content.decode()
    assert refused.status_code == 400 and message in content
    assert 'value="Kept name"' in content and f'value="{data["expires_on"]}"' in content
    response.refresh_from_db()
    assert response.surge_team is None and not User.objects.filter(expires_at__isnull=False)


def test_the_longest_account_follows_the_setting(coordinator_client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CASES_SURGE_ACCOUNT_MAX_DAYS = 10
    response = _response()
    data = {"email": "a@example.org", "display_name": "A", "expires_on": _in_days(11)}
    refused = coordinator_client.post(_new_account_url(response), data)
    assert "at most 10 days" in refused.content.decode()
    accepted = coordinator_client.post(
        _new_account_url(response), {**data, "expires_on": _in_days(10)}
    )
    assert accepted.status_code == 200 and User.objects.filter(email="a@example.org").exists()


def test_only_coordinators_add_and_end_surge_accounts(client: Client) -> None:
    response = _response()
    volunteer = _volunteer(response)
    for role in (Role.INTAKE_VOLUNTEER, Role.CASEWORKER, Role.SURGE_VOLUNTEER, None):
        sign_in(client, make_user(role))
        assert client.get(_new_account_url(response)).status_code == 404
        assert (
            client.post(_new_account_url(response), {"email": "x@example.org"}).status_code == 404
        )
        assert client.post(f"/staff/cases/surge-accounts/{volunteer.pk}/end/").status_code == 404
    sign_in(client, volunteer)
    assert client.get(_new_account_url(response)).status_code == 404
    volunteer.refresh_from_db()
    assert not volunteer.has_expired()
    assert not User.objects.filter(email="x@example.org").exists()


def test_only_surge_accounts_are_ended_from_here(coordinator_client: Client) -> None:
    caseworker = make_user(Role.CASEWORKER)
    assert (
        coordinator_client.post(f"/staff/cases/surge-accounts/{caseworker.pk}/end/").status_code
        == 404
    )
    caseworker.refresh_from_db()
    assert caseworker.expires_at is None


def test_the_response_page_lists_its_surge_accounts_for_coordinators(client: Client) -> None:
    response = _response()
    _volunteer(response)
    sign_in(client, make_user(Role.COORDINATOR))
    page = client.get(f"/staff/cases/crises/{response.pk}/").content.decode()
    assert "surge@example.org" in page and _in_days(30).isoformat() in page
    assert f"/staff/cases/crises/{response.pk}/surge-accounts/new/" in page
    sign_in(client, make_user(Role.INTAKE_VOLUNTEER))
    page = client.get(f"/staff/cases/crises/{response.pk}/").content.decode()
    assert "surge@example.org" not in page and f"/staff/cases/crises/{response.pk}/share/" in page


def test_surge_volunteer_sees_only_their_responses_new_cases(client: Client) -> None:
    response, other = _response(), _response("Kyiv", ("UA",))
    volunteer = _volunteer(response)
    _volunteer(other, email="other-surge@example.org")
    ours = make_case(country="AF")  # tagged as it arrives
    hidden = [
        make_case(country="AF", state="triaged"),
        make_case(country="UA"),
        make_case(country="NG"),
        make_case(country="NG", state="triaged", assigned_to=volunteer),
    ]
    assert ours.crisis == response and hidden[1].crisis == other
    sign_in(client, volunteer)
    queue = client.get("/staff/cases/")
    assert _references(queue) == [ours.reference]
    assert list(queue.context["form"].fields["crisis"].queryset) == [response]
    assert _references(client.get("/staff/cases/", {"crisis": other.pk})) == [ours.reference]
    assert _references(client.get("/staff/cases/", {"state": ""})) == [ours.reference]
    assert client.get(f"/staff/cases/{ours.pk}/").status_code == 200
    for case in hidden:
        assert client.get(f"/staff/cases/{case.pk}/").status_code == 404
        assert client.post(f"/staff/cases/{case.pk}/notes/", {"text": "x"}).status_code == 404
    assert client.get("/staff/").status_code == 200
    assert b'href="/staff/cases/"' in client.get("/staff/").content
    for url in ("/staff/cases/crises/", f"/staff/cases/crises/{response.pk}/", "/staff/people/"):
        assert client.get(url).status_code == 404, url


def test_surge_volunteer_reads_the_requests_of_their_response(client: Client, intake_team) -> None:  # type: ignore[no-untyped-def]
    response = _response()
    volunteer = _volunteer(response)
    case = ask(country="AF", name="Ada Okafor").case
    elsewhere = ask(country="NG").case
    surge_key = vault.current_team_key(response.surge_team)  # type: ignore[arg-type]
    assert KeyringGrant.objects.filter(keyring_id=case.keyring_id, team_key=surge_key).exists()
    assert not KeyringGrant.objects.filter(keyring_id=elsewhere.keyring_id, team_key=surge_key)
    sign_in(client, volunteer)
    client.post("/staff/unlock/", {"password": PASSWORD})
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert "The police came to my house twice this month." in page and "Ada Okafor" in page
    assert AuditEntry.objects.filter(
        action="cases.case.read", object_id=case.pk, actor_id=volunteer.pk
    ).exists()
    assert client.get(f"/staff/cases/{elsewhere.pk}/").status_code == 404


def test_surge_volunteer_cannot_break_the_glass(client: Client) -> None:
    response = _response()
    volunteer = _volunteer(response)
    case = make_case(country="NG")
    sign_in(client, volunteer)
    url = f"/staff/cases/{case.pk}/break-glass/"
    assert client.get(url).status_code == 404
    assert client.post(url, {"reason": "urgent_danger"}).status_code == 404
    assert not BreakGlass.objects.exists()
    assert client.get(f"/staff/cases/{case.pk}/").status_code == 404


def test_surge_volunteer_triages_their_queue(client: Client) -> None:
    response = _response()
    volunteer = _volunteer(response)
    first, second = make_case(country="AF"), make_case(country="AF")
    sign_in(client, volunteer)
    moved = client.post(f"/staff/cases/{first.pk}/move/", {"target": "triaged", "version": 1})
    assert moved["Location"] == "/staff/cases/"  # it left their queue
    first.refresh_from_db()
    assert first.state == "triaged"
    assert client.get(f"/staff/cases/{first.pk}/").status_code == 404
    client.post("/staff/cases/bulk/", {"chosen": [f"{second.pk}:1"], "action": "triage"})
    second.refresh_from_db()
    assert second.state == "triaged"
    assert AuditEntry.objects.filter(action="cases.case.moved", actor_id=volunteer.pk).count() == 2


def test_requests_from_before_the_surge_key_are_shared_by_an_intake_volunteer(
    client: Client,
    intake_team,  # type: ignore[no-untyped-def]
) -> None:
    response = _response()
    early = ask(country="AF").case
    volunteer = _volunteer(response)
    reader = sign_in(Client(), volunteer)
    reader.post("/staff/unlock/", {"password": PASSWORD})
    assert (
        "Your keys do not open this case."
        in reader.get(f"/staff/cases/{early.pk}/").content.decode()
    )
    intake = User.objects.get(email="in@example.org")
    sign_in(client, intake)
    share = f"/staff/cases/crises/{response.pk}/share/"
    locked = client.post(share, follow=True).content.decode()
    assert "Unlock your keys first" in locked
    client.post("/staff/unlock/", {"password": PASSWORD})
    shared = client.post(share, follow=True).content.decode()
    assert "1 request shared with the surge volunteers." in shared
    assert "police came" in reader.get(f"/staff/cases/{early.pk}/").content.decode()
    entry = AuditEntry.objects.get(action="cases.crisis.shared_with_surge_team")
    assert entry.details == {"cases": 1} and entry.actor_id == intake.pk
    assert "0 requests shared" in client.post(share, follow=True).content.decode()


def test_sharing_waits_for_a_surge_volunteer_with_keys(client: Client, intake_team) -> None:  # type: ignore[no-untyped-def]
    response = _response()
    ask(country="AF")
    sign_in(client, User.objects.get(email="in@example.org"))
    client.post("/staff/unlock/", {"password": PASSWORD})
    page = client.post(f"/staff/cases/crises/{response.pk}/share/", follow=True)
    assert "No surge volunteer of this response has keys yet" in page.content.decode()
    assert not KeyringGrant.objects.filter(team_key__team__role=Role.SURGE_VOLUNTEER).exists()


def test_ending_an_account_early_signs_it_out_and_takes_its_keys(
    coordinator_client: Client,
    coordinator: User,
    intake_team,  # type: ignore[no-untyped-def]
) -> None:
    response = _response()
    volunteer = _volunteer(response)
    session = sign_in(Client(), volunteer)
    assert session.get("/staff/cases/").status_code == 200
    ended = coordinator_client.post(f"/staff/cases/surge-accounts/{volunteer.pk}/end/")
    assert ended["Location"] == f"/staff/cases/crises/{response.pk}/"
    volunteer.refresh_from_db()
    assert volunteer.has_expired()
    assert session.get("/staff/cases/")["Location"].startswith("/staff/sign-in/")
    assert not TeamKeyCopy.objects.filter(user=volunteer).exists()
    assert AuditEntry.objects.filter(
        action="accounts.user.ended", object_id=volunteer.pk, actor_id=coordinator.pk
    ).exists()
    # Nobody holds the rotated key: new requests are sealed to the intake team only.
    later = ask(country="AF").case
    assert not KeyringGrant.objects.filter(
        keyring_id=later.keyring_id, team_key__team=response.surge_team
    ).exists()
    page = coordinator_client.get(f"/staff/cases/crises/{response.pk}/").content.decode()
    assert "expired" in page and f"/surge-accounts/{volunteer.pk}/end/" not in page


def test_the_queue_of_a_surge_volunteer_is_one_query_per_table(
    client: Client,
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    response = _response()
    sign_in(client, _volunteer(response))
    make_case(country="AF")
    client.get("/staff/cases/")
    with django_assert_max_num_queries(15) as few:  # three counts: risk, country, language
        client.get("/staff/cases/")
    for _ in range(15):
        make_case(country="AF")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(_references(client.get("/staff/cases/"))) == 16


def test_demo_has_a_surge_volunteer_on_a_demo_crisis_response(settings, capsys) -> None:  # type: ignore[no-untyped-def]
    settings.DEMO_MODE = True
    call_command("seed_demo")
    out = capsys.readouterr().out
    volunteer = User.objects.get(email="surge-volunteer@demo.example")
    response = CrisisResponse.objects.get(surge_team__memberships__user=volunteer)
    assert volunteer.expires_at is not None and not volunteer.has_expired()
    assert f"until {timezone.localtime(volunteer.expires_at):%Y-%m-%d}" in out
    assert response.name in out and "ready (10 new accounts)" in out
    call_command("seed_demo")
    assert CrisisResponse.objects.count() == 1
    assert Case.objects.count() == 0


def test_bulk_tagging_to_a_response_seals_the_cases_to_its_surge_team(  # type: ignore[no-untyped-def]
    client: Client, intake_team
) -> None:
    response = _response(countries=("UA",))
    surge = _volunteer(response)
    cases = [ask(country="NG").case, ask(country="GH").case]
    staff = intake_team.memberships.get().user
    surge_key = vault.current_team_key(response.surge_team)  # type: ignore[arg-type]
    ticked = {"chosen": [f"{c.pk}:{c.version}" for c in cases], "action": "crisis"}

    sign_in(client, staff)  # keys locked: surge volunteers could not read the cases
    refused = client.post("/staff/cases/bulk/", {**ticked, "crisis": response.pk}, follow=True)
    assert "Unlock your keys first" in refused.content.decode()
    assert not Case.objects.filter(crisis=response).exists()

    client.post("/staff/unlock/", {"password": PASSWORD})
    client.post("/staff/cases/bulk/", {**ticked, "crisis": response.pk})
    assert Case.objects.filter(crisis=response).count() == 2
    for case in cases:
        assert KeyringGrant.objects.filter(keyring_id=case.keyring_id, team_key=surge_key)
    assert AuditEntry.objects.filter(action="cases.case.crisis_tagged").count() == 2
    reader = Client()
    sign_in(reader, surge)
    assert reader.get(f"/staff/cases/{cases[0].pk}/").status_code == 200

    # Untagging takes them out of the surge queue (the tag, not the key, decides who sees).
    again = [f"{c.pk}:{c.version + 1}" for c in cases]
    client.post("/staff/cases/bulk/", {"chosen": again, "action": "crisis", "crisis": ""})
    assert not Case.objects.filter(crisis=response).exists()
    assert reader.get(f"/staff/cases/{cases[0].pk}/").status_code == 404


def test_a_surge_volunteer_tags_only_to_their_own_responses(client: Client) -> None:
    response, other = _response(), _response("Elsewhere", ("UA",))
    surge = _volunteer(response)
    case = make_case(country="AF", crisis=response)
    sign_in(client, surge)
    form = client.get("/staff/cases/").context["bulk_form"]
    assert list(form.fields["crisis"].queryset) == [response]
    refused = client.post(
        "/staff/cases/bulk/",
        {"chosen": [f"{case.pk}:{case.version}"], "action": "crisis", "crisis": other.pk},
        follow=True,
    )
    assert refused.status_code == 200
    case.refresh_from_db()
    assert case.crisis == response

"""The partner portal: a partner refers a person (stored and sealed as a public request),
sees its own referrals as received, in progress or closed, and nothing else."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from conftest import make_user, sign_in
from waystation.accounts.models import Role, Team
from waystation.audit.models import AuditEntry
from waystation.cases.models import Case, State
from waystation.intake import services as intake
from waystation.intake.models import HelpRequest
from waystation.partners import services
from waystation.partners.access import Progress, progress
from waystation.partners.models import PartnerAgreement, Referral
from waystation.vault.models import KeyringGrant

from .conftest import referral_data
from .factories import make_partner, make_partner_user, make_referral

pytestmark = pytest.mark.django_db

NARRATIVE = "The police came to her house twice this month."


def _nothing_stored() -> bool:
    return not (HelpRequest.objects.exists() or Referral.objects.exists())


def test_a_referral_is_stored_sealed_as_a_public_request_and_linked(
    client: Client, intake_team: Team
) -> None:
    partner = make_partner(countries=("NG", "GH"))
    person = make_partner_user(partner)
    sign_in(client, person)
    form = client.get("/partners/refer/").content.decode()
    assert "Ghana" in form and "Nigeria" in form and "Kenya" not in form
    response = client.post("/partners/refer/", referral_data())
    assert response.status_code == 200
    code = response.context["code"]
    page = response.content.decode()
    assert code in page and "shown only this once" in page
    referral = Referral.objects.get()
    request = referral.request
    assert referral.partner == partner and referral.referred_by == person
    assert referral.member_confirmed
    assert request.case.referred_by == partner and request.case.state == State.NEW
    # Sealed to the intake team, exactly as a public request; nothing readable stored.
    assert KeyringGrant.objects.filter(keyring=request.keyring, team_key__team=intake_team).exists()
    for field in ("narrative", "name", "contact"):
        stored = bytes(getattr(request, field))
        assert NARRATIVE.encode() not in stored and b"Ada Okafor" not in stored
    # The person follows up with the code the partner passes on.
    assert intake.find_by_code(code) == request
    sent = AuditEntry.objects.get(action="partners.referral.sent")
    assert sent.actor_id == person.pk and sent.object_id == referral.pk
    assert AuditEntry.objects.filter(action="intake.request.received", object_id=request.pk)
    for entry in AuditEntry.objects.all():
        assert "Ada" not in str(entry.details) and "police" not in str(entry.details)
    # The list shows the reference and a coarse state, nothing of what was written.
    listed = client.get("/partners/").content.decode()
    assert request.reference in listed and "Received" in listed
    assert "Ada Okafor" not in listed and "police" not in listed and code not in listed


def test_the_same_form_sent_twice_stores_one_referral_and_shows_the_same_code(
    client: Client,
    intake_team: Team,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    partner = make_partner()
    sign_in(client, make_partner_user(partner))
    data = referral_data()
    first = client.post("/partners/refer/", data)
    again = client.post("/partners/refer/", data)
    assert again.status_code == 200 and again.context["code"] == first.context["code"]
    assert Referral.objects.count() == 1
    monkeypatch.setattr("waystation.intake.services.REPLAY_WINDOW", timedelta(0))
    late = client.post("/partners/refer/", data)
    assert late.status_code == 409 and "already received" in late.content.decode()
    assert first.context["code"] not in late.content.decode()
    assert Referral.objects.count() == 1


def test_a_missing_or_expired_agreement_refuses_referrals_and_keeps_the_answers(
    client: Client, intake_team: Team
) -> None:
    partner = make_partner(agreement=False)
    today = timezone.localdate()
    PartnerAgreement.objects.create(
        partner=partner, version="1", signed_on=today - timedelta(days=365), expires_on=today
    )
    sign_in(client, make_partner_user(partner))
    blocked = client.get("/partners/refer/").content.decode()
    assert "no data-sharing agreement in force" in blocked and 'name="narrative"' not in blocked
    assert "no data-sharing agreement in force" in client.get("/partners/").content.decode()
    response = client.post("/partners/refer/", referral_data())
    page = response.content.decode()
    assert response.status_code == 400
    assert "no data-sharing agreement in force" in page and NARRATIVE in page
    assert _nothing_stored()
    with pytest.raises(services.PartnerRefusedError):
        services.refer_person(
            partner,
            intake.Answers(
                country="NG",
                region="Lagos",
                nationalities="",
                narrative=NARRATIVE,
                risk="now",
                organization="",
                documents=["none"],
            ),
            language="en",
            form_token="direct",
            member_confirmed=True,
            by=make_user(None),
        )
    assert _nothing_stored()


def test_a_country_outside_the_partners_scope_is_refused_and_keeps_the_answers(
    client: Client, intake_team: Team
) -> None:
    partner = make_partner(countries=("NG",))
    sign_in(client, make_partner_user(partner))
    written = AuditEntry.objects.count()
    response = client.post("/partners/refer/", referral_data(country="KE"))
    page = response.content.decode()
    assert response.status_code == 400
    assert "outside the countries your organization serves" in page
    assert NARRATIVE in page and "Ada Okafor" in page
    assert _nothing_stored()
    assert AuditEntry.objects.count() == written  # no entry: nothing happened to any case


def test_the_service_refuses_a_country_outside_the_scope_too(intake_team: Team) -> None:
    partner = make_partner(countries=("NG",))
    answers = intake.Answers(
        country="KE",
        region="Nairobi",
        nationalities="",
        narrative=NARRATIVE,
        risk="now",
        organization="",
        documents=["none"],
    )
    referrer = make_partner_user(partner)
    written = AuditEntry.objects.count()
    with pytest.raises(services.PartnerRefusedError, match="outside the countries"):
        services.refer_person(
            partner,
            answers,
            language="en",
            form_token="direct",
            member_confirmed=True,
            by=referrer,
        )
    assert _nothing_stored()
    assert AuditEntry.objects.count() == written


def test_membership_must_be_confirmed(client: Client, intake_team: Team) -> None:
    partner = make_partner()
    sign_in(client, make_partner_user(partner))
    data = referral_data()
    del data["member_confirmed"]
    response = client.post("/partners/refer/", data)
    assert response.status_code == 400
    assert "Confirm that the person is a member of the community" in response.content.decode()
    assert _nothing_stored()


def test_bad_input_gets_messages_and_keeps_what_was_typed(
    client: Client, intake_team: Team
) -> None:
    partner = make_partner()
    sign_in(client, make_partner_user(partner))
    response = client.post(
        "/partners/refer/",
        referral_data(country="", narrative="Too short", risk="", documents=[]),
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "Choose the country where the person is." in page
    assert "Tell us a little more about the danger the person faces." in page
    assert "Choose how soon the person is in danger." in page
    assert "Too short" in page and "Ada Okafor" in page
    assert _nothing_stored()


def test_when_no_intake_team_holds_keys_the_partner_is_asked_to_try_again(
    client: Client,
) -> None:
    partner = make_partner()
    sign_in(client, make_partner_user(partner))
    response = client.post("/partners/refer/", referral_data())
    assert response.status_code == 503
    assert "could not be received just now" in response.content.decode()
    assert NARRATIVE in response.content.decode()
    assert _nothing_stored()


def test_partner_a_never_sees_partner_bs_referrals(client: Client) -> None:
    mine, theirs = make_partner(), make_partner()
    own = make_referral(mine)
    foreign = make_referral(theirs)
    sign_in(client, make_partner_user(mine))
    listed = client.get("/partners/").content.decode()
    assert own.request.reference in listed and foreign.request.reference not in listed
    assert client.get(f"/partners/referrals/{own.pk}/").status_code == 200
    # Guessing: another partner's referral, its request or case id, and no such id.
    for guess in (foreign.pk, foreign.request_id, foreign.request.case.pk, own.request_id):
        assert client.get(f"/partners/referrals/{guess}/").status_code == 404
    assert client.get("/partners/referrals/not-a-uuid/").status_code == 404
    assert client.get(f"/staff/cases/{own.request.case.pk}/").status_code == 404
    assert client.get("/staff/cases/").status_code == 404


def test_only_accounts_of_one_partner_reach_the_portal(client: Client) -> None:
    partner = make_partner()
    referral = make_referral(partner)
    for role in (Role.CASEWORKER, Role.COORDINATOR, Role.INTAKE_VOLUNTEER, Role.PARTNER, None):
        # A partner-role account whose team is no partner's has no organization either.
        sign_in(client, make_user(role))
        for url in ("/partners/", "/partners/refer/", f"/partners/referrals/{referral.pk}/"):
            assert client.get(url).status_code == 404, (role, url)
    both = make_partner_user(partner)
    other = make_partner()
    make_partner_user(other).delete()
    other.team.memberships.create(user=both)  # type: ignore[union-attr]
    sign_in(client, both)
    assert client.get("/partners/").status_code == 404


@pytest.mark.parametrize(
    ("state", "shown"),
    [
        (State.NEW, "Received"),
        (State.TRIAGED, "In progress"),
        (State.IN_VERIFICATION, "In progress"),
        (State.ON_HOLD, "In progress"),
        (State.QUARANTINED, "In progress"),
        (State.TRAVELLING, "In progress"),
        (State.CLOSED, "Closed"),
        (State.DECLINED, "Closed"),
        (State.DUPLICATE, "Closed"),
    ],
)
def test_partners_see_a_coarse_state_only(client: Client, state: str, shown: str) -> None:
    partner = make_partner()
    referral = make_referral(partner, state=state, reason="suspected_entrapment")
    sign_in(client, make_partner_user(partner))
    for url in ("/partners/", f"/partners/referrals/{referral.pk}/"):
        page = client.get(url).content.decode()
        assert shown in page
        hidden = {State(s).label for s in State.values} - {"New", "Closed", "Referred elsewhere"}
        assert not [label for label in hidden if f">{label}<" in page], url
        assert "entrapment" not in page.lower()


def test_every_case_state_maps_to_one_of_three() -> None:
    assert {progress(state) for state in State.values} == set(Progress)
    assert progress(None) == Progress.RECEIVED


def test_a_compromised_partners_portal_shows_nothing(client: Client, intake_team: Team) -> None:
    partner = make_partner(compromised_at=timezone.now())
    referral = make_referral(partner)
    sign_in(client, make_partner_user(partner))
    listed = client.get("/partners/").content.decode()
    assert "Referrals from your organization are paused" in listed
    assert referral.request.reference not in listed
    assert client.get(f"/partners/referrals/{referral.pk}/").status_code == 404
    refused = client.post("/partners/refer/", referral_data())
    assert refused.status_code == 400 and "paused" in refused.content.decode()
    assert Referral.objects.count() == 1


def test_the_portal_stays_closed_until_every_sign_in_step_is_done(client: Client) -> None:
    partner = make_partner()
    no_factor = make_partner_user(partner, enrolled=False)
    client.force_login(no_factor)
    assert client.get("/partners/")["Location"].startswith("/staff/account/second-factor/")
    not_accepted = make_partner_user(partner, accepted=False)
    sign_in(client, not_accepted)
    assert client.get("/partners/refer/")["Location"].startswith("/staff/agreement/")
    assert Client().get("/partners/")["Location"].startswith("/staff/sign-in/")


def test_the_referral_list_stays_within_a_few_queries(
    client: Client,
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    partner = make_partner()
    for state in (State.NEW, State.TRIAGED, State.CLOSED) * 5:
        make_referral(partner, state=state)
    sign_in(client, make_partner_user(partner))
    with django_assert_max_num_queries(14):
        response = client.get("/partners/")
    assert len(response.context["referrals"].object_list) == 15
    assert Case.objects.filter(referred_by=partner).count() == 15

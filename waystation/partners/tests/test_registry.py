"""The partner registry on the staff site: coordinators keep it, caseworkers and verifiers
read it, the contact stays sealed, and bad input gets a clear message with what was typed."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from conftest import PASSWORD, make_user, sign_in
from waystation.accounts.access import SESSION_REAUTH_AT
from waystation.accounts.models import Role, Team, User
from waystation.audit.models import AuditEntry
from waystation.partners import services
from waystation.partners.models import Partner, PartnerAgreement
from waystation.vault import services as vault
from waystation.vault.fields import decrypt_value
from waystation.vault.models import Keyring, KeyringGrant

from .factories import make_partner, make_partner_user

pytestmark = pytest.mark.django_db

HANDLE = "@safe-contact-4471"


def _register(client: Client, **overrides: str):  # type: ignore[no-untyped-def]
    data = {
        "name": "Rainbow Lagos",
        "kind": "lgbtqi_org",
        "countries": "ng, GH",
        "trust": "2",
        "contact_channel": "signal",
        "contact_handle": HANDLE,
        **overrides,
    }
    return client.post("/staff/partners/new/", data)


def test_coordinator_registers_a_partner_with_its_contact_sealed(
    client: Client, keyed_coordinator: User
) -> None:
    caseworker = make_user(Role.CASEWORKER, keys=True)
    sign_in(client, keyed_coordinator)
    response = _register(client)
    partner = Partner.objects.get()
    assert response["Location"] == f"/staff/partners/{partner.pk}/"
    assert partner.countries == ["GH", "NG"] and partner.trust == 2
    assert HANDLE.encode() not in bytes(partner.contact)
    sealed_to = set(
        KeyringGrant.objects.filter(keyring=partner.keyring).values_list(
            "team_key__team__role", flat=True
        )
    )
    assert sealed_to == {Role.COORDINATOR, Role.CASEWORKER}
    created = AuditEntry.objects.get(action="partners.partner.created", object_id=partner.pk)
    assert created.actor_id == keyed_coordinator.pk and HANDLE not in str(created.details)
    # A caseworker of a team the contact is sealed to reads it, and the look is recorded.
    reader = sign_in(Client(), caseworker)
    assert "Unlock your keys" in reader.get(f"/staff/partners/{partner.pk}/").content.decode()
    reader.post("/staff/unlock/", {"password": PASSWORD})
    page = reader.get(f"/staff/partners/{partner.pk}/").content.decode()
    assert HANDLE in page and "Signal" in page
    assert AuditEntry.objects.filter(
        action="partners.partner.contact_read", object_id=partner.pk, actor_id=caseworker.pk
    ).exists()


def test_caseworkers_and_verifiers_read_the_registry_but_cannot_change_it(client: Client) -> None:
    partner = make_partner(name="Rainbow Accra")
    for role in (Role.CASEWORKER, Role.VERIFIER):
        reader = sign_in(Client(), make_user(role))
        assert "Rainbow Accra" in reader.get("/staff/partners/").content.decode()
        page = reader.get(f"/staff/partners/{partner.pk}/").content.decode()
        # Who the partner's people are is the coordinators' business only.
        assert "Rainbow Accra" in page and "The partner's accounts" not in page
        assert reader.get("/staff/partners/new/").status_code == 404
        assert reader.get(f"/staff/partners/{partner.pk}/edit/").status_code == 404
        for action in ("agreements", "compromised"):
            assert reader.post(f"/staff/partners/{partner.pk}/{action}/", {}).status_code == 404
        assert reader.get(f"/staff/partners/{partner.pk}/accounts/new/").status_code == 404


@pytest.mark.parametrize("role", [Role.INTAKE_VOLUNTEER, Role.PARTNER, Role.FINANCE, None])
def test_everyone_else_gets_404_on_the_registry(client: Client, role: str | None) -> None:
    partner = make_partner()
    sign_in(client, make_user(role))
    assert client.get("/staff/partners/").status_code == 404
    assert client.get(f"/staff/partners/{partner.pk}/").status_code == 404


def test_a_partner_account_gets_404_even_on_its_own_partner_page(client: Client) -> None:
    partner = make_partner()
    sign_in(client, make_partner_user(partner))
    assert client.get(f"/staff/partners/{partner.pk}/").status_code == 404


def test_bad_input_is_refused_clearly_and_keeps_what_was_typed(
    client: Client, keyed_coordinator: User
) -> None:
    make_partner(name="Rainbow Lagos")
    sign_in(client, keyed_coordinator)
    response = _register(client, name="Safe Harbour", countries="NG, XX, Narnia")
    page = response.content.decode()
    assert response.status_code == 400
    assert "Not a country code: XX, NARNIA" in page and "Safe Harbour" in page
    taken = _register(client, name="rainbow  lagos").content.decode()
    assert "A partner with this name is registered already." in taken
    half = _register(client, name="Safe Harbour", contact_handle="")
    assert "Give both the channel and the handle, or neither." in half.content.decode()
    nothing = _register(client, name="", countries="", contact_channel="", contact_handle="")
    assert nothing.status_code == 400
    assert Partner.objects.count() == 1


def test_registering_without_coordinator_keys_is_refused_and_records_nothing(
    client: Client,
) -> None:
    sign_in(client, make_user(Role.COORDINATOR))
    keyrings = Keyring.objects.count()
    response = _register(client)
    assert response.status_code == 400
    assert "No coordinator team holds encryption keys yet" in response.content.decode()
    assert "Rainbow Lagos" in response.content.decode()
    assert not Partner.objects.exists() and Keyring.objects.count() == keyrings


def test_editing_keeps_the_contact_unless_a_new_one_is_given(
    client: Client, keyed_coordinator: User
) -> None:
    sign_in(client, keyed_coordinator)
    _register(client)
    partner = Partner.objects.get()
    old_keyring = partner.keyring
    url = f"/staff/partners/{partner.pk}/edit/"
    assert "Rainbow Lagos" in client.get(url).content.decode()
    kept = {"name": "Rainbow Lagos", "kind": "shelter", "countries": "NG", "trust": "3"}
    assert client.post(url, kept).status_code == 302
    partner.refresh_from_db()
    assert partner.kind == "shelter" and partner.countries == ["NG"]
    assert partner.keyring_id == old_keyring.pk
    changed = AuditEntry.objects.filter(action="partners.partner.changed").latest("position")
    assert changed.details == {"fields": "kind,countries,trust"}
    new_contact = {**kept, "contact_channel": "email", "contact_handle": "new@example.org"}
    assert client.post(url, new_contact).status_code == 302
    partner.refresh_from_db()
    old_keyring.refresh_from_db()
    assert partner.keyring_id != old_keyring.pk and old_keyring.shredded_at is not None
    keys = vault.unlock_with_password(keyed_coordinator, PASSWORD)
    key = vault.open_keyring(partner.keyring, keys)
    assert decrypt_value(key, partner, "contact") == {
        "channel": "email",
        "handle": "new@example.org",
    }
    bad = client.post(url, {**kept, "countries": "ZZ"})
    assert bad.status_code == 400 and "Not a country code: ZZ" in bad.content.decode()


def test_agreements_are_recorded_and_their_expiry_shows(client: Client) -> None:
    partner = make_partner(agreement=False)
    coordinator = make_user(Role.COORDINATOR)
    sign_in(client, coordinator)
    url = f"/staff/partners/{partner.pk}/"
    assert "No agreement in force" in client.get(url).content.decode()
    assert "none signed" in client.get("/staff/partners/").content.decode()
    today = timezone.localdate()
    recorded = client.post(
        f"{url}agreements/",
        {
            "version": "2024-1",
            "signed_on": (today - timedelta(days=400)).isoformat(),
            "expires_on": (today - timedelta(days=35)).isoformat(),
        },
    )
    assert recorded.status_code == 302
    assert services.agreement_in_force(partner) is None
    assert "expired on" in client.get("/staff/partners/").content.decode()
    client.post(
        f"{url}agreements/",
        {
            "version": "2025-1",
            "signed_on": (today - timedelta(days=30)).isoformat(),
            "expires_on": (today + timedelta(days=335)).isoformat(),
        },
    )
    in_force = services.agreement_in_force(partner)
    assert in_force is not None and in_force.version == "2025-1"
    assert "in force until" in client.get(url).content.decode()
    entry = AuditEntry.objects.filter(action="partners.agreement.recorded").latest("position")
    assert entry.object_id == in_force.pk and entry.details["partner"] == str(partner.pk)


def test_an_agreement_no_longer_holds_on_its_expiry_date() -> None:
    partner = make_partner(agreement=False)
    today = timezone.localdate()
    PartnerAgreement.objects.create(
        partner=partner, version="1", signed_on=today - timedelta(days=10), expires_on=today
    )
    assert services.agreement_in_force(partner) is None
    assert services.agreement_in_force(partner, on=today - timedelta(days=1)) is not None
    assert services.agreement_in_force(partner, on=today - timedelta(days=11)) is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"signed_on": "2025-03-01", "expires_on": "2025-02-01"}, "must expire after the day"),
        ({"signed_on": "2999-01-01", "expires_on": "2999-06-01"}, "signing date is in the future"),
        ({"signed_on": "2025-02-30", "expires_on": "2026-01-01"}, "Enter a valid date"),
        ({"version": "1"}, "Version 1 is recorded already"),
    ],
)
def test_bad_agreements_are_refused_with_a_message(
    client: Client, fields: dict[str, str], message: str
) -> None:
    partner = make_partner()  # has version "1"
    sign_in(client, make_user(Role.COORDINATOR))
    data = {"version": "2", "signed_on": "2025-01-01", "expires_on": "2026-01-01", **fields}
    response = client.post(f"/staff/partners/{partner.pk}/agreements/", data)
    assert response.status_code == 400 and message in response.content.decode()
    assert PartnerAgreement.objects.filter(partner=partner).count() == 1


def test_flagging_and_clearing_compromised_is_audited_with_a_reason(
    client: Client,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    partner = make_partner()
    coordinator = make_user(Role.COORDINATOR)
    sign_in(client, coordinator)
    url = f"/staff/partners/{partner.pk}/compromised/"
    wrong = client.post(url, {"flag": "1", "reason": "mistake"})
    assert (
        wrong.status_code == 400 and "Choose one of the reasons offered." in wrong.content.decode()
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"flag": "1", "reason": "infiltrated"}).status_code == 302
    partner.refresh_from_db()
    assert partner.compromised_at is not None and partner.compromised_by == coordinator
    flagged = AuditEntry.objects.get(action="partners.partner.flagged_compromised")
    assert flagged.details == {"reason": "infiltrated"} and flagged.object_id == partner.pk
    assert len(mail.outbox) == 1 and partner.name not in mail.outbox[0].body
    # A second coordinator's page, drawn before the flag:
    stale = client.post(url, {"flag": "1", "reason": "data_leaked"})
    assert stale.status_code == 400 and "Someone else changed this flag" in stale.content.decode()
    assert "Flagged compromised on" in client.get(f"/staff/partners/{partner.pk}/").content.decode()
    assert client.post(url, {"flag": "0", "reason": "checked_safe"}).status_code == 302
    partner.refresh_from_db()
    assert partner.compromised_at is None and partner.compromised_by is None
    cleared = AuditEntry.objects.get(action="partners.partner.compromise_cleared")
    assert cleared.details == {"reason": "checked_safe"}


def test_partner_accounts_are_made_through_account_creation_in_the_partners_team(
    client: Client,
) -> None:
    partner = make_partner()
    coordinator = make_user(Role.COORDINATOR)
    sign_in(client, coordinator)
    url = f"/staff/partners/{partner.pk}/accounts/new/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"email": "Amaka@Example.org", "display_name": "Amaka"})
    assert response.status_code == 200
    person = User.objects.get(email="amaka@example.org")
    assert response.context["password"] in response.content.decode()
    partner.refresh_from_db()
    assert partner.team is not None and partner.team.role == Role.PARTNER
    assert person.roles == {Role.PARTNER} and person.must_change_password
    assert AuditEntry.objects.filter(action="accounts.user.created", object_id=person.pk).exists()
    assert AuditEntry.objects.filter(
        action="partners.partner.account_created", details__user=str(person.pk)
    ).exists()
    client.post(url, {"email": "obi@example.org", "display_name": "Obi"})
    assert Team.objects.filter(role=Role.PARTNER).count() == 1
    assert partner.team.memberships.count() == 2
    shown = client.get(f"/staff/partners/{partner.pk}/").content.decode()
    assert "The partner's accounts" in shown and "Amaka" in shown
    # The new account has no second factor yet: signing in leads to setting one up.
    newcomer = Client()
    newcomer.post(
        "/staff/sign-in/", {"email": "amaka@example.org", "password": response.context["password"]}
    )
    assert newcomer.get("/partners/")["Location"].startswith("/staff/account/second-factor/")


def test_a_taken_address_creates_neither_account_nor_team(client: Client) -> None:
    partner = make_partner()
    make_user(Role.CASEWORKER, email="taken@example.org")
    sign_in(client, make_user(Role.COORDINATOR))
    response = client.post(
        f"/staff/partners/{partner.pk}/accounts/new/",
        {"email": "taken@example.org", "display_name": "Someone"},
    )
    assert response.status_code == 400
    assert "An account with this e-mail already exists." in response.content.decode()
    partner.refresh_from_db()
    assert partner.team is None and not Team.objects.filter(role=Role.PARTNER).exists()
    with pytest.raises(Exception):  # noqa: B017 - the database refuses the duplicate address
        services.create_partner_account(
            partner, email="taken@example.org", display_name="x", by=make_user(Role.COORDINATOR)
        )
    partner.refresh_from_db()
    assert partner.team is None


def test_adding_an_account_asks_to_confirm_identity_again(client: Client) -> None:
    partner = make_partner()
    sign_in(client, make_user(Role.COORDINATOR))
    session = client.session
    del session[SESSION_REAUTH_AT]
    session.save()
    response = client.get(f"/staff/partners/{partner.pk}/accounts/new/")
    assert response["Location"].startswith("/staff/account/confirm/")


def test_no_account_is_added_to_a_compromised_partner(client: Client) -> None:
    partner = make_partner(compromised_at=timezone.now())
    sign_in(client, make_user(Role.COORDINATOR))
    response = client.post(
        f"/staff/partners/{partner.pk}/accounts/new/",
        {"email": "late@example.org", "display_name": "Late"},
    )
    assert response.status_code == 400 and "flagged compromised" in response.content.decode()
    assert not User.objects.filter(email="late@example.org").exists()


def test_missing_partners_are_404(client: Client) -> None:
    sign_in(client, make_user(Role.COORDINATOR))
    missing = "00000000-0000-4000-8000-000000000000"
    assert client.get(f"/staff/partners/{missing}/").status_code == 404
    assert client.post(f"/staff/partners/{missing}/compromised/", {}).status_code == 404


def test_the_registry_list_stays_within_a_few_queries(
    client: Client,
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    for _ in range(15):
        make_partner()
    sign_in(client, make_user(Role.COORDINATOR))
    with django_assert_max_num_queries(12):
        assert client.get("/staff/partners/").status_code == 200

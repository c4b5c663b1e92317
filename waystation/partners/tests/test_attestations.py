"""Attestation requests: a caseworker sends an expiring, single-use link that shows only what
they chose; the verifier answers without an account; the answer is sealed into the case.
Also the registry of individual verifiers that links can go to."""

import hashlib
import io
import json
import logging
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone, translation
from PIL import Image

from conftest import NEEDS_CHROMIUM, PASSWORD, make_user, new_page, sign_in
from waystation.accounts.models import Role, Team, User
from waystation.audit.models import AuditEntry
from waystation.cases import services as cases
from waystation.cases.models import Case
from waystation.cases.tests.conftest import ask
from waystation.intake import services as intake
from waystation.intake.models import Evidence
from waystation.partners import attestations, verifiers
from waystation.partners import services as partners
from waystation.partners.models import AttestationRequest, IndividualVerifier, Partner
from waystation.vault import crypto, files
from waystation.vault import services as vault
from waystation.vault.fields import decrypt_value
from waystation.vault.tests.markers import assert_no_traces, database_dump, seized_places

pytestmark = pytest.mark.django_db

FIRST = "Zebulonquokka"
SURNAME = "Okafordiyaxe"
QUESTION = "Did she sing at the Canaryhall choir in 2019?"
HOW = "We sang together at Canaryhall for years."
CONTACT = {"channel": "signal", "handle": "+44 7700 900123"}


@pytest.fixture(autouse=True)
def _storage(vault_storage):  # type: ignore[no-untyped-def]
    return vault_storage


@dataclass
class World:
    case: Case
    caseworker: User
    coordinator: User
    partner: Partner
    staff: Client


@pytest.fixture
def world(intake_team: Team, client: Client) -> World:
    """A case sealed as intake seals it, assigned to a caseworker (signed in, keys unlocked)
    in a caseworker team, and a partner with an agreement in force and a sealed contact."""
    coordinator = make_user(Role.COORDINATOR, keys=True)
    caseworker = make_user(Role.CASEWORKER, keys=True)
    member = intake_team.memberships.get().user
    request = ask(name=f"{FIRST} {SURNAME}")
    cases.assign_case(
        request.case,
        team=Team.objects.get(role=Role.CASEWORKER),
        user=caseworker,
        by=member,
        keys=vault.unlock_with_password(member, PASSWORD),
    )
    partner = partners.create_partner(
        name="Rainbow Lagos",
        kind=Partner.Kind.LGBTQI_ORGANIZATION,
        countries=["NG"],
        trust=Partner.Trust.ESTABLISHED,
        contact=CONTACT,
        by=coordinator,
    )
    today = timezone.localdate()
    partners.record_agreement(
        partner,
        version="2024",
        signed_on=today - timedelta(days=30),
        expires_on=today + timedelta(days=300),
        by=coordinator,
    )
    sign_in(client, caseworker)
    client.post("/staff/unlock/", {"password": PASSWORD})
    return World(Case.objects.get(pk=request.case.pk), caseworker, coordinator, partner, client)


def _photo(size: tuple[int, int] = (1600, 1200)) -> bytes:
    image = io.BytesIO()
    Image.new("RGB", size, "purple").save(image, format="PNG")
    return image.getvalue()


def _send_photo(case: Case) -> Evidence:
    file_key = crypto.new_key()
    writer = files.FileWriter(
        case.request.keyring, file_key, name="me.png", content_type="image/png"
    )
    writer.write(_photo())
    return intake.add_evidence(case.request, writer.close(), file_key)


def _ask(world: World, **data: object):  # type: ignore[no-untyped-def]
    world.case.refresh_from_db()
    form = {
        "addressee": f"partner:{world.partner.pk}",
        "disclose": ["first_name", "question"],
        "question": QUESTION,
        "days": "7",
        "version": str(world.case.version),
        **data,
    }
    return world.staff.post(f"/staff/cases/{world.case.pk}/attestations/new/", form)


def _link(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content.decode()[:2000]
    match = re.search(
        r'value="http://testserver(/partners/attest/[^"/]+/)"', response.content.decode()
    )
    assert match is not None
    return match.group(1)


def _open(link: str, verifier: Client | None = None):  # type: ignore[no-untyped-def]
    """The verifier opens the link (the page with the button, then the button)."""
    verifier = verifier or Client()
    assert verifier.get(link).status_code == 200
    return verifier, verifier.post(link)


def _neutral(response) -> str:  # type: ignore[no-untyped-def]
    """The page without what differs per visitor (the CSRF token of the language form)."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


ANSWER = {"knows": "yes", "how": HOW, "certainty": "certain", "comments": ""}


# --- Creating the link ----------------------------------------------------------------------


def test_a_caseworker_gets_the_link_once_with_the_partners_safe_channel(world: World) -> None:
    response = _ask(world)
    link = _link(response)
    page = response.content.decode()
    assert "+44 7700 900123" in page and "shown only this once" in page
    token = link.split("/")[-2]
    assert len(token) >= 43  # 256 random bits, url-safe
    attestation = AttestationRequest.objects.get()
    assert attestation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert attestation.disclosed_fields == ["first_name", "question"]
    assert attestation.expires_at - attestation.created_at == timedelta(days=7)
    assert attestation.partner == world.partner and attestation.created_by == world.caseworker
    # The case page lists it, waiting; the link itself is never shown again.
    case_page = world.staff.get(f"/staff/cases/{world.case.pk}/").content.decode()
    assert "Rainbow Lagos" in case_page and "Waiting" in case_page and token not in case_page


def test_sending_the_same_form_twice_creates_one_request(world: World) -> None:
    version = str(world.case.version)
    _link(_ask(world, version=version))
    again = _ask(world, version=version)
    assert again.status_code == 400 and "Someone else changed this case" in again.content.decode()
    assert AttestationRequest.objects.count() == 1


def test_bad_input_keeps_what_was_typed_and_records_nothing(world: World) -> None:
    blank = _ask(world, disclose=["first_name", "question"], question="  ", days="12")
    page = blank.content.decode()
    assert blank.status_code == 400 and "Write the question, or untick it." in page
    assert 'value="12"' in page
    too_long = _ask(world, days="31")
    assert too_long.status_code == 400 and "31" in too_long.content.decode()
    nothing = _ask(world, disclose=[])
    assert nothing.status_code == 400
    assert AttestationRequest.objects.count() == 0
    assert not AuditEntry.objects.filter(action="partners.attestation.created").exists()


def test_a_partner_without_an_agreement_in_force_or_compromised_cannot_be_asked(
    world: World,
) -> None:
    lapsed = partners.create_partner(
        name="No agreement",
        kind=Partner.Kind.SHELTER,
        countries=["NG"],
        trust=1,
        contact=CONTACT,
        by=world.coordinator,
    )
    page = world.staff.get(f"/staff/cases/{world.case.pk}/attestations/new/").content.decode()
    assert "Rainbow Lagos" in page and "No agreement" not in page
    refused = _ask(world, addressee=f"partner:{lapsed.pk}")
    assert refused.status_code == 400 and "no data-sharing agreement" in refused.content.decode()
    unknown = _ask(world, addressee="partner:00000000-0000-4000-8000-000000000000")
    assert "Choose a partner or a verifier" in unknown.content.decode()
    # Flagged between the form and the sending: the service refuses under the row lock.
    partners.set_compromised(
        world.partner, compromised=True, reason="infiltrated", by=world.coordinator
    )
    key = vault.open_keyring(
        world.case.keyring, vault.unlock_with_password(world.caseworker, PASSWORD)
    )
    for addressee, message in [
        (world.partner, "compromised"),
        (lapsed, "no data-sharing agreement"),
    ]:
        with pytest.raises(attestations.AttestationRefusedError, match=message):
            attestations.create_attestation(
                world.case,
                addressee=addressee,
                fields=["country"],
                by=world.caseworker,
                keyring_key=key,
            )
    assert AttestationRequest.objects.count() == 0


def test_an_expired_agreement_refuses_a_new_link_and_records_nothing(world: World) -> None:
    # Someone else stays askable, so the form is drawn again with the refusal on it.
    verifiers.add_verifier(
        by=world.coordinator, kind="relocated", countries=["NG"], name="A", contact="B"
    )
    drawn = world.staff.get(f"/staff/cases/{world.case.pk}/attestations/new/").content.decode()
    assert "Rainbow Lagos" in drawn
    # It expires while the caseworker fills in the form (an agreement no longer holds on its
    # expiry date).
    agreement = world.partner.agreements.get()
    agreement.expires_on = timezone.localdate()
    agreement.save()
    version = world.case.version
    refused = _ask(world)
    page = refused.content.decode()
    assert refused.status_code == 400
    assert "This partner has no data-sharing agreement in force, so it cannot be asked." in page
    assert QUESTION in page  # what was typed stays
    assert (
        "Rainbow Lagos"
        not in world.staff.get(f"/staff/cases/{world.case.pk}/attestations/new/").content.decode()
    )
    key = vault.open_keyring(
        world.case.keyring, vault.unlock_with_password(world.caseworker, PASSWORD)
    )
    with translation.override("es"), pytest.raises(attestations.AttestationRefusedError) as error:
        attestations.create_attestation(
            world.case,
            addressee=world.partner,
            fields=["country"],
            by=world.caseworker,
            keyring_key=key,
        )
    with translation.override("es"):
        expected = str(attestations.ADDRESSEE_REFUSALS["agreement"])
    assert error.value.message == expected and expected.startswith("Esta organización aliada")
    assert not AttestationRequest.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="partners.attestation").exists()
    world.case.refresh_from_db()
    assert world.case.version == version


def test_other_cases_and_missing_ones_are_404(world: World) -> None:
    link = _link(_ask(world))
    attestation = AttestationRequest.objects.get()
    other = make_user(None, email="other@example.org")
    Team.objects.create(name="Other caseworkers", role=Role.CASEWORKER).memberships.create(
        user=other
    )
    stranger = sign_in(Client(), other)
    assert stranger.get(f"/staff/cases/{world.case.pk}/attestations/new/").status_code == 404
    missing = "00000000-0000-4000-8000-000000000000"
    assert stranger.get(f"/staff/cases/{missing}/attestations/new/").status_code == 404
    assert stranger.post(f"/staff/attestations/{attestation.pk}/cancel/").status_code == 404
    volunteer = sign_in(Client(), make_user(Role.INTAKE_VOLUNTEER))
    assert volunteer.get(f"/staff/cases/{world.case.pk}/attestations/new/").status_code == 404
    outsider = sign_in(Client(), make_user(None))
    assert outsider.post(f"/staff/attestations/{attestation.pk}/cancel/").status_code == 404
    assert AttestationRequest.objects.get().cancelled_at is None
    assert _open(link)[1]["Location"].startswith("/partners/attest/open/")


# --- The verifier's side --------------------------------------------------------------------


def test_the_verifier_sees_only_the_chosen_fields_and_the_database_holds_none(
    world: World,
) -> None:
    link = _link(_ask(world))
    dump = database_dump()
    for value in [FIRST, QUESTION]:
        assert value.encode() not in dump
    verifier, opened = _open(link)
    assert opened.status_code == 302 and link not in opened["Location"]
    page = verifier.get(opened["Location"])
    content = page.content.decode()
    assert page.status_code == 200 and FIRST in content and QUESTION in content
    for hidden in [SURNAME, "Lagos", "Nigeria", "police", "<img"]:
        assert hidden not in content
    assert "Do you know this person?" in content
    assert f"<title>{page.context['site_title']}</title>" in content  # a neutral title
    assert page["Cache-Control"] == "no-store, max-age=0"
    assert database_dump().count(FIRST.encode()) == 0


def test_the_link_works_once(world: World) -> None:
    link = _link(_ask(world))
    # Fetching the link (a preview, a mail scanner) uses nothing up.
    assert Client().get(link).status_code == 200 and Client().get(link).status_code == 200
    verifier, opened = _open(link)
    question_page = opened["Location"]
    assert AttestationRequest.objects.get().opened_at is not None
    # A second opening, here or anywhere else: the neutral page.
    for again in [verifier.post(link), _open(link)[1]]:
        assert again["Location"] == "/partners/attest/closed/"
        assert Client().get(again["Location"]).status_code == 404
    # Reloading the page the link opened still works until the answer is sent.
    assert verifier.get(question_page).status_code == 200
    thanks = verifier.post(question_page, ANSWER)
    assert thanks.status_code == 200 and "Thank you" in thanks.content.decode()
    assert verifier.get(question_page).status_code == 404
    assert verifier.post(question_page, ANSWER).status_code == 404
    attestation = AttestationRequest.objects.get()
    assert attestation.answered_at is not None and bytes(attestation.disclosed) == b""
    # The handle opens nothing in another browser.
    assert Client().get(question_page).status_code == 404


def test_a_bad_answer_keeps_what_was_typed(world: World) -> None:
    verifier, opened = _open(_link(_ask(world)))
    response = verifier.post(opened["Location"], {"how": HOW, "knows": "maybe"})
    assert response.status_code == 400 and HOW in response.content.decode()
    assert AttestationRequest.objects.get().answered_at is None


def test_used_expired_cancelled_and_unknown_links_get_the_same_page(world: World) -> None:
    used, expired, cancelled = (_link(_ask(world)) for _ in range(3))
    answering, opened = _open(used)
    answering.post(opened["Location"], ANSWER)
    by_token = {a.token_hash: a for a in AttestationRequest.objects.all()}
    token_of = {
        link: hashlib.sha256(link.split("/")[-2].encode()).hexdigest()
        for link in (expired, cancelled)
    }
    AttestationRequest.objects.filter(token_hash=token_of[expired]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    world.staff.post(f"/staff/attestations/{by_token[token_of[cancelled]].pk}/cancel/")
    pages = []
    for link in [used, expired, cancelled, "/partners/attest/" + "A" * 43 + "/"]:
        browser, response = _open(link)
        assert response["Location"] == "/partners/attest/closed/"
        closed = browser.get(response["Location"])
        assert closed.status_code == 404
        pages.append(_neutral(closed))
    assert len(set(pages)) == 1 and "does not open anything" in pages[0]
    assert (
        AttestationRequest.objects.exclude(
            token_hash__in=[token_of[expired], token_of[cancelled]]
        ).count()
        == 1
    )
    assert AttestationRequest.objects.filter(opened_at__isnull=False).count() == 1


def test_an_expired_link_stops_working_even_once_opened(world: World) -> None:
    verifier, opened = _open(_link(_ask(world)))
    AttestationRequest.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert verifier.post(opened["Location"], ANSWER).status_code == 404
    assert AttestationRequest.objects.get().answer is None


def test_cancelling_erases_the_disclosure_and_closes_an_opened_page(world: World) -> None:
    verifier, opened = _open(_link(_ask(world)))
    attestation = AttestationRequest.objects.get()
    response = world.staff.post(f"/staff/attestations/{attestation.pk}/cancel/")
    assert response["Location"] == f"/staff/cases/{world.case.pk}/"
    attestation.refresh_from_db()
    assert attestation.cancelled_at is not None and bytes(attestation.disclosed) == b""
    assert verifier.get(opened["Location"]).status_code == 404
    again = world.staff.post(f"/staff/attestations/{attestation.pk}/cancel/", follow=True)
    assert "answered or cancelled already" in again.content.decode()
    assert "Cancelled" in world.staff.get(f"/staff/cases/{world.case.pk}/").content.decode()


def test_a_browser_without_cookies_does_not_use_the_link(world: World) -> None:
    link = _link(_ask(world))
    response = Client().post(link)  # no page before: the test cookie was never set
    assert (
        response.status_code == 200
        and "did not keep this site's cookie" in response.content.decode()
    )
    assert AttestationRequest.objects.get().opened_at is None
    assert _open(link)[1]["Location"].startswith("/partners/attest/open/")


def test_an_agreement_that_lapsed_after_sending_pauses_the_link(world: World) -> None:
    link = _link(_ask(world))
    agreement = world.partner.agreements.get()
    agreement.expires_on = timezone.localdate()
    agreement.save()
    verifier, opened = _open(link)
    paused = verifier.get(opened["Location"])
    assert paused.status_code == 403 and "agreement" in paused.content.decode()
    assert FIRST not in paused.content.decode()
    assert AttestationRequest.objects.get().opened_at is None
    refused = AuditEntry.objects.get(action="partners.attestation.refused")
    assert refused.details["reason"] == "agreement"
    # Renewed before the link expires: it opens.
    agreement.expires_on = timezone.localdate() + timedelta(days=90)
    agreement.save()
    verifier, opened = _open(link)
    assert FIRST in verifier.get(opened["Location"]).content.decode()
    # Lapsed again while the page is open: the answer is refused, with the same message.
    agreement.expires_on = timezone.localdate()
    agreement.save()
    refused_answer = verifier.post(opened["Location"], ANSWER)
    assert refused_answer.status_code == 403 and AttestationRequest.objects.get().answer is None


def test_a_partner_flagged_compromised_after_sending_gets_the_neutral_page(world: World) -> None:
    link = _link(_ask(world))
    partners.set_compromised(
        world.partner, compromised=True, reason="infiltrated", by=world.coordinator
    )
    verifier, opened = _open(link)
    assert opened["Location"] == "/partners/attest/closed/"
    assert verifier.get(opened["Location"]).status_code == 404
    page = world.staff.get(f"/staff/cases/{world.case.pk}/").content.decode()
    assert "flagged compromised" in page


def test_a_chosen_photo_is_a_smaller_copy_shown_to_the_link_holder_only(world: World) -> None:
    evidence = _send_photo(world.case)
    link = _link(_ask(world, disclose=["photo"], photo=str(evidence.pk)))
    verifier, opened = _open(link)
    page = verifier.get(opened["Location"]).content.decode()
    photo_url = f"{opened['Location']}photo/"
    assert f'src="{photo_url}"' in page and FIRST not in page
    photo = verifier.get(photo_url)
    assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"
    assert "sandbox" in photo["Content-Security-Policy"]
    with Image.open(io.BytesIO(photo.content)) as image:
        assert max(image.size) == attestations.PHOTO_SIDE and not image.info.get("exif")
    assert Client().get(photo_url).status_code == 404
    verifier.post(opened["Location"], ANSWER)
    assert verifier.get(photo_url).status_code == 404


def test_the_photo_must_be_chosen_when_ticked(world: World) -> None:
    _send_photo(world.case)
    response = _ask(world, disclose=["photo"])
    assert response.status_code == 400 and "Choose the photo to show" in response.content.decode()


# --- The answer -----------------------------------------------------------------------------


def test_the_answer_is_sealed_and_staff_read_it_with_the_case_key(world: World) -> None:
    verifier, opened = _open(_link(_ask(world)))
    verifier.post(opened["Location"], {**ANSWER, "comments": "Canaryhall comments"})
    sealed = bytes(AttestationRequest.objects.get().answer or b"")
    assert HOW.encode() not in sealed and HOW.encode() not in database_dump()
    key = vault.open_keyring(
        world.case.keyring, vault.unlock_with_password(world.caseworker, PASSWORD)
    )
    answer = json.loads(crypto.unseal(intake.inbox_key(world.case.request, key), sealed))
    assert answer["how"] == HOW and answer["knows"] == "yes"
    page = world.staff.get(f"/staff/cases/{world.case.pk}/").content.decode()
    assert HOW in page and "Yes, I know this person" in page and "Canaryhall comments" in page
    # Without unlocked keys the case page says it is answered, and shows nothing of it.
    locked = (
        sign_in(Client(), world.caseworker).get(f"/staff/cases/{world.case.pk}/").content.decode()
    )
    assert "Answered" in locked and HOW not in locked


def test_an_answer_moved_to_another_request_is_not_shown(world: World) -> None:
    for _ in range(2):
        verifier, opened = _open(_link(_ask(world)))
        verifier.post(opened["Location"], ANSWER)
    first, second = AttestationRequest.objects.order_by("created_at")
    AttestationRequest.objects.filter(pk=first.pk).update(answer=second.answer)
    page = world.staff.get(f"/staff/cases/{world.case.pk}/").content.decode()
    assert page.count("This answer is damaged") == 1


def _queries(client: Client, url: str) -> tuple[int, str]:
    """How many queries a page takes (the test client's request signals reset Django's own
    query log, so they are counted as they run), and the page."""
    seen: list[str] = []

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        page = client.get(url).content.decode()
    return len(seen), page


def test_the_case_page_costs_the_same_for_many_requests(world: World) -> None:
    entry = verifiers.add_verifier(
        by=world.coordinator, kind="relocated", countries=["NG"], name="Quokkamina", contact="x"
    )

    def ask_both() -> None:
        verifier, opened = _open(_link(_ask(world)))
        verifier.post(opened["Location"], ANSWER)
        _link(_ask(world, addressee=f"verifier:{entry.pk}", disclose=["country"]))

    ask_both()
    few, _page = _queries(world.staff, f"/staff/cases/{world.case.pk}/")
    for _ in range(4):
        ask_both()
    many, page = _queries(world.staff, f"/staff/cases/{world.case.pk}/")
    assert page.count("<td>Quokkamina</td>") == 5 and page.count(HOW) == 5
    assert many <= few


# --- Audit and traces -----------------------------------------------------------------------


def test_every_step_is_audited_without_content(world: World) -> None:
    link = _link(_ask(world))
    verifier, opened = _open(link)
    verifier.post(opened["Location"], ANSWER)
    _open(link)  # a second opening: refused, and recorded (the link may have leaked)
    cancelled = _link(_ask(world))
    waiting = AttestationRequest.objects.get(cancelled_at=None, answered_at=None)
    world.staff.post(f"/staff/attestations/{waiting.pk}/cancel/")
    entries = list(
        AuditEntry.objects.filter(action__startswith="partners.attestation").order_by("position")
    )
    assert [entry.action for entry in entries] == [
        "partners.attestation.created",
        "partners.attestation.opened",
        "partners.attestation.answered",
        "partners.attestation.refused",
        "partners.attestation.created",
        "partners.attestation.cancelled",
    ]
    assert entries[0].actor_id == world.caseworker.pk and entries[1].actor_id is None
    assert entries[0].details["fields"] == "first_name,question"
    assert entries[3].details["reason"] == "used"
    recorded = json.dumps([entry.details for entry in entries])
    for content in [FIRST, QUESTION, HOW, link.split("/")[-2], cancelled.split("/")[-2], "yes"]:
        assert content not in recorded


@pytest.mark.django_db(transaction=True)
def test_the_token_and_disclosed_values_are_never_stored_or_logged(  # type: ignore[no-untyped-def]
    world, vault_storage, caplog, capfd
) -> None:
    caplog.set_level(logging.DEBUG)
    evidence = _send_photo(world.case)
    link = _link(_ask(world, disclose=["first_name", "question", "photo"], photo=str(evidence.pk)))
    token = link.split("/")[-2]
    verifier, opened = _open(link)
    assert verifier.get(opened["Location"]).status_code == 200
    verifier.post(link)  # used: refused
    Client().post(link)  # no cookie
    verifier.post(opened["Location"], ANSWER)
    verifier.post(link)
    places = seized_places(vault_storage, caplog, capfd)
    assert_no_traces(
        places,
        {
            "token": token,
            "token key": attestations._disclosure_key(token),
            "first name": FIRST,
            "question": QUESTION,
            "answer": HOW,
        },
    )


# --- Individual verifiers -------------------------------------------------------------------

VERIFIER = {
    "kind": "relocated",
    "countries": "ng, gh",
    "name": "Quokkamina Aduke",
    "contact": "Signal +44 7700 900456",
}


def test_coordinators_keep_verifiers_with_name_and_contact_sealed(world: World) -> None:
    coordinator = sign_in(Client(), world.coordinator)
    coordinator.post("/staff/unlock/", {"password": PASSWORD})
    added = coordinator.post("/staff/verifiers/", VERIFIER)
    assert added["Location"] == "/staff/verifiers/"
    entry = IndividualVerifier.objects.get()
    assert entry.countries == ["GH", "NG"] and entry.active and entry.added_by == world.coordinator
    dump = database_dump()
    assert VERIFIER["name"].encode() not in dump and b"900456" not in dump
    # Sealed to coordinators, caseworkers and verifiers: a caseworker reads the name.
    key = vault.open_keyring(entry.keyring, vault.unlock_with_password(world.caseworker, PASSWORD))
    assert decrypt_value(key, entry, "name") == VERIFIER["name"]
    listing = coordinator.get("/staff/verifiers/")
    assert VERIFIER["name"] in listing.content.decode()
    assert AuditEntry.objects.filter(action="partners.verifier.listed").exists()
    changed = coordinator.post(
        f"/staff/verifiers/{entry.pk}/", {**VERIFIER, "name": "Quokkamina A."}
    )
    assert changed.status_code == 302
    entry.refresh_from_db()
    assert decrypt_value(key, entry, "name") == "Quokkamina A."
    actions = set(AuditEntry.objects.filter(object_id=entry.pk).values_list("action", flat=True))
    assert {
        "partners.verifier.added",
        "partners.verifier.read",
        "partners.verifier.changed",
    } <= actions
    recorded = json.dumps(list(AuditEntry.objects.values_list("details", flat=True)))
    assert "Quokkamina" not in recorded and "900456" not in recorded


def test_bad_verifier_input_keeps_what_was_typed(world: World) -> None:
    coordinator = sign_in(Client(), world.coordinator)
    response = coordinator.post("/staff/verifiers/", {**VERIFIER, "countries": "Narnia"})
    assert response.status_code == 400 and "Not a country code" in response.content.decode()
    assert VERIFIER["name"] in response.content.decode()
    assert not IndividualVerifier.objects.exists()


def test_only_coordinators_keep_the_registry(world: World) -> None:
    entry = verifiers.add_verifier(
        by=world.coordinator, kind="relocated", countries=["NG"], name="A", contact="B"
    )
    assert world.staff.get("/staff/verifiers/").status_code == 404
    assert world.staff.get(f"/staff/verifiers/{entry.pk}/").status_code == 404
    assert world.staff.post(f"/staff/verifiers/{entry.pk}/deactivate/").status_code == 404
    assert IndividualVerifier.objects.get().active


def test_a_verifier_is_asked_and_deactivating_them_cancels_their_links(world: World) -> None:
    entry = verifiers.add_verifier(
        by=world.coordinator,
        kind="network_member",
        countries=["NG"],
        name="Quokkamina",
        contact="Signal 12345",
    )
    form = world.staff.get(f"/staff/cases/{world.case.pk}/attestations/new/").content.decode()
    assert "Quokkamina · NG" in form
    response = _ask(world, addressee=f"verifier:{entry.pk}", disclose=["region", "country"])
    link = _link(response)
    assert "Signal 12345" in response.content.decode()
    coordinator = sign_in(Client(), world.coordinator)
    coordinator.post(f"/staff/verifiers/{entry.pk}/deactivate/")
    entry.refresh_from_db()
    attestation = AttestationRequest.objects.get()
    assert not entry.active and attestation.cancelled_at is not None
    assert bytes(attestation.disclosed) == b""
    assert _open(link)[1]["Location"] == "/partners/attest/closed/"
    refused = _ask(world, addressee=f"verifier:{entry.pk}", disclose=["region"])
    assert refused.status_code == 400
    coordinator.post(f"/staff/verifiers/{entry.pk}/reactivate/")
    verifier, opened = _open(
        _link(_ask(world, addressee=f"verifier:{entry.pk}", disclose=["region", "country"]))
    )
    page = verifier.get(opened["Location"]).content.decode()
    assert "Lagos" in page and "Nigeria" in page and FIRST not in page


# --- In a browser ---------------------------------------------------------------------------

BROWSER, ON_CHROMIUM = NEEDS_CHROMIUM


def _token_link(world: World, live_server, fields: list[str]) -> str:  # type: ignore[no-untyped-def]
    key = vault.open_keyring(
        world.case.keyring, vault.unlock_with_password(world.caseworker, PASSWORD)
    )
    _attestation, token = attestations.create_attestation(
        world.case,
        addressee=world.partner,
        fields=fields,
        question=QUESTION,
        by=world.caseworker,
        keyring_key=key,
    )
    return f"{live_server.url.replace('127.0.0.1', 'localhost')}/partners/attest/{token}/"


@BROWSER
@ON_CHROMIUM
@pytest.mark.django_db(transaction=True)
def test_a_verifier_answers_in_a_browser_without_javascript(live_server, browser, world) -> None:  # type: ignore[no-untyped-def]
    from waystation.intake.tests import axe

    axe_js = axe.source()
    link = _token_link(world, live_server, ["first_name", "country", "question"])
    page, outside = new_page(browser, java_script_enabled=False, locale="en-GB")
    page.goto(link)
    page.get_by_role("button", name="Open the question").click()
    page.wait_for_url("**/partners/attest/open/**")
    assert "/partners/attest/open/" in page.url and link.split("/")[-2] not in page.url
    assert FIRST in page.content() and "Nigeria" in page.content()
    page.get_by_label("Yes, I know this person").check()
    page.get_by_label("How do you know them?").fill(HOW)
    page.get_by_label("Certain").check()
    page.get_by_role("button", name="Send the answer").click()
    page.wait_for_load_state()
    assert "Thank you" in page.content() and outside == []
    assert AttestationRequest.objects.get().answered_at is not None
    # Every page a verifier meets, checked by axe (scripts on for axe itself).
    second = _token_link(world, live_server, ["first_name", "question"])
    checker, _outside = new_page(browser, locale="en-GB", bypass_csp=True)
    found = {}
    checker.goto(second)
    found["start"] = axe.blocking_violations(checker, axe_js)
    checker.get_by_role("button", name="Open the question").click()
    checker.wait_for_url("**/partners/attest/open/**")
    checker.get_by_role("button", name="Send the answer").click()
    checker.wait_for_load_state()
    found["question with errors"] = axe.blocking_violations(checker, axe_js)
    checker.goto(second)
    checker.get_by_role("button", name="Open the question").click()
    checker.wait_for_url("**/partners/attest/closed/")
    found["closed"] = axe.blocking_violations(checker, axe_js)
    assert not any(found.values()), axe.describe(found)

"""The duplicate finder: blind-index candidates (stage 1), then scores over the plaintext the
caller decrypts (stage 2)."""

import uuid
from datetime import date

import pytest

from waystation.cases import duplicates
from waystation.cases.duplicates import Person
from waystation.vault import blind
from waystation.vault.models import Keyring

pytestmark = pytest.mark.django_db


class Cases:
    """Keyrings indexed as the intake indexes a request, with their plaintext kept for the
    `load` callback a staff member's request would give."""

    def __init__(self) -> None:
        self.people: dict[uuid.UUID, Person] = {}

    def add(self, person: Person) -> uuid.UUID:
        keyring = Keyring.objects.create()
        blind.index_keyring(
            keyring,
            phones=person.phones,
            emails=person.emails,
            names=[person.name],
            region=person.phone_region,
        )
        self.people[keyring.pk] = person
        return keyring.pk

    def load(self, keyring_ids: list[uuid.UUID]) -> dict[uuid.UUID, Person]:
        return {pk: self.people[pk] for pk in keyring_ids if pk in self.people}


@pytest.fixture
def cases() -> Cases:
    return Cases()


def test_same_phone_is_the_top_candidate(cases: Cases) -> None:
    same_phone = cases.add(Person(full_name="Chidi Okafor", phones=("+2348031234567",)))
    cases.add(Person(full_name="Chidi Okafor", phones=("+2348069876543",)))
    cases.add(Person(full_name="Ngozi Eze", phones=("+2348130000001",)))

    # Written as people write it at home, with the country reading it.
    asking = Person(full_name="Chidi Okafor", phones=("0803 123 4567",), country="NG")
    found = duplicates.find_duplicates(asking, cases.load)

    assert found[0].keyring_id == same_phone
    assert found[0].reasons[0] == "same phone"
    assert found[0].score > found[1].score


def test_shared_phone_with_another_name_is_still_a_candidate(cases: Cases) -> None:
    shared = cases.add(Person(full_name="Tunde Bakare", phones=("+2348031234567",)))

    asking = Person(full_name="Grace Obi", phones=("+2348031234567",))
    found = duplicates.find_duplicates(asking, cases.load)

    assert [candidate.keyring_id for candidate in found] == [shared]
    assert found[0].reasons == ["same phone"]


def test_transliterated_name_is_found(cases: Cases) -> None:
    cyrillic = cases.add(Person(full_name="Алексей Смирнов", date_of_birth=date(1991, 4, 2)))
    cases.add(Person(full_name="Алексей Петров", date_of_birth=date(1979, 12, 30)))

    asking = Person(given_name="Aleksei", family_name="Smirnov", date_of_birth=date(1991, 4, 2))
    found = duplicates.find_duplicates(asking, cases.load)

    assert [candidate.keyring_id for candidate in found] == [cyrillic]
    assert found[0].reasons == ["same date of birth", "similar name"]


def test_common_first_name_does_not_flood(cases: Cases, monkeypatch: pytest.MonkeyPatch) -> None:
    # Twenty-nine keyrings named Maria overfill a ten-row lookup: "Maria" is common here.
    monkeypatch.setattr(duplicates, "ROWS_PER_LOOKUP", 10)
    for family in ["Rossi", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco"] * 4:
        cases.add(Person(given_name="Maria", family_name=family))
    wanted = cases.add(Person(given_name="Maria", family_name="Kowalczyk"))

    asking = Person(full_name="Maria Kowalczyk")
    shortlist = duplicates.blind_candidates(asking, limit=5)
    found = duplicates.find_duplicates(asking, cases.load, limit=5)
    first_name_only = duplicates.find_duplicates(Person(full_name="Maria"), cases.load)

    assert len(shortlist.hits) <= 5
    assert shortlist.hits[0].keyring_id == wanted
    assert shortlist.common_words == {"maria"}
    assert [candidate.keyring_id for candidate in found] == [wanted]
    assert first_name_only == []


def test_true_duplicate_ranks_above_near_miss(cases: Cases) -> None:
    duplicate = cases.add(Person(full_name="Amina Yusuf"))
    near_miss = cases.add(Person(full_name="Amina Yusuf"))
    cases.people[duplicate] = Person(
        full_name="Amina Yusuf", date_of_birth=date(1990, 3, 2), region="Lagos"
    )
    cases.people[near_miss] = Person(
        full_name="Aminu Yusuf", date_of_birth=date(1985, 11, 20), region="Kano"
    )

    asking = Person(full_name="Amina Yusuf", date_of_birth=date(1990, 3, 2), region="lagos")
    found = duplicates.find_duplicates(asking, cases.load, threshold=0.0)

    assert [candidate.keyring_id for candidate in found] == [duplicate, near_miss]
    assert found[0].reasons == ["same date of birth", "same full name", "same region"]
    assert found[0].score > 0.99
    assert found[1].score < duplicates.THRESHOLD


def test_region_most_candidates_share_counts_for_less(cases: Cases) -> None:
    duplicate = cases.add(Person(full_name="Joseph Bamidele"))
    others = [cases.add(Person(full_name=f"Joseph {name}")) for name in ["Ade", "Obi", "Uche"]]
    cases.people[duplicate] = Person(full_name="Joseph Bamidele", region="Ikorodu")
    asking = Person(full_name="Joseph Bamidele", region="Ikorodu")

    def duplicate_score(others_region: str) -> float:
        for other in others:
            cases.people[other] = Person(full_name="Joseph Other", region=others_region)
        found = duplicates.find_duplicates(asking, cases.load)
        assert found[0].keyring_id == duplicate
        assert found[0].reasons == ["same full name", "same region"]
        return found[0].score

    assert duplicate_score("Kano") > duplicate_score("Ikorodu")


def test_threshold_is_respected(cases: Cases) -> None:
    cases.add(Person(full_name="Samuel Mensah", date_of_birth=date(1988, 7, 14)))
    cases.add(Person(full_name="Samuel Mensah"))
    cases.add(Person(full_name="Samuel Owusu", date_of_birth=date(1988, 7, 14)))
    asking = Person(full_name="Samuel Mensah", date_of_birth=date(1988, 7, 14))

    scores = {
        threshold: [
            c.score for c in duplicates.find_duplicates(asking, cases.load, threshold=threshold)
        ]
        for threshold in (0.0, duplicates.THRESHOLD, 0.9, 0.999)
    }

    assert len(scores[0.0]) == 3
    for threshold, kept in scores.items():
        assert all(score >= threshold for score in kept)
        assert kept == sorted(kept, reverse=True)
    assert len(scores[0.999]) == 1
    assert len(scores[0.9]) < len(scores[duplicates.THRESHOLD]) <= len(scores[0.0])


def test_candidates_the_caller_cannot_open_are_left_out(cases: Cases) -> None:
    hidden = cases.add(Person(full_name="Fatima Bello", phones=("+2348031234567",)))
    shown = cases.add(Person(full_name="Fatima Bello", phones=("+2348031234567",)))
    del cases.people[hidden]

    asking = Person(full_name="Fatima Bello", phones=("+2348031234567",))
    found = duplicates.find_duplicates(asking, cases.load)

    assert [candidate.keyring_id for candidate in found] == [shown]


def test_own_keyring_is_excluded(cases: Cases) -> None:
    person = Person(full_name="Kwame Asante", phones=("+2348031234567",))
    own = cases.add(person)

    assert duplicates.find_duplicates(person, cases.load, exclude=own) == []
    assert [c.keyring_id for c in duplicates.find_duplicates(person, cases.load)] == [own]


def test_score_stays_between_zero_and_one() -> None:
    everything = Person(
        full_name="Leila Haddad Karimi",
        date_of_birth=date(2001, 1, 5),
        phones=("+2348031234567",),
        emails=("leila@example.org",),
        region="Beirut",
    )
    nothing_alike = Person(
        full_name="Omar Saleh Nasser",
        date_of_birth=date(1950, 9, 9),
        phones=("+2348069876543",),
        emails=("omar@example.net",),
        region="Tripoli",
    )

    same, reasons = duplicates.score(everything, everything)
    different, no_reasons = duplicates.score(everything, nothing_alike)

    assert 0.999 < same <= 1.0
    assert reasons == [
        "same e-mail",
        "same full name",
        "same phone",
        "same date of birth",
        "same region",
    ]
    assert 0.0 <= different < 0.001
    assert no_reasons == []

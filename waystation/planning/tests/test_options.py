"""Destination options: the fixture's Ugandan passport holder gets the places they can
enter, best first, each rank in words, with the criminalizing ones and stops flagged."""

from datetime import date
from pathlib import Path

import pytest
from django.utils import translation

from waystation.planning import services
from waystation.planning.models import CountryFacts, VisaRequirement
from waystation.planning.options import Option, destination_options

pytestmark = pytest.mark.django_db

SAMPLE = Path(__file__).parent / "data" / "visa_sample.csv"
AS_OF = date(2025, 1, 12)


@pytest.fixture
def visa_data() -> None:
    with SAMPLE.open("rb") as handle:
        services.import_visa_requirements(handle, as_of=AS_OF, source=SAMPLE.name)


def by_destination(passports: list[str], language: str = "en") -> dict[str, Option]:
    return {o.destination: o for o in destination_options(passports, language=language).options}


def test_a_ugandan_passport_ranks_its_destinations_with_reasons(visa_data: None) -> None:
    answer = destination_options(["UG"])
    assert answer.as_of == AS_OF and answer.notes == []
    ranked = [(o.destination, o.score) for o in answer.options]
    # Canada: an ETA, legal, asylum recognized. Kenya: visa free but criminalizing.
    # Never North Korea (no admission) nor Uganda itself.
    assert ranked == [
        ("CA", 90),
        ("RW", 40),
        ("AR", 35),
        ("NA", 35),
        ("ZA", 35),
        ("BR", 25),
        ("XK", 5),
        ("KE", 0),
    ]
    canada = answer.options[0]
    assert canada.name == "Canada" and canada.passport == "UG"
    assert canada.reasons[0] == "Electronic travel authorization with the Uganda passport."
    assert canada.reasons[1].startswith("Same-sex relations are legal (Criminal Law Amendment")
    assert canada.reasons[2].startswith("Asylum on SOGIESC grounds: recognized in practice")
    rwanda = answer.options[1]
    assert rwanda.reasons == [
        "Visa free for 30 days with the Uganda passport.",
        "The law on same-sex relations here is not recorded: check it.",
        "Whether an asylum claim on SOGIESC grounds succeeds here is not recorded.",
    ]
    kenya = answer.options[-1]
    assert kenya.reasons[1].startswith("Same-sex relations are criminalized, up to 14 years")
    assert kenya.warnings == ["Same-sex relations are criminalized here."]
    assert [o.destination for o in answer.options if o.warnings] == ["KE"]


def test_the_best_passport_of_several_is_used(visa_data: None) -> None:
    options = by_destination(["UG", "NA"])
    south_africa = options["ZA"]
    # Namibians enter South Africa visa free for 90 days; Ugandans need a visa.
    assert (south_africa.passport, south_africa.entry, south_africa.days) == (
        "NA",
        VisaRequirement.Entry.VISA_FREE,
        90,
    )
    # Neither passport's own country is a destination.
    assert "UG" not in options and "NA" not in options


def test_a_passport_never_the_best_is_still_known() -> None:
    text = b"Passport,Destination,Requirement\nUG,CA,eta\nKE,CA,visa required\n"
    services.import_visa_requirements(text.splitlines(keepends=True), as_of=AS_OF, source="t")
    answer = destination_options(["UG", "KE"])
    assert answer.notes == []
    assert [(o.destination, o.passport) for o in answer.options] == [("CA", "UG")]


def test_criminalizing_stops_lower_the_rank_and_are_named(visa_data: None) -> None:
    answer = destination_options(["UG"], transit={"CA": ["KE", "NG", "DE"]})
    canada = next(o for o in answer.options if o.destination == "CA")
    assert canada.score == 90 - 15 - 30
    assert canada.warnings == [
        "The route stops in Kenya, which criminalizes same-sex relations: a stop there can "
        "be a trap.",
        "The route stops in Nigeria, which criminalizes same-sex relations: a stop there can "
        "be a trap.",
    ]


def test_no_passport_still_gets_an_answer_that_says_so(visa_data: None) -> None:
    answer = destination_options([])
    assert answer.as_of == AS_OF and answer.options == []
    assert answer.notes[0].startswith("No passport: the visa data covers passports only.")


def test_a_passport_the_data_does_not_know_is_named(visa_data: None) -> None:
    answer = destination_options(["UG", "FR"])
    assert answer.notes == ["The visa data of Jan. 12, 2025 knows nothing of the France passport."]
    assert answer.options


def test_without_visa_data_the_answer_says_so() -> None:
    answer = destination_options(["UG"])
    assert (answer.as_of, answer.options, answer.notes) == (
        None,
        [],
        ["No visa data is imported yet."],
    )


def test_names_and_reasons_are_in_the_readers_language(visa_data: None) -> None:
    CountryFacts.objects.filter(country="KE").update(max_penalty="14 ans")
    with translation.override("fr"):
        options = by_destination(["UG"], language="fr")
    kenya = options["KE"]
    assert kenya.name == "Kenya"
    assert options["ZA"].name == "Afrique du Sud"
    assert kenya.warnings == ["Les relations entre personnes de même sexe sont pénalisées ici."]

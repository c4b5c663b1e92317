"""Destination options: the fixture's Ugandan passport holder gets the places they can
enter, best first, each rank in words, with the criminalizing ones and stops flagged; a
national ID card opens the other members of its regional agreements; and every option
carries a rough cost band from where the person is now."""

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

from waystation.planning import distance, services
from waystation.planning.models import CountryFacts, VisaRequirement
from waystation.planning.options import NATIONAL_ID, Option, destination_options

pytestmark = pytest.mark.django_db

SAMPLE = Path(__file__).parent / "data" / "visa_sample.csv"
AS_OF = date(2025, 1, 12)
Entry = VisaRequirement.Entry
NORTHERN_CORRIDOR = (
    "Entry with the Uganda national ID card under the Northern Corridor arrangement of Kenya, "
    "Rwanda and Uganda (Northern Corridor Integration Projects: national identity cards as "
    "travel documents between Kenya, Rwanda and Uganda, agreed at the Entebbe summit of 25 "
    "June 2013, in use since 1 January 2014, checked Dec. 6, 2026)."
)
NO_ORIGIN = (
    "The rough cost could not be estimated: the country the person is in now is not recorded."
)


@pytest.fixture
def visa_data() -> None:
    with SAMPLE.open("rb") as handle:
        services.import_visa_requirements(handle, as_of=AS_OF, source=SAMPLE.name)


def by_destination(passports: list[str], language: str = "en", **kwargs: Any) -> dict[str, Option]:
    answer = destination_options(passports, language=language, **kwargs)
    return {o.destination: o for o in answer.options}


def test_a_ugandan_passport_ranks_its_destinations_with_reasons(visa_data: None) -> None:
    answer = destination_options(["UG"], origin="UG")
    assert answer.as_of == AS_OF and answer.notes == []
    ranked = [(o.destination, o.score) for o in answer.options]
    # Canada: an ETA, legal, asylum recognized. Kenya: visa free but criminalizing.
    # Never North Korea (no admission) nor Uganda itself.
    # Each score adds its cost band from Uganda (low +10, medium +5, high and unknown 0):
    # Rwanda is near (+10), Namibia a regional flight (+5); South Africa too, but its visa
    # moves it to high. Kenya is near as well, but a cheap trip to a country that
    # criminalizes the person earns nothing: it stays last.
    assert ranked == [
        ("CA", 90),
        ("RW", 50),
        ("NA", 40),
        ("AR", 35),
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
    assert canada.reasons[3] == (
        "Rough cost: high — about 12,600 km from Uganda, a long-haul flight."
    )
    rwanda = answer.options[1]
    assert rwanda.reasons == [
        "Visa free for 30 days with the Uganda passport.",
        "The law on same-sex relations here is not recorded: check it.",
        "Whether an asylum claim on SOGIESC grounds succeeds here is not recorded.",
        "Rough cost: low — about 400 km from Uganda, overland or a short regional flight.",
    ]
    kenya = answer.options[-1]
    assert kenya.destination == "KE"
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


def test_neither_passport_nor_id_card_is_said_in_the_notes(visa_data: None) -> None:
    answer = destination_options([], national_ids=[], origin="UG")
    assert answer.options == []
    assert answer.notes == [
        "No passport: the visa data covers passports only. Routes with a national ID card or "
        "with no document are not listed: check them with a partner.",
        "No national ID card is recorded either.",
    ]


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


def test_a_ugandan_id_card_opens_kenya_and_rwanda(visa_data: None) -> None:
    options = by_destination([], national_ids=["ug"])
    # The Northern Corridor arrangement, and never the card's own country.
    assert sorted(options) == ["KE", "RW"]
    rwanda = options["RW"]
    assert (rwanda.passport, rwanda.entry, rwanda.days) == ("UG", NATIONAL_ID, None)
    assert rwanda.reasons[0] == NORTHERN_CORRIDOR
    # Ranked like visa free: nothing else is known of Rwanda.
    assert rwanda.score == 40
    assert options["KE"].warnings == ["Same-sex relations are criminalized here."]


def test_with_only_an_id_card_the_notes_say_only_id_routes_are_listed(visa_data: None) -> None:
    answer = destination_options([], national_ids=["UG"])
    assert answer.as_of == AS_OF and answer.options
    assert answer.notes == [
        "No passport: the visa data covers passports only, so only the routes open to a "
        "national ID card are listed. Routes with no document are not listed: check them with "
        "a partner."
    ]


def test_an_id_card_beats_a_worse_passport_entry(visa_data: None) -> None:
    # An Argentine card: Brazil under MERCOSUR, where the Ugandan passport needs an e-visa.
    options = by_destination(["UG"], national_ids=["AR"])
    brazil = options["BR"]
    assert (brazil.passport, brazil.entry) == ("AR", NATIONAL_ID)
    assert brazil.reasons[0].startswith(
        "Entry with the Argentina national ID card under the MERCOSUR agreement on travel "
        "documents (Acuerdo sobre Documentos de Viaje"
    )
    assert brazil.score == 40
    # The passport still gives what the card does not reach; the card's country is home.
    assert options["KE"].passport == "UG"
    assert {"PY", "UY", "BO", "CL", "CO", "EC", "PE"} <= set(options)
    assert "AR" not in options and "UG" not in options


def test_a_passport_as_good_as_an_id_card_is_kept(visa_data: None) -> None:
    options = by_destination(["UG"], national_ids=["UG"])
    # Visa free with the passport either way: the tie goes to the passport and its days.
    assert (options["KE"].passport, options["KE"].entry) == ("UG", Entry.VISA_FREE)
    assert (options["RW"].entry, options["RW"].days) == (Entry.VISA_FREE, 30)


def test_id_card_routes_are_listed_without_visa_data() -> None:
    answer = destination_options(["UG"], national_ids=["UG"])
    assert answer.as_of is None
    assert answer.notes == ["No visa data is imported yet."]
    assert [(o.destination, o.entry) for o in answer.options] == [
        ("RW", NATIONAL_ID),
        ("KE", NATIONAL_ID),
    ]


def test_the_cost_band_follows_the_distance_from_where_the_person_is(visa_data: None) -> None:
    options = by_destination(["UG", "NA"], origin="UG")
    kenya, south_africa, canada = options["KE"], options["ZA"], options["CA"]
    # Near, so low; but no cost points where same-sex relations are criminalized.
    assert (kenya.cost, kenya.score) == (distance.LOW, 40 - 40 + 0)
    assert kenya.reasons[-1] == (
        "Rough cost: low — about 500 km from Uganda, overland or a short regional flight."
    )
    # Visa free with the Namibian passport, so the distance alone sets the band.
    assert (south_africa.cost, south_africa.score) == (distance.MEDIUM, 40 + 30 + 5)
    assert south_africa.reasons[-1] == (
        "Rough cost: medium — about 3,000 km from Uganda, a regional flight."
    )
    assert (canada.cost, canada.score) == (distance.HIGH, 90)


def test_a_visa_bought_in_advance_moves_the_cost_one_band_up(visa_data: None) -> None:
    # South Africa needs a visa with the Ugandan passport: from Botswana, next door, that is
    # a medium cost; from Uganda, a regional flight away, a high one.
    from_botswana = by_destination(["UG"], origin="BW")["ZA"]
    assert (from_botswana.cost, from_botswana.score) == (distance.MEDIUM, 5 + 30 + 5)
    assert from_botswana.reasons[-1] == (
        "Rough cost: medium — about 300 km from Botswana, overland or a short regional flight, "
        "plus the visa fee and a visit to an embassy."
    )
    from_uganda = by_destination(["UG"], origin="UG")
    assert from_uganda["ZA"].cost == distance.HIGH
    assert from_uganda["ZA"].reasons[-1] == (
        "Rough cost: high — about 3,000 km from Uganda, a regional flight, plus the visa fee "
        "and a visit to an embassy."
    )
    # Already high: it stays high.
    assert from_uganda["AR"].cost == distance.HIGH
    argentina = from_uganda["AR"].reasons[-1]
    assert argentina.endswith("a long-haul flight, plus the visa fee and a visit to an embassy.")


def test_without_an_origin_the_cost_is_not_estimated(visa_data: None) -> None:
    options = by_destination(["UG"])
    assert {o.cost for o in options.values()} == {""}
    assert {o.reasons[-1] for o in options.values()} == {NO_ORIGIN}
    assert options["RW"].score == 40


def test_a_country_without_a_location_has_no_cost(visa_data: None) -> None:
    kosovo = by_destination(["UG"], origin="UG")["XK"]
    assert (kosovo.cost, kosovo.score) == ("", 5)
    assert kosovo.reasons[-1] == (
        "The rough cost could not be estimated: the planner has no location for Kosovo."
    )
    unknown_origin = by_destination(["UG"], origin="XK")["RW"]
    assert unknown_origin.cost == ""
    assert unknown_origin.reasons[-1].endswith("has no location for Kosovo.")


def test_a_destination_the_person_is_in_already_costs_little(visa_data: None) -> None:
    rwanda = by_destination(["UG"], origin="RW")["RW"]
    assert (rwanda.cost, rwanda.score) == (distance.LOW, 40 + 10)
    assert rwanda.reasons[-1] == "Rough cost: low — the person is in Rwanda already."


def test_a_country_is_the_middle_of_its_zones() -> None:
    points = distance.country_points()
    # Uganda has one zone, Africa/Kampala (+0019+03225).
    assert points["UG"] == pytest.approx((19 / 60, 32 + 25 / 60))
    # Canada's zones run from St. John's to Vancouver and the Arctic: their median lands in
    # Manitoba, not at St. John's, the first one listed.
    latitude, longitude = points["CA"]
    assert 45 < latitude < 60 and -105 < longitude < -85
    assert "XK" not in points
    assert distance.distance_km("UG", "KE") == pytest.approx(520, abs=5)


def test_the_cost_reason_names_the_origin_in_the_readers_language(visa_data: None) -> None:
    with translation.override("fr"):
        options = by_destination(["UG"], language="fr", origin="UG")
    # French words, the French name and French digit grouping.
    assert options["ZA"].reasons[-1] == (
        "Coût approximatif\xa0: élevé — environ 3\xa0000 km depuis le pays de départ "
        "(Ouganda), un vol régional, plus les frais de visa et un passage dans une ambassade."
    )

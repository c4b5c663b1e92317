"""Country facts: every known fact with its source and review date, imported all or
nothing with unmatched names reported, and kept by coordinators."""

from datetime import date, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from waystation.audit.models import AuditEntry
from waystation.planning import facts, services
from waystation.planning.models import FACTS, CountryFacts

pytestmark = pytest.mark.django_db

LEGAL_STATUS = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "legal-status"
REVIEWED = date(2026, 11, 30)
Relations = CountryFacts.Relations


def lines(text: str) -> list[bytes]:
    return text.encode().splitlines(keepends=True)


def refused(text: str | list[bytes], source: str = "ILGA World Database") -> list[str]:
    before = list(CountryFacts.objects.order_by("country").values())
    with pytest.raises(services.ImportRefusedError) as caught:
        services.import_country_facts(
            lines(text) if isinstance(text, str) else text, source=source, reviewed_on=REVIEWED
        )
    assert list(CountryFacts.objects.order_by("country").values()) == before
    return caught.value.problems


def test_the_seed_cites_a_source_and_a_date_for_every_fact_it_holds() -> None:
    seeded = {row.country: row for row in CountryFacts.objects.all()}
    assert seeded["UG"].relations == Relations.DEATH_PENALTY
    assert seeded["KE"].relations == Relations.CRIMINALIZED
    assert seeded["CA"].asylum == CountryFacts.Asylum.RECOGNIZED
    for row in seeded.values():
        for fact, source, reviewed in FACTS:
            if getattr(row, fact):
                assert getattr(row, source) and getattr(row, reviewed), (row.country, fact)


def test_a_known_fact_without_its_source_is_refused_by_the_database() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        CountryFacts.objects.create(country="TZ", relations=Relations.CRIMINALIZED)


def test_names_codes_and_common_names_all_find_their_country() -> None:
    assert facts.country_code("Côte d\u2019Ivoire") == "CI"
    assert facts.country_code("Ivory Coast") == "CI"
    assert facts.country_code("Turkey") == facts.country_code("Türkiye") == "TR"
    assert facts.country_code("Saint Kitts and Nevis") == "KN"
    assert facts.country_code("the Gambia") == "GM"
    assert facts.country_code("UGA") == facts.country_code("ug") == "UG"
    assert facts.country_code("Kosovo") == "XK"
    assert facts.country_code("Canary Islands") is None
    assert facts.closest_name("Botswanna") == "Botswana"


def test_a_file_is_imported_keeping_the_facts_it_leaves_out() -> None:
    text = (
        "Country,same_sex_relations,max_penalty,gender_recognition,safety_notes\n"
        "Tanzania,criminalized,life imprisonment,,\n"
        "Canada,,,available,\n"
    )
    stored = services.import_country_facts(
        lines(text), source="ILGA World Database", reviewed_on=REVIEWED
    )
    assert [row.country for row in stored] == ["TZ", "CA"]
    tanzania = CountryFacts.objects.get(country="TZ")
    assert (tanzania.relations, tanzania.max_penalty) == (
        Relations.CRIMINALIZED,
        "life imprisonment",
    )
    assert (tanzania.relations_source, tanzania.relations_reviewed_on) == (
        "ILGA World Database",
        REVIEWED,
    )
    canada = CountryFacts.objects.get(country="CA")
    # The seeded asylum fact and its source stay; the new one has its own.
    assert canada.asylum == CountryFacts.Asylum.RECOGNIZED
    assert canada.asylum_source.startswith("Immigration and Refugee Board")
    assert (canada.recognition, canada.recognition_reviewed_on) == ("available", REVIEWED)
    entry = AuditEntry.objects.get(action="planning.country_facts.imported")
    assert entry.details == {"countries": 2, "reviewed_on": "2026-11-30"}


def test_every_problem_is_reported_by_its_line_and_nothing_is_stored() -> None:
    text = (
        "Country,Same-sex sexual activity,safety_notes\n"
        "Botswanna,Legal,\n"
        "Canary Islands,Legal,\n"
        "Kenya,sometimes,\n"
        "Ghana,Illegal," + "x" * 4001 + "\n"
        "Uganda,Illegal,\n"
        "UG,death penalty,\n"
    )
    assert refused(text) == [
        "line 2: no country called 'Botswanna' (closest: Botswana)",
        "line 3: no country called 'Canary Islands'",
        "line 4: relations 'sometimes' is not understood",
        "line 5: safety_notes is longer than 4000 characters",
        "line 7: UG again (first on line 6)",
    ]


def test_files_without_the_columns_needed_are_refused() -> None:
    assert refused("Name,same_sex_relations\nKenya,criminalized\n") == [
        "line 1: no country column (country or entity)"
    ]
    assert refused("Entity,Year\nKenya,1930\n") == [
        "line 1: no fact column (same_sex_relations, max_penalty, gender_recognition, "
        "sogiesc_asylum or safety_notes)"
    ]
    assert refused("") == ["line 1: the file is empty"]
    assert refused("Country,same_sex_relations\n") == ["the file holds no countries"]
    assert refused("Country,same_sex_relations\nKenya,criminalized\n", source=" ") == [
        "a source is needed: where the facts come from"
    ]


def test_a_line_in_another_encoding_is_reported() -> None:
    raw = [b"Country,same_sex_relations\n", "Côte d'Ivoire,legal\n".encode("latin-1")]
    assert refused(raw) == ["line 2: not UTF-8 text"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "wikipedia_lgbt_rights_by_country_2024-05-28_PTNS.csv",
            [
                "line 3: no country called 'Canary Islands'",
                "line 4: relations 'Ambiguous' is not understood",
                "line 6: no country called 'Madeira'",
                "line 7: no country called 'Melilla'",
                "line 49: no country called 'Botswanna' (closest: Botswana)",
                "line 95: relations 'Legal except Chechnya' is not understood",
                "line 133: relations 'Ambiguous, somewhat illegal' is not understood",
            ],
        ),
        (
            "owid4910_kenny_patel_year_homosexuality_legal_2020.csv",
            [
                "line 1: no fact column (same_sex_relations, max_penalty, gender_recognition, "
                "sogiesc_asylum or safety_notes)"
            ],
        ),
    ],
)
def test_the_public_legal_status_tables_are_refused_with_their_problems(
    name: str, expected: list[str]
) -> None:
    path = LEGAL_STATUS / name
    if not path.exists():
        pytest.skip(f"{path} is not on this machine")
    with path.open("rb") as handle:
        assert refused(list(handle)) == expected


def test_the_command_imports_and_refuses_clearly(tmp_path: Path) -> None:
    good = tmp_path / "facts.csv"
    good.write_text("country,same_sex_relations\nTZ,criminalized\n")
    out = StringIO()
    call_command(
        "import_country_facts",
        str(good),
        "--source",
        "ILGA",
        "--reviewed-on",
        "2026-11-30",
        stdout=out,
    )
    assert out.getvalue().strip() == "Imported the facts of 1 country from facts.csv."
    with pytest.raises(CommandError, match="--reviewed-on must be a date"):
        call_command("import_country_facts", str(good), "--source", "x", "--reviewed-on", "soon")
    bad = tmp_path / "bad.csv"
    bad.write_text("country,same_sex_relations\nBotswanna,legal\n")
    with pytest.raises(CommandError) as caught:
        call_command(
            "import_country_facts", str(bad), "--source", "x", "--reviewed-on", "2026-11-30"
        )
    assert str(caught.value) == (
        "bad.csv: nothing imported.\nline 2: no country called 'Botswanna' (closest: Botswana)"
    )


def test_coordinators_see_the_facts_by_localized_name(coordinator_client: Client) -> None:
    response = coordinator_client.get("/staff/planning/countries/", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Ouganda" in page and "peine de mort possible" in page


def test_a_known_fact_needs_its_source_and_a_past_date(coordinator_client: Client) -> None:
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = coordinator_client.post(
        "/staff/planning/countries/",
        {
            "country": "TZ",
            "relations": "criminalized",
            "max_penalty": "life imprisonment",
            "asylum": "limited",
            "asylum_source": "UNHCR",
            "asylum_reviewed_on": tomorrow.isoformat(),
        },
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["relations_source"] == ["Say where this fact comes from."]
    assert form.errors["relations_reviewed_on"] == ["Give the date this fact was last checked."]
    assert form.errors["asylum_reviewed_on"] == [
        "The date a fact was checked cannot be in the future."
    ]
    # What was typed is kept.
    assert "life imprisonment" in response.content.decode()
    assert not CountryFacts.objects.filter(country="TZ").exists()


def test_a_coordinator_adds_and_changes_facts_with_an_audit_entry(
    coordinator_client: Client,
) -> None:
    data = {
        "country": "TZ",
        "relations": "criminalized",
        "max_penalty": "life imprisonment",
        "relations_source": "Penal Code (Tanzania), section 154",
        "relations_reviewed_on": "2026-11-30",
    }
    response = coordinator_client.post("/staff/planning/countries/", data)
    assert response.status_code == 302, response.context["form"].errors
    tanzania = CountryFacts.objects.get(country="TZ")
    assert tanzania.max_penalty == "life imprisonment"
    response = coordinator_client.post(
        f"/staff/planning/countries/{tanzania.pk}/",
        {**data, "country": "KE", "max_penalty": "30 years"},
    )
    assert response.status_code == 302
    tanzania.refresh_from_db()
    # The country of a row never changes: the field is shown, not taken.
    assert (tanzania.country, tanzania.max_penalty) == ("TZ", "30 years")
    assert (
        AuditEntry.objects.filter(
            action="planning.country_facts.changed", object_id=tanzania.pk
        ).count()
        == 2
    )


def test_a_second_row_for_a_country_is_refused(coordinator_client: Client) -> None:
    response = coordinator_client.post("/staff/planning/countries/", {"country": "UG"})
    assert response.status_code == 400
    assert "country" in response.context["form"].errors


def test_the_list_costs_the_same_for_many_countries(
    coordinator_client: Client, django_assert_max_num_queries: Any
) -> None:
    with CaptureQueriesContext(connection) as few:
        coordinator_client.get("/staff/planning/countries/")
    for code in ("TZ", "RW", "BI", "MW", "ZM"):
        services.save_country_facts(CountryFacts(country=code), by=None)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = coordinator_client.get("/staff/planning/countries/")
    assert len(response.context["rows"]) == CountryFacts.objects.count()

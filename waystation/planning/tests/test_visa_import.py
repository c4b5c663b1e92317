"""Importing entry requirements by passport: all of a file or nothing, and every problem
reported by its line."""

from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from waystation.audit.models import AuditEntry
from waystation.planning import services, visa
from waystation.planning.models import VisaDataset, VisaRequirement

pytestmark = pytest.mark.django_db

SAMPLE = Path(__file__).parent / "data" / "visa_sample.csv"
SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "visa"
AS_OF = date(2025, 1, 12)
Entry = VisaRequirement.Entry


def lines(text: str) -> list[bytes]:
    return text.encode().splitlines(keepends=True)


def refused(text: str | list[bytes]) -> list[str]:
    with pytest.raises(services.ImportRefusedError) as caught:
        services.import_visa_requirements(
            lines(text) if isinstance(text, str) else text, as_of=AS_OF, source="test.csv"
        )
    assert not VisaDataset.objects.exists()
    assert not VisaRequirement.objects.exists()
    return caught.value.problems


def test_a_file_is_imported_with_its_date_and_an_audit_entry() -> None:
    with SAMPLE.open("rb") as handle:
        dataset = services.import_visa_requirements(handle, as_of=AS_OF, source=SAMPLE.name)
    assert (dataset.as_of, dataset.source, dataset.pairs) == (AS_OF, "visa_sample.csv", 13)
    found = {
        (r.passport, r.destination): (r.entry, r.days)
        for r in VisaRequirement.objects.filter(dataset=dataset)
    }
    assert found[("UG", "KE")] == (Entry.VISA_FREE, None)
    assert found[("UG", "RW")] == (Entry.VISA_FREE, 30)
    assert found[("UG", "UG")] == (Entry.OWN_COUNTRY, None)
    assert found[("UG", "CA")] == (Entry.ETA, None)
    assert found[("UG", "KP")] == (Entry.NO_ADMISSION, None)
    # Namibia's code is no missing value, and Kosovo's user-assigned code is a country.
    assert found[("NA", "ZA")] == (Entry.VISA_FREE, 90)
    assert found[("UG", "NA")] == (Entry.VISA_ON_ARRIVAL, None)
    assert found[("XK", "AL")] == (Entry.VISA_FREE, 90)
    entry = AuditEntry.objects.get(action="planning.visa_dataset.imported")
    assert entry.details == {"as_of": "2025-01-12", "pairs": 13, "replaced": False}


def test_alpha_3_codes_are_stored_as_alpha_2() -> None:
    text = "Passport,Destination,Requirement\nUGA,KEN,visa free\nNAM,ZAF,90\nXKX,ALB,90\n"
    services.import_visa_requirements(lines(text), as_of=AS_OF, source="iso3.csv")
    assert sorted(VisaRequirement.objects.values_list("passport", "destination")) == [
        ("NA", "ZA"),
        ("UG", "KE"),
        ("XK", "AL"),
    ]


def test_headers_and_requirements_are_read_whatever_their_case_and_spacing() -> None:
    text = "\ufeffpassport, Destination ,REQUIREMENT\nug,ke,  Visa   Free \n"
    services.import_visa_requirements(lines(text), as_of=AS_OF, source="loose.csv")
    assert VisaRequirement.objects.get().entry == Entry.VISA_FREE


def test_wrong_columns_are_refused() -> None:
    assert refused("Passport,Destination\nUG,KE\n") == [
        "line 1: expected the columns Passport,Destination,Requirement; found Passport,Destination"
    ]


def test_every_problem_is_reported_by_its_line_and_nothing_is_stored() -> None:
    text = (
        "Passport,Destination,Requirement\n"
        "UG,KE,visa free\n"
        "UG,ZZ,visa free\n"
        "QQQ,KE,30\n"
        "UG,RW,sometimes\n"
        "UG,RW,0\n"
        "UG,TZ\n"
        "UG,KE,visa required\n"
    )
    assert refused(text) == [
        "line 3: unknown destination country code 'ZZ'",
        "line 4: unknown passport country code 'QQQ'",
        "line 5: unknown requirement 'sometimes'",
        "line 6: unknown requirement '0'",
        "line 7: expected 3 fields, found 2",
        "line 8: UG to KE again (first on line 2)",
    ]


def test_a_line_in_another_encoding_is_reported_and_later_lines_keep_their_numbers() -> None:
    raw = [
        b"Passport,Destination,Requirement\n",
        "UG,CI,visa required # Côte d'Ivoire\n".encode("latin-1"),
        b"UG,ZZ,visa free\n",
    ]
    assert refused(raw) == [
        "line 2: not UTF-8 text",
        "line 3: unknown destination country code 'ZZ'",
    ]


def test_an_empty_file_or_one_without_pairs_is_refused() -> None:
    assert refused("") == ["line 1: the file is empty"]
    assert refused("Passport,Destination,Requirement\n\n") == ["the file holds no pairs"]


def test_a_date_imported_already_is_refused_unless_replaced() -> None:
    first = "Passport,Destination,Requirement\nUG,KE,visa free\n"
    services.import_visa_requirements(lines(first), as_of=AS_OF, source="a.csv")
    with pytest.raises(services.ImportRefusedError, match="as of 2025-01-12 is imported already"):
        services.import_visa_requirements(lines(first), as_of=AS_OF, source="b.csv")
    second = "Passport,Destination,Requirement\nUG,KE,visa required\nUG,RW,30\n"
    dataset = services.import_visa_requirements(
        lines(second), as_of=AS_OF, source="b.csv", replace=True
    )
    assert VisaDataset.objects.get() == dataset and dataset.pairs == 2
    assert VisaRequirement.objects.get(destination="KE").entry == Entry.VISA_REQUIRED


def test_a_long_report_lists_the_first_problems_and_counts_the_rest() -> None:
    problems = [f"line {n}: unknown requirement 'x'" for n in range(2, 102)]
    text = visa.report(problems)
    assert text.splitlines()[:2] == problems[:2]
    assert text.splitlines()[-1] == "… and 50 more"


def test_the_command_imports_and_says_how_much() -> None:
    out = StringIO()
    call_command("import_visa_requirements", str(SAMPLE), "--as-of", "2025-01-12", stdout=out)
    assert out.getvalue().strip() == (
        "Imported 13 passport and destination pairs as of 2025-01-12 from visa_sample.csv."
    )


def test_the_command_refuses_bad_input_clearly(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="--as-of must be a date as YYYY-MM-DD"):
        call_command("import_visa_requirements", str(SAMPLE), "--as-of", "12/01/2025")
    with pytest.raises(CommandError, match="cannot read"):
        call_command(
            "import_visa_requirements", str(tmp_path / "none.csv"), "--as-of", "2025-01-12"
        )
    bad = tmp_path / "bad.csv"
    bad.write_text("Passport,Destination,Requirement\nUG,ZZ,visa free\n")
    with pytest.raises(CommandError) as caught:
        call_command("import_visa_requirements", str(bad), "--as-of", "2025-01-12")
    assert str(caught.value) == (
        "bad.csv: nothing imported.\nline 2: unknown destination country code 'ZZ'"
    )
    assert not VisaDataset.objects.exists()


@pytest.mark.parametrize("name", ["passport-index-tidy-iso2.csv", "passport-index-tidy-iso3.csv"])
def test_the_full_public_file_imports(name: str) -> None:
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"{path} is not on this machine")
    with path.open("rb") as handle:
        dataset = services.import_visa_requirements(handle, as_of=AS_OF, source=name)
    assert dataset.pairs == 39_601
    stored = VisaRequirement.objects.filter(dataset=dataset)
    assert stored.filter(passport="NA").count() == 199
    assert stored.filter(destination="XK").exists()
    assert stored.filter(entry=Entry.OWN_COUNTRY).count() == 199

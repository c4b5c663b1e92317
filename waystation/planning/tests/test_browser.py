"""In a real browser, a caseworker plans a verified case: records a passport, chooses a
pathway, ranks the destinations with a stop on the route, and downloads the dossier
encrypted to a passphrase; every page passes the accessibility checks and asks nothing of
another site."""

import io
from datetime import date
from pathlib import Path

import pytest
from pypdf import PasswordType, PdfReader

from conftest import NEEDS_CHROMIUM
from waystation.accounts.models import Team
from waystation.intake.tests import axe
from waystation.planning import services
from waystation.planning.models import CountryFacts, Milestone, TemplateStep, TravelDocument
from waystation.verification.tests.test_browser_journey import _staff_page, _submit

from .conftest import member, verified_case

pytestmark = [*NEEDS_CHROMIUM, pytest.mark.usefixtures("vault_storage")]

SAMPLE = Path(__file__).parent / "data" / "visa_sample.csv"
PASSPHRASE = "fern-7kq2-m9xd-04fz-hn3w"
LAWYER = "Find a lawyer at the destination"


@pytest.mark.django_db(transaction=True)
def test_a_caseworker_plans_a_route_and_exports_the_dossier(  # type: ignore[no-untyped-def]
    live_server, browser, intake_team: Team, caseworkers: Team
) -> None:
    axe_source = axe.source()
    with SAMPLE.open("rb") as handle:
        services.import_visa_requirements(handle, as_of=date(2025, 1, 12), source="sample")
    # A test with a live server empties the tables after it: what the migrations seeded
    # (facts, templates) may be gone, so this test writes what it reads.
    checked = {"relations_source": "a test source", "relations_reviewed_on": date(2026, 1, 5)}
    CountryFacts.objects.update_or_create(
        country="KE", defaults={"relations": "criminalized", **checked}
    )
    CountryFacts.objects.update_or_create(
        country="CA",
        defaults={
            "relations": "legal",
            "asylum": "recognized",
            "asylum_source": "a test source",
            "asylum_reviewed_on": date(2026, 1, 5),
            **checked,
        },
    )
    TemplateStep.objects.filter(pathway="inland_asylum").delete()
    TemplateStep.objects.create(pathway="inland_asylum", owner="caseworker", days=14, title=LAWYER)
    case = verified_case(intake_team, caseworkers, name="Amani Okello", country="UG")
    base = live_server.url.replace("127.0.0.1", "localhost")
    page, outside = _staff_page(browser, base, member(caseworkers))
    found = {}

    page.goto(f"{base}/staff/cases/{case.pk}/")
    page.click(f"a[href='/staff/planning/cases/{case.pk}/']")
    page.wait_for_url(f"{base}/staff/planning/cases/{case.pk}/")
    form = f"form[action='/staff/planning/cases/{case.pk}/documents/']"
    page.select_option(f"{form} select[name=kind]", "passport")
    page.select_option(f"{form} select[name=status]", "held")
    page.select_option(f"{form} select[name=country]", "UG")
    page.fill(f"{form} input[name=number]", "B7654321")
    page.fill(f"{form} input[name=expires_on]", "2031-05-01")
    _submit(page, form)
    assert "The document is recorded." in page.content() and "B7654321" in page.content()
    assert TravelDocument.objects.filter(case=case).count() == 1

    form = f"form[action='/staff/planning/cases/{case.pk}/pathway/']"
    page.select_option(f"{form} select[name=pathway]", "inland_asylum")
    page.select_option(f"{form} select[name=destination]", "CA")
    _submit(page, form)
    assert Milestone.objects.filter(case=case).count() > 0
    assert LAWYER in page.content()
    found["plan"] = axe.blocking_violations(page, axe_source)

    page.click(f"a[href='/staff/planning/cases/{case.pk}/options/']")
    page.wait_for_url(f"{base}/staff/planning/cases/{case.pk}/options/")
    page.select_option("select[name='route-0-destination']", "CA")
    page.select_option("select[name='route-0-stops']", ["KE"])
    _submit(page, f"form[action='/staff/planning/cases/{case.pk}/options/']")
    text = page.content()
    assert text.index("Canada") < text.index("Kenya")
    assert "The route stops in Kenya, which criminalizes same-sex relations" in text
    found["options"] = axe.blocking_violations(page, axe_source)

    page.goto(f"{base}/staff/planning/cases/{case.pk}/dossier/")
    found["dossier"] = axe.blocking_violations(page, axe_source)
    page.fill("input[name=passphrase]", PASSPHRASE)
    page.fill("input[name=passphrase_again]", PASSPHRASE)
    with page.expect_download() as downloading:
        page.click(f"form[action='/staff/planning/cases/{case.pk}/dossier/export/'] button")
    download = downloading.value
    assert download.suggested_filename == f"dossier-{case.reference}.pdf"
    reader = PdfReader(io.BytesIO(Path(download.path()).read_bytes()))
    assert reader.is_encrypted and reader.decrypt(PASSPHRASE) != PasswordType.NOT_DECRYPTED
    assert "Amani Okello" in reader.pages[0].extract_text()

    assert not any(found.values()), axe.describe(found)
    assert outside == []

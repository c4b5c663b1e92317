"""Country pages for the person asking for help: the facts coordinators keep, in the
person's language, without an account or JavaScript."""

import pytest
from django.test import Client

from waystation.planning.models import CountryFacts

pytestmark = pytest.mark.django_db


def test_the_list_names_the_countries_in_the_persons_language(client: Client) -> None:
    response = client.get("/countries/", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="fr"' in page
    assert '<a href="/countries/ug/">Ouganda</a>' in page
    assert "Lois dans certains pays" in page


def test_a_country_page_shows_its_facts_with_sources(client: Client) -> None:
    response = client.get("/countries/ke/", HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Kenya</h1>" in page
    assert "Criminalized. Maximum penalty: 14 years" in page
    assert "Source: Penal Code (Cap. 63, Kenya), sections 162 to 165." in page
    # What is not known says so; no script is needed to read any of it.
    assert page.count("We do not know yet.") == 2
    assert 'id="quick-exit"' in page


def test_a_country_page_is_in_the_persons_language_right_to_left_too(client: Client) -> None:
    page = client.get("/countries/ug/", HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert 'dir="rtl"' in page
    assert "أوغندا" in page
    assert "عقوبة الإعدام ممكنة" in page


@pytest.mark.parametrize("path", ["/countries/zz/", "/countries/tz/", "/countries/ugx/"])
def test_a_country_without_facts_or_no_country_is_not_found(client: Client, path: str) -> None:
    assert not CountryFacts.objects.filter(country="TZ").exists()
    assert client.get(path).status_code == 404


def test_the_home_page_points_to_the_country_pages(client: Client) -> None:
    assert 'href="/countries/"' in client.get("/").content.decode()

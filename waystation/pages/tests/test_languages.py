"""Ten languages, complete catalogs, right-to-left where the script needs it."""

import pytest
from babel.messages.mofile import read_mo
from django.conf import settings
from django.test import Client

from conftest import make_user, sign_in
from waystation.accounts.models import Role
from waystation.lib.catalogs import all_gaps, catalogs, load

REQUIRED = {"en", "es", "fr", "ar", "fa", "ru", "pt", "tr", "sw", "uk"}


def test_all_ten_languages_are_offered() -> None:
    assert {code for code, _ in settings.LANGUAGES} == REQUIRED
    assert set(catalogs()) == REQUIRED


def test_catalogs_are_complete() -> None:
    gaps = all_gaps()
    assert gaps == [], "\n".join(f"{g.language}: {g.problem}: {g.msgid}" for g in gaps[:20])


def _key(value: object) -> object:
    return value if isinstance(value, str) else tuple(value)  # type: ignore[arg-type]


def test_compiled_catalogs_match_their_sources() -> None:
    for language, path in catalogs().items():
        with path.with_suffix(".mo").open("rb") as handle:
            # Keyed by context too: "Fund" the decision and "Fund" the noun differ.
            compiled = {(m.context, _key(m.id)): _key(m.string) for m in read_mo(handle) if m.id}
        source = {
            (m.context, _key(m.id)): _key(m.string)
            for m in load(path)
            if m.id and not m.fuzzy and any(_key(m.string))
        }
        stale = {key for key, text in source.items() if compiled.get(key) != text}
        # Babel also writes untranslated plural entries of the source language as themselves.
        extra = {key for key in set(compiled) - set(source) if compiled[key] != key[1]}
        assert not stale and not extra, f"{language}: run `make messages` to recompile"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "direction"), [("ar", "rtl"), ("fa", "rtl"), ("ru", "ltr"), ("sw", "ltr")]
)
def test_pages_set_language_and_direction(client: Client, language: str, direction: str) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    for url in ("/", "/staff/sign-in/"):
        content = client.get(url).content.decode()
        assert f'<html lang="{language}" dir="{direction}">' in content


@pytest.mark.django_db
def test_browser_language_is_used(client: Client) -> None:
    content = client.get(
        "/staff/sign-in/", HTTP_ACCEPT_LANGUAGE="es;q=1, en;q=0.5"
    ).content.decode()
    assert '<html lang="es"' in content and "Sign in</h1>" not in content


@pytest.mark.django_db
def test_language_switcher_keeps_the_page(client: Client) -> None:
    response = client.post("/i18n/language/", {"language": "fa", "next": "/staff/sign-in/"})
    assert response["Location"] == "/staff/sign-in/"
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "fa" and not cookie["max-age"] and cookie["samesite"] == "Strict"
    assert 'dir="rtl"' in client.get("/staff/sign-in/").content.decode()


@pytest.mark.django_db
def test_staff_pages_are_translated(client: Client) -> None:
    sign_in(client, make_user(Role.COORDINATOR))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"
    content = client.get("/staff/").content.decode()
    assert "Lock me out now" not in content and "Sign out" not in content

"""Blind indexes: spellings of one value meet, nothing but the allowed kinds is indexed,
tokens are keyed, rotation needs no plaintext, and shredded keyrings stay out of matches."""

import hashlib
import hmac
import io

import pytest
from django.core.management import call_command
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from pytest_django.fixtures import DjangoAssertNumQueries, Settings

from waystation.vault import crypto
from waystation.vault.blind import (
    blind_token,
    find_matches,
    forget_keyring,
    index_keyring,
    name_words,
    normalize_email,
    normalize_phone,
    rotate_tokens,
    tokens_for,
    unreachable_token_count,
)
from waystation.vault.models import BlindIndexToken, Keyring

pytestmark = pytest.mark.django_db

OLD_KEY = "old-blind-index-key-0123456789abcdef0123456789"
NEW_KEY = "new-blind-index-key-fedcba9876543210fedcba9876"
NEWEST_KEY = "newest-blind-index-key-5a4b3c2d1e0f5a4b3c2d1e0f"


@pytest.fixture
def keyring() -> Keyring:
    return Keyring.objects.create()


@pytest.fixture
def other_keyring() -> Keyring:
    return Keyring.objects.create()


def _mac(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()[:32]


# --- Normalization -------------------------------------------------------------------------


def test_cyrillic_and_latin_spellings_meet(keyring: Keyring) -> None:
    index_keyring(keyring, names=["Алексей Смирнов"])
    # "smirnov" matches as a word; the full names differ ("aleksei" is not "alexey").
    assert find_matches(names=["Alexey Smirnov"]) == {keyring.id: {"name", "name_sound"}}
    # "aleksei" and "aleksey" are different words with one sound.
    assert find_matches(names=["Aleksei"]) == {keyring.id: {"name_sound"}}


def test_arabic_and_latin_names_meet_by_sound(keyring: Keyring) -> None:
    # anyascii writes محمد without vowels ("mhmd"); its Metaphone code is Mohammed's.
    index_keyring(keyring, names=["محمد"])
    assert find_matches(names=["Mohammed"]) == {keyring.id: {"name_sound"}}
    assert find_matches(names=["Muhammad"]) == {keyring.id: {"name_sound"}}


def test_phone_formats_meet(keyring: Keyring) -> None:
    index_keyring(keyring, phones=["+234 803 123 4567"])
    assert find_matches(phones=["08031234567"], region="NG") == {keyring.id: {"phone"}}
    assert find_matches(phones=["0803-123-4567"], region="ng") == {keyring.id: {"phone"}}
    assert normalize_phone("+234 (0)803 123 4567") == "+2348031234567"


def test_phone_without_plus_needs_region() -> None:
    assert normalize_phone("08031234567") is None
    # The region only reads numbers without "+": an international number keeps its own.
    assert normalize_phone("+1 202 555 0143", "NG") == normalize_phone("+12025550143")


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("  Person@Example.ORG ", "person@example.org"),
        ("Ana.Silva+refuge@GoogleMail.com", "anasilva@gmail.com"),
        ("a.n.a.silva@gmail.com", "anasilva@gmail.com"),
        # Elsewhere dots and "+" belong to the mailbox and may tell two people apart.
        ("ana.silva+x@example.org", "ana.silva+x@example.org"),
        ("user@example.org.", "user@example.org"),
    ],
)
def test_email_is_normalized(raw: str, normalized: str) -> None:
    assert normalize_email(raw) == normalized


def test_gmail_variants_meet(keyring: Keyring) -> None:
    index_keyring(keyring, emails=["ana.silva@gmail.com"])
    assert find_matches(emails=["AnaSilva+shelter@googlemail.com"]) == {keyring.id: {"email"}}
    assert find_matches(emails=["anasilva@example.org"]) == {}


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("O'Brien", {"obrien"}),
        ("Jean-Pierre  Dupont", {"jean", "pierre", "dupont"}),
        ("J. R. R. Tolkien", {"tolkien"}),
        ("José Núñez", {"jose", "nunez"}),
        ("Anna anna ANNA", {"anna"}),
        ("ʿAlī", {"ali"}),
    ],
)
def test_name_is_split_into_latin_words(raw: str, words: set[str]) -> None:
    assert name_words(raw) == words


def test_each_distinct_word_gives_a_name_and_a_sound_token() -> None:
    kinds = sorted(kind for kind, _ in tokens_for(names=["Anna Maria", "anna"]))
    assert kinds == ["full_name", "name", "name", "name_sound", "name_sound"]


def test_full_name_token_ignores_word_order_and_needs_two_words() -> None:
    def full(name: str) -> set[str]:
        return {token for kind, token in tokens_for(names=[name]) if kind == "full_name"}

    assert full("Okafor Anna") == full("anna OKAFOR") != set()
    assert full("Anna") == set()
    assert full("Anna Okafor") != full("Anna Mensah")


@pytest.mark.parametrize(
    "values",
    [
        {"phones": ["", "   ", "123", "not a phone", "08031234567", "+999 1", "+234 1"]},
        {"phones": ["08031234567"], "region": "XX"},
        {"phones": ["9" * 300], "region": "NG"},
        {"emails": ["", "no-at-sign", "@example.org", "user@", "two words@example.org"]},
        {"emails": ["+shelter@gmail.com", "...@gmail.com"]},
        {"names": ["", "a", "- . '", "1984", "J. K."]},
    ],
)
def test_invalid_values_give_no_tokens_and_no_error(values: dict[str, object]) -> None:
    assert tokens_for(**values) == set()  # type: ignore[arg-type]


@given(text=st.text(), region=st.one_of(st.none(), st.text(max_size=4)))
def test_normalization_never_raises(text: str, region: str | None) -> None:
    normalize_phone(text, region)
    normalize_email(text)
    name_words(text)
    pairs = tokens_for(phones=[text], emails=[text], names=[text], region=region)
    assert all(len(token) == 32 for _, token in pairs)


# --- Kinds and keys ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["address", "Phone", "phone ", "", "notes"])
def test_unknown_kind_is_rejected(kind: str) -> None:
    with pytest.raises(ValueError, match="not an indexed kind"):
        blind_token(kind, "value")


def test_single_string_instead_of_a_list_is_rejected() -> None:
    with pytest.raises(TypeError, match="phones must be a collection"):
        tokens_for(phones="+2348031234567")


def test_token_is_keyed_not_a_plain_hash() -> None:
    value = "person@example.org"
    token = blind_token("email", value)
    assert len(token) == 32 and token == token.lower()
    int(token, 16)
    for plain in (value, f"email:{value}"):
        assert token != plain
        assert token != hashlib.sha256(plain.encode()).hexdigest()[:32]
        assert token not in hashlib.sha256(plain.encode()).hexdigest()


def test_default_key_is_derived_from_secret_key(settings: Settings) -> None:
    settings.BLIND_INDEX_KEYS = []
    key = crypto.derive_key(settings.SECRET_KEY.encode(), purpose=b"waystation blind index v1")
    assert blind_token("phone", "+2348031234567") == _mac(key, "phone:+2348031234567")


def test_different_keys_give_different_tokens(settings: Settings) -> None:
    settings.BLIND_INDEX_KEYS = []
    derived = blind_token("name", "anna")
    settings.BLIND_INDEX_KEYS = [OLD_KEY]
    old = blind_token("name", "anna")
    settings.BLIND_INDEX_KEYS = [NEW_KEY]
    new = blind_token("name", "anna")
    assert len({derived, old, new}) == 3


def test_kind_is_part_of_the_token() -> None:
    assert blind_token("name", "mhmt") != blind_token("name_sound", "mhmt")


def test_newer_key_versions_chain_over_older_tokens(settings: Settings) -> None:
    settings.BLIND_INDEX_KEYS = [NEW_KEY, OLD_KEY]
    first = _mac(OLD_KEY.encode(), "name:anna")
    assert blind_token("name", "anna") == _mac(NEW_KEY.encode(), first)


# --- Storage, lookup and rotation ----------------------------------------------------------


def test_indexing_replaces_the_keyrings_tokens(keyring: Keyring) -> None:
    assert index_keyring(keyring, phones=["+2348031234567"], names=["Anna"]) == 3
    assert index_keyring(keyring, emails=["anna@example.org"]) == 1
    assert list(keyring.blind_tokens.values_list("kind", flat=True)) == ["email"]
    assert find_matches(phones=["+2348031234567"]) == {}


def test_stored_rows_hold_no_plain_value(keyring: Keyring) -> None:
    index_keyring(keyring, phones=["+2348031234567"], emails=["anna@example.org"], names=["Anna"])
    stored = " ".join(keyring.blind_tokens.values_list("token", flat=True))
    for plain in ("2348031234567", "anna", "example", "AN"):
        assert plain.lower() not in stored


def test_matches_name_every_matching_kind(keyring: Keyring, other_keyring: Keyring) -> None:
    index_keyring(keyring, phones=["+2348031234567"], names=["Anna Okafor"])
    index_keyring(other_keyring, names=["Ana Okafor"])
    matches = find_matches(phones=["08031234567"], names=["Anna Okafor"], region="NG")
    assert matches == {
        keyring.id: {"phone", "name", "name_sound", "full_name"},
        other_keyring.id: {"name", "name_sound"},
    }


def test_exclude_leaves_the_keyring_out(keyring: Keyring, other_keyring: Keyring) -> None:
    index_keyring(keyring, names=["Anna"])
    index_keyring(other_keyring, names=["Anna"])
    assert set(find_matches(names=["Anna"], exclude=keyring.id)) == {other_keyring.id}


def test_shredded_keyring_is_not_matched(keyring: Keyring, other_keyring: Keyring) -> None:
    index_keyring(keyring, names=["Anna"])
    index_keyring(other_keyring, names=["Anna"])
    Keyring.objects.filter(pk=keyring.pk).update(shredded_at=timezone.now())
    assert set(find_matches(names=["Anna"])) == {other_keyring.id}


def test_shredded_keyring_cannot_be_indexed(keyring: Keyring) -> None:
    # Shredded in the database while the caller still holds the old instance.
    Keyring.objects.filter(pk=keyring.pk).update(shredded_at=timezone.now())
    with pytest.raises(ValueError, match="shredded"):
        index_keyring(keyring, names=["Anna"])
    assert not BlindIndexToken.objects.exists()


def test_forgetting_a_keyring_deletes_its_tokens(keyring: Keyring, other_keyring: Keyring) -> None:
    index_keyring(keyring, phones=["+2348031234567"], names=["Anna"])
    index_keyring(other_keyring, names=["Anna"])
    assert forget_keyring(keyring) == 3
    assert not keyring.blind_tokens.exists()
    assert other_keyring.blind_tokens.count() == 2


def test_find_matches_is_one_query(
    keyring: Keyring, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    index_keyring(keyring, phones=["+2348031234567"], names=["Anna Okafor"])
    phones = [f"+23480312345{n:02d}" for n in range(30)]
    emails = [f"person{n}@example.org" for n in range(30)]
    names = [f"Anna Okafor Name{chr(97 + n)}" for n in range(26)]
    with django_assert_max_num_queries(1):
        matches = find_matches(phones=phones, emails=emails, names=names, exclude=keyring.id)
    assert matches == {}


def test_nothing_to_look_up_makes_no_query(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    with django_assert_num_queries(0):
        assert find_matches(phones=["not a phone"], names=["a"]) == {}


def test_rotation_moves_tokens_without_plaintext(
    settings: Settings, keyring: Keyring, other_keyring: Keyring
) -> None:
    settings.BLIND_INDEX_KEYS = [OLD_KEY]
    index_keyring(keyring, phones=["+2348031234567"], names=["Алексей"])
    index_keyring(other_keyring, emails=["anna@example.org"])
    settings.BLIND_INDEX_KEYS = [NEW_KEY, OLD_KEY]
    # Lookups compute the newest version only: old rows are out of reach until rotated.
    assert find_matches(names=["Aleksey"]) == {}

    assert rotate_tokens(batch_size=2) == 4
    assert set(BlindIndexToken.objects.values_list("key_version", flat=True)) == {2}
    assert find_matches(phones=["08031234567"], names=["Alexey"], region="NG") == {
        keyring.id: {"phone", "name_sound"}
    }
    assert find_matches(emails=["Anna@Example.org"]) == {other_keyring.id: {"email"}}
    assert rotate_tokens() == 0


def test_rotation_over_several_keys_matches_fresh_indexing(
    settings: Settings, keyring: Keyring, other_keyring: Keyring
) -> None:
    settings.BLIND_INDEX_KEYS = [OLD_KEY]
    index_keyring(keyring, names=["Anna Okafor"])
    settings.BLIND_INDEX_KEYS = [NEW_KEY, OLD_KEY]
    index_keyring(other_keyring, names=["Anna Okafor"])
    settings.BLIND_INDEX_KEYS = [NEWEST_KEY, NEW_KEY, OLD_KEY]

    assert rotate_tokens() == 10  # two keyrings: 2 words, 2 sounds, 1 full name
    rotated = set(keyring.blind_tokens.values_list("kind", "token", "key_version"))
    fresh = set(other_keyring.blind_tokens.values_list("kind", "token", "key_version"))
    assert rotated == fresh
    assert {version for _, _, version in rotated} == {3}
    assert set(find_matches(names=["Anna"])) == {keyring.id, other_keyring.id}


def test_rotate_command_prints_a_summary(settings: Settings, keyring: Keyring) -> None:
    settings.BLIND_INDEX_KEYS = [OLD_KEY]
    index_keyring(keyring, names=["Anna"])
    settings.BLIND_INDEX_KEYS = [NEW_KEY, OLD_KEY]
    out = io.StringIO()
    call_command("rotate_blind_index", stdout=out)
    assert out.getvalue().strip() == "Moved 2 blind-index tokens to key version 2."


def test_removed_key_is_reported(settings: Settings, keyring: Keyring) -> None:
    settings.BLIND_INDEX_KEYS = [NEW_KEY, OLD_KEY]
    index_keyring(keyring, names=["Anna"])
    settings.BLIND_INDEX_KEYS = [NEW_KEY]
    assert unreachable_token_count() == 2
    err = io.StringIO()
    call_command("rotate_blind_index", stdout=io.StringIO(), stderr=err)
    assert "a key was removed" in err.getvalue()

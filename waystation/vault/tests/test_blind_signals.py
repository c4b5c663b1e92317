"""Blind-index tokens for the fraud signals: evidence files by a keyed SHA-256, narratives by
the bands of a keyed MinHash. Near-identical texts share bands, unrelated ones do not, and
nothing is computable without the key."""

import hashlib

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from pytest_django.fixtures import Settings

from waystation.vault import blind
from waystation.vault.models import BlindIndexToken, Keyring

pytestmark = pytest.mark.django_db

OLD_KEY = "old-blind-index-key-0123456789abcdef0123456789"
NEW_KEY = "new-blind-index-key-fedcba9876543210fedcba9876"

STORY = (
    "My family found out that I am gay after my brother read the messages on my phone. "
    "My father beat me and said he would kill me if I stayed in the house. I left at night "
    "and now I sleep at a friend's place, but his neighbours are asking questions. The "
    "police in our town arrested two men last month for the same thing and they are still "
    "in prison."
)
# Near-identical: a few words changed, sentences reordered, spelling and case changed.
NEAR = {
    "words changed": STORY.replace("brother", "cousin")
    .replace("last month", "in May")
    .replace("two men", "three men"),
    "sentences reordered": (
        "My father beat me and said he would kill me if I stayed in the house. The police in "
        "our town arrested two men last month for the same thing and they are still in "
        "prison. My family found out that I am gay after my brother read the messages on my "
        "phone. I left at night and now I sleep at a friend's place, but his neighbours are "
        "asking questions."
    ),
    "case and punctuation": STORY.upper().replace(".", "!").replace(",", " -"),
}
# Unrelated requests on the same subject, some with the same common phrases.
UNRELATED = [
    "I am a transgender woman living in Kampala. Since the new law passed, my landlord "
    "evicted me and my name and photo were shared in a group calling for people like me to "
    "be reported. Two days ago men followed me from the market and threatened to burn my "
    "room. I cannot go to the police because they would arrest me.",
    "My family found out that I am gay and my parents want me to marry a woman I do not know "
    "in two weeks. My uncle says a marriage will cure me. I am writing from the phone of a "
    "cousin who is helping me. I have my passport but no money to leave the country.",
    "Someone made a fake profile on a dating app and invited me to meet. Five men were "
    "waiting, they filmed me and robbed me, and they say they will send the video to my "
    "family and to the police unless I pay every month. I already paid twice.",
]


def _shared(first: str, second: str) -> int:
    return len(blind.narrative_tokens(first) & blind.narrative_tokens(second))


# --- Narratives ----------------------------------------------------------------------------


def test_a_narrative_gives_a_token_per_band_of_the_narrative_kind() -> None:
    tokens = blind.narrative_tokens(STORY)
    assert len(tokens) == blind.NARRATIVE_BANDS
    for kind, token in tokens:
        assert kind == "narrative" and len(token) == 32
        int(token, 16)


def test_a_few_words_are_not_enough_for_tokens() -> None:
    short = "Please help, I am gay and my family wants me dead"
    assert len(blind.narrative_words(short)) == blind.NARRATIVE_MIN_WORDS - 1
    assert blind.narrative_tokens(short) == set()
    assert len(blind.narrative_tokens(short + " now")) == blind.NARRATIVE_BANDS
    assert blind.narrative_tokens("") == set()


@pytest.mark.parametrize("variant", NEAR.values(), ids=NEAR.keys())
def test_near_identical_narratives_share_bands(variant: str) -> None:
    assert _shared(STORY, variant) >= blind.NARRATIVE_MIN_SHARED_BANDS


@pytest.mark.parametrize("other", UNRELATED)
def test_unrelated_narratives_do_not(other: str) -> None:
    assert _shared(STORY, other) < blind.NARRATIVE_MIN_SHARED_BANDS


def test_near_identical_texts_meet_under_most_keys(settings: Settings) -> None:
    # The bands depend on the key: check the rate over many keys, not one lucky key.
    met = 0
    for number in range(100):
        settings.BLIND_INDEX_KEYS = [f"{OLD_KEY}-{number}"]
        met += _shared(STORY, NEAR["words changed"]) >= blind.NARRATIVE_MIN_SHARED_BANDS
        assert _shared(STORY, UNRELATED[1]) < blind.NARRATIVE_MIN_SHARED_BANDS
    assert met >= 95


def test_words_are_normalized_across_case_accents_and_marks() -> None:
    assert blind.narrative_words("Café CAFÉ cafe\u0301!") == ["cafe", "cafe", "cafe"]
    # Arabic short vowels (harakat) are usually left out: with or without, the same words.
    assert blind.narrative_words("مُحَمَّد") == blind.narrative_words("محمد") == ["محمد"]
    # Compatibility forms: the "fi" ligature, full-width digits.
    assert blind.narrative_words("\ufb01le \uff12\uff10\uff12\uff14") == ["file", "2024"]


@given(st.text(max_size=400))
def test_narrative_tokens_never_raise(text: str) -> None:
    tokens = blind.narrative_tokens(text + " \ud800 lone surrogate" * 5)
    assert len(tokens) in {0, blind.NARRATIVE_BANDS}


def test_narrative_tokens_are_keyed(settings: Settings) -> None:
    settings.BLIND_INDEX_KEYS = [OLD_KEY]
    first = blind.narrative_tokens(STORY)
    settings.BLIND_INDEX_KEYS = [OLD_KEY.replace("0", "1")]
    assert not first & blind.narrative_tokens(STORY)
    for _kind, token in first:
        assert token not in STORY.encode().hex()


def test_rotated_narrative_tokens_match_fresh_ones(settings: Settings) -> None:
    settings.BLIND_INDEX_KEYS = [OLD_KEY]
    keyring = Keyring.objects.create()
    blind.index_keyring(keyring, narrative=STORY)
    settings.BLIND_INDEX_KEYS = [NEW_KEY, OLD_KEY]
    blind.rotate_tokens()
    rotated = set(keyring.blind_tokens.values_list("kind", "token"))
    assert rotated == blind.narrative_tokens(STORY)


# --- Evidence files ------------------------------------------------------------------------


def test_evidence_token_is_keyed_not_the_plain_hash(settings: Settings) -> None:
    sha256 = hashlib.sha256(b"a photo").hexdigest()
    kind, token = blind.evidence_token(sha256)
    assert kind == "evidence" and len(token) == 32
    assert token not in sha256 and sha256[:32] != token
    assert blind.evidence_token(sha256.upper()) == (kind, token)
    settings.BLIND_INDEX_KEYS = [NEW_KEY]
    assert blind.evidence_token(sha256)[1] != token


@pytest.mark.parametrize("value", ["", "abc", "g" * 64, "a" * 63, "a" * 65])
def test_evidence_token_needs_a_sha256(value: str) -> None:
    with pytest.raises(ValueError, match="SHA-256"):
        blind.evidence_token(value)


def test_tokens_are_added_to_a_keyring_once() -> None:
    keyring = Keyring.objects.create()
    blind.index_keyring(keyring, phones=["+2348031234567"])
    same_file = blind.evidence_token(hashlib.sha256(b"a photo").hexdigest())
    assert blind.add_tokens(keyring, [same_file]) == 1
    assert blind.add_tokens(keyring, [same_file]) == 0
    assert sorted(keyring.blind_tokens.values_list("kind", flat=True)) == ["evidence", "phone"]


def test_a_shredded_keyring_gets_no_tokens() -> None:
    keyring = Keyring.objects.create(shredded_at=timezone.now())
    same_file = blind.evidence_token(hashlib.sha256(b"a photo").hexdigest())
    assert blind.add_tokens(keyring, [same_file]) == 0
    assert not BlindIndexToken.objects.exists()


def test_rebuilding_a_keyring_keeps_its_narrative_and_evidence() -> None:
    keyring = Keyring.objects.create()
    sha256 = hashlib.sha256(b"a photo").hexdigest()
    stored = blind.index_keyring(keyring, names=["Ada Okafor"], narrative=STORY, evidence=[sha256])
    kinds = list(keyring.blind_tokens.values_list("kind", flat=True))
    assert stored == len(kinds)
    assert kinds.count("narrative") == blind.NARRATIVE_BANDS and kinds.count("evidence") == 1
    with pytest.raises(TypeError):
        blind.index_keyring(keyring, evidence=sha256)

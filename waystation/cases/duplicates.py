"""Finding the other cases a person may already have, in two stages.

Stage 1, candidates, reads only blind-index tokens (`vault.blind`), in lookups that each
read at most ROWS_PER_LOOKUP rows: phones and e-mails, the full name, then each name word
and its sound (Metaphone). A lookup that fills its limit marks a common value (a given name
that a tenth of all cases carry): its keyrings count for less, the sound of a common word
is not looked up (it would be cut short too), and only the best CANDIDATES keyrings are
kept, so a common first name cannot bring thousands of cases to stage 2. A shared phone or
e-mail weighs most, then the full name, then each distinct name word matched, exactly or
by sound. Dates of birth and regions are not indexed: they only score.

Stage 2, scoring, compares the person's plaintext with each candidate's, which only the
caller can supply: decryption happens in the request of an unlocked staff member, through
`load(keyring_ids)`. Candidates it does not return (cases the staff member cannot open) are
left out. Each field both records have adds evidence for or against the match, in log2
likelihood ratios as in Fellegi-Sunter record linkage: names word by word (Jaro-Winkler, or
one Metaphone code for two transliterations), date of birth, phones and e-mails after the
blind index's own normalization, and region, worth more when few of the candidates share
it (a town rather than a capital). A field missing on either side adds nothing. The
sum and a prior give a score in [0, 1], with short reason codes for the evidence that spoke
for the match, strongest first.

The weights are round figures, not fitted: how much likelier a field agrees between two
records of one person than between two people. The threshold was chosen on FEBRL3 alone
and checked, unchanged, on FEBRL4 and a second synthetic set (bench/dedupe.py).
"""

import math
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from rapidfuzz.distance import JaroWinkler, Levenshtein

from waystation.vault import blind

Kind = blind.Kind

# --- Stage 1: candidates from the blind index ----------------------------------------------

# Keyrings passed to stage 2: enough for every plausible match, few enough to decrypt.
CANDIDATES = 50
# Token rows read per lookup: twice what stage 2 takes, so that one lookup alone never
# decides the shortlist. A lookup that returns this many keyrings was cut short: the value
# is common, and the keyrings read are an arbitrary few of those that carry it.
ROWS_PER_LOOKUP = 2 * CANDIDATES
# Name words looked up, longest first: long words tell people apart better than particles.
WORDS_LOOKED_UP = 4
# Stage-1 weights only order the shortlist: a shared phone or e-mail before any name, the
# full name before two of its words, a word before its sound.
HIT_WEIGHTS = {Kind.PHONE.value: 8.0, Kind.EMAIL.value: 8.0, Kind.FULL_NAME.value: 6.0}
WORD_WEIGHT = 2.0
SOUND_WEIGHT = 1.0
COMMON_FACTOR = 0.5

# --- Stage 2: scoring in log2 likelihood ratios ----------------------------------------------

# Of the CANDIDATES a check scores, at most one or two are usually the person: prior odds
# of about 1 to 64.
PRIOR = -6.0
# F1 on FEBRL3 stays within a point between 0.2 and 0.3. At 0.25 one shared name word alone
# never passes, nor a two-word name with a different date of birth; a shared phone does even
# under another name, unless the dates of birth differ too.
THRESHOLD = 0.25
NAME_EXACT = 4.0
NAME_CLOSE = 3.0
NAME_NEAR = 1.5
NAME_DIFFERENT = -3.0
# Two records of one person may carry different names (a chosen name, a relative writing):
# disagreeing names lower the score but never outweigh a shared phone or e-mail.
NAME_DIFFERENT_FLOOR = -4.0
CLOSE_NAME = 0.92
NEAR_NAME = 0.85
DOB_SAME = 10.0
DOB_SIMILAR = 3.0
DOB_DIFFERENT = -4.0
# A phone number or address is rarely shared by two people, but one person often changes
# it: strong agreement, mild disagreement.
CONTACT_SAME = 12.0
EMAIL_SIMILAR = 3.0
SIMILAR_EMAIL = 0.85
CONTACT_DIFFERENT = -1.0
# A region is coarse (a state, a city) and many cases share one: agreement says little, this
# much when nothing tells how common the region is. Otherwise `_region_weight` reckons it
# from how often the candidates share it, within MIN and MAX, taking REGION_AGREES for how
# often two records of one person name the same region.
REGION_SAME = 1.5
REGION_SAME_MIN = 0.5
REGION_SAME_MAX = 5.0
REGION_AGREES = 0.8
# A misspelt region ("Lgaos") counts for part of the same one.
REGION_SIMILAR = 0.7
SIMILAR_REGION = 0.9
REGION_DIFFERENT = -0.5


@dataclass(frozen=True)
class Person:
    """The plaintext of one request after decryption. Give either `full_name` or the
    given and family names; `country` is ISO 3166 alpha-2 and reads local phone numbers."""

    given_name: str = ""
    family_name: str = ""
    full_name: str = ""
    date_of_birth: date | None = None
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    country: str = ""
    region: str = ""

    @property
    def name(self) -> str:
        return self.full_name or f"{self.given_name} {self.family_name}".strip()

    @property
    def phone_region(self) -> str | None:
        return self.country if len(self.country) == 2 else None


@dataclass(frozen=True)
class Hit:
    """A stage-1 candidate: a keyring, its weight and the token kinds it matched."""

    keyring_id: uuid.UUID
    weight: float
    kinds: frozenset[str]


@dataclass(frozen=True)
class Shortlist:
    """Stage 1's answer: the candidates, best first, and the person's name words that so
    many keyrings carry that their lookup was cut short."""

    hits: list[Hit]
    common_words: frozenset[str]


@dataclass(frozen=True)
class Candidate:
    """A scored candidate: reasons are short codes, strongest first."""

    keyring_id: uuid.UUID
    score: float
    reasons: list[str]


Loader = Callable[[list[uuid.UUID]], dict[uuid.UUID, Person]]


def person_tokens(person: Person) -> set[tuple[str, str]]:
    """The (kind, token) pairs a case with this plaintext is indexed under, as the intake
    indexes a request: one name string, the country reading local phone numbers."""
    return blind.tokens_for(
        phones=person.phones,
        emails=person.emails,
        names=[person.name] if person.name else [],
        region=person.phone_region,
    )


def blind_candidates(
    person: Person, *, exclude: uuid.UUID | None = None, limit: int = CANDIDATES
) -> Shortlist:
    """Stage 1: at most `limit` keyrings sharing an indexed value with the person, best
    first, without decrypting anything. One lookup for phones and e-mails, one for the full
    name, then one per name word and one per distinct sound of a word that is not common;
    each reads at most ROWS_PER_LOOKUP rows."""
    weights: dict[uuid.UUID, float] = defaultdict(float)
    lookups: list[dict[uuid.UUID, set[str]]] = []
    tokens = person_tokens(person)
    # Phones and e-mails apart from the full name: a common name filling the row limit
    # must not push out the keyring that shares a phone.
    for wanted in ({Kind.PHONE.value, Kind.EMAIL.value}, {Kind.FULL_NAME.value}):
        found, factor = _lookup(
            {(kind, token) for kind, token in tokens if kind in wanted}, exclude
        )
        lookups.append(found)
        for keyring_id, matched in found.items():
            weights[keyring_id] += factor * sum(HIT_WEIGHTS[kind] for kind in matched)

    common: set[str] = set()
    by_sound: dict[str, tuple[dict[uuid.UUID, set[str]], float]] = {}
    words = sorted(blind.name_words(person.name), key=lambda word: (-len(word), word))
    for word in words[:WORDS_LOOKED_UP]:
        same_word, word_factor = _lookup({_name_token(Kind.NAME.value, word)}, exclude)
        lookups.append(same_word)
        sound = blind.name_sound(word)
        if word_factor < 1:
            # Every keyring with the word has its sound too: that lookup would be cut short
            # as well, and read an arbitrary few.
            common.add(word)
            sound = ""
        if sound and sound not in by_sound:
            by_sound[sound] = _lookup({_name_token(Kind.NAME_SOUND.value, sound)}, exclude)
            lookups.append(by_sound[sound][0])
        same_sound, sound_factor = by_sound.get(sound, ({}, 0.0))
        # A word counts once, by its best match: the sound of a matched word adds nothing.
        for keyring_id in same_word:
            weights[keyring_id] += word_factor * WORD_WEIGHT
        for keyring_id in same_sound:
            if keyring_id not in same_word:
                weights[keyring_id] += sound_factor * SOUND_WEIGHT

    # Stable: among equal weights, keyrings found by the stronger lookups come first.
    best = sorted(weights.items(), key=lambda item: -item[1])[:limit]
    hits = [
        Hit(keyring_id, weight, frozenset().union(*(f.get(keyring_id, ()) for f in lookups)))
        for keyring_id, weight in best
    ]
    return Shortlist(hits, frozenset(common))


def _name_token(kind: str, value: str) -> tuple[str, str]:
    return kind, blind.blind_token(kind, value)


def _lookup(
    tokens: set[tuple[str, str]], exclude: uuid.UUID | None
) -> tuple[dict[uuid.UUID, set[str]], float]:
    """The keyrings holding these tokens, and the factor of their weight: COMMON_FACTOR
    when the lookup filled its row limit."""
    if not tokens:
        return {}, 1.0
    found = blind.matches_for_tokens(tokens, exclude=exclude, limit=ROWS_PER_LOOKUP)
    return found, COMMON_FACTOR if len(found) >= ROWS_PER_LOOKUP else 1.0


# --- Stage 2: scoring ------------------------------------------------------------------------


def find_duplicates(
    person: Person,
    load: Loader,
    *,
    exclude: uuid.UUID | None = None,
    threshold: float = THRESHOLD,
    limit: int = CANDIDATES,
) -> list[Candidate]:
    """Candidates scoring at least `threshold`, best first: stage 1, then `load` called once
    with the candidates' keyring ids for the plaintext the caller can decrypt, then stage 2.
    Keyrings `load` leaves out are not scored and not returned."""
    shortlist = blind_candidates(person, exclude=exclude, limit=limit)
    if not shortlist.hits:
        return []
    others = load([hit.keyring_id for hit in shortlist.hits])
    ours = _Values.of(person)
    theirs = {
        hit.keyring_id: _Values.of(others[hit.keyring_id])
        for hit in shortlist.hits
        if hit.keyring_id in others
    }
    region = _region_weight(ours.region, [values.region for values in theirs.values()])
    found = []
    for keyring_id, values in theirs.items():
        value, reasons = _score(ours, values, shortlist.common_words, region)
        if value >= threshold:
            found.append(Candidate(keyring_id, value, reasons))
    found.sort(key=lambda candidate: (-candidate.score, str(candidate.keyring_id)))
    return found


def score(
    person: Person, other: Person, *, common_words: frozenset[str] = frozenset()
) -> tuple[float, list[str]]:
    """How likely two records are one person, in [0, 1], with the reason codes of the
    evidence for it, strongest first. Agreement on one of `common_words` (the person's
    words that stage 1 found common) counts for less."""
    return _score(_Values.of(person), _Values.of(other), common_words)


@dataclass(frozen=True)
class _Values:
    """A person's values normalized as the blind index normalizes them."""

    phones: frozenset[str]
    emails: frozenset[str]
    words: frozenset[str]
    born_on: date | None
    region: str

    @classmethod
    def of(cls, person: Person) -> "_Values":
        phones = (blind.normalize_phone(phone, person.phone_region) for phone in person.phones)
        emails = (blind.normalize_email(email) for email in person.emails)
        return cls(
            phones=frozenset(phone for phone in phones if phone),
            emails=frozenset(email for email in emails if email),
            words=frozenset(blind.name_words(person.name)),
            born_on=person.date_of_birth,
            region=" ".join(sorted(blind.name_words(person.region))),
        )


def _region_weight(ours: str, theirs: list[str]) -> float:
    """What the same region is worth, from how many of the candidates share it: a region
    most of them have ("Lagos") says less than a town only one has. The candidates come
    from names, which say little about where a person lives, so their regions stand for
    all cases'. Laplace smoothing keeps a handful of candidates from counting for much."""
    if not ours or not theirs:
        return REGION_SAME
    chance = (sum(1 for region in theirs if region == ours) + 1) / (len(theirs) + 2)
    return max(REGION_SAME_MIN, min(REGION_SAME_MAX, math.log2(REGION_AGREES / chance)))


def _score(
    ours: _Values, theirs: _Values, common: frozenset[str], region_same: float = REGION_SAME
) -> tuple[float, list[str]]:
    evidence = [
        *_compare_phones(ours.phones, theirs.phones),
        *_compare_emails(ours.emails, theirs.emails),
        *_compare_names(ours.words, theirs.words, common),
        *_compare_dates(ours.born_on, theirs.born_on),
        *_compare_regions(ours.region, theirs.region, region_same),
    ]
    total = PRIOR + sum(weight for weight, _ in evidence)
    strongest_first = sorted(evidence, key=lambda item: (-item[0], item[1]))
    reasons = [reason for weight, reason in strongest_first if weight > 0]
    return _probability(total), reasons


def _probability(log2_odds: float) -> float:
    # Beyond 60 either way the score is 0 or 1 in a float anyway; math.pow must not overflow.
    bounded = max(-60.0, min(60.0, log2_odds))
    return 1.0 / (1.0 + math.pow(2.0, -bounded))


def _compare_phones(ours: frozenset[str], theirs: frozenset[str]) -> list[tuple[float, str]]:
    if not ours or not theirs:
        return []
    if ours & theirs:
        return [(CONTACT_SAME, "same phone")]
    return [(CONTACT_DIFFERENT, "")]


def _compare_emails(ours: frozenset[str], theirs: frozenset[str]) -> list[tuple[float, str]]:
    if not ours or not theirs:
        return []
    if ours & theirs:
        return [(CONTACT_SAME, "same e-mail")]
    similarity = max(Levenshtein.normalized_similarity(a, b) for a in ours for b in theirs)
    if similarity >= SIMILAR_EMAIL:
        return [(EMAIL_SIMILAR, "similar e-mail")]
    return [(CONTACT_DIFFERENT, "")]


def _compare_names(
    ours: frozenset[str], theirs: frozenset[str], common: frozenset[str]
) -> list[tuple[float, str]]:
    """Each word of the shorter name paired with its most similar word of the other, best
    pairs first, so order, a missing middle name or a swapped given and family name do not
    count against a match."""
    if not ours or not theirs:
        return []
    pairs = sorted(
        ((_word_similarity(a, b), a, b) for a in ours for b in theirs),
        key=lambda pair: (-pair[0], pair[1], pair[2]),
    )
    used_ours: set[str] = set()
    used_theirs: set[str] = set()
    agreeing = 0.0
    differing = 0.0
    for similarity, a, b in pairs:
        if a in used_ours or b in used_theirs:
            continue
        used_ours.add(a)
        used_theirs.add(b)
        if similarity < NEAR_NAME:
            differing += NAME_DIFFERENT
            continue
        if similarity == 1.0:
            weight = NAME_EXACT
        elif similarity >= CLOSE_NAME:
            weight = NAME_CLOSE
        else:
            weight = NAME_NEAR
        agreeing += weight * (COMMON_FACTOR if a in common else 1.0)
    evidence = [(max(differing, NAME_DIFFERENT_FLOOR), "")] if differing else []
    if agreeing:
        same = len(ours) >= 2 and ours == theirs
        evidence.append((agreeing, "same full name" if same else "similar name"))
    return evidence


def _word_similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    similarity = float(JaroWinkler.similarity(a, b))
    # One sound, two spellings: transliterations ("aleksey", "alexei") count as close.
    if similarity < CLOSE_NAME and blind.name_sound(a) == blind.name_sound(b):
        return CLOSE_NAME
    return similarity


def _compare_dates(ours: date | None, theirs: date | None) -> list[tuple[float, str]]:
    if ours is None or theirs is None:
        return []
    if ours == theirs:
        return [(DOB_SAME, "same date of birth")]
    a, b = ours.strftime("%Y%m%d"), theirs.strftime("%Y%m%d")
    one_digit = sum(x != y for x, y in zip(a, b, strict=True)) == 1
    swapped = (ours.year, ours.month, ours.day) == (theirs.year, theirs.day, theirs.month)
    if one_digit or swapped:
        return [(DOB_SIMILAR, "similar date of birth")]
    return [(DOB_DIFFERENT, "")]


def _compare_regions(ours: str, theirs: str, same: float) -> list[tuple[float, str]]:
    if not ours or not theirs:
        return []
    if ours == theirs:
        return [(same, "same region")]
    if JaroWinkler.similarity(ours, theirs) >= SIMILAR_REGION:
        return [(same * REGION_SIMILAR, "similar region")]
    return [(REGION_DIFFERENT, "")]

"""Blind indexes: keyed hashes of a few normalized values, so that staff can find a probable
duplicate case without decrypting anything.

Only the kinds in `BlindIndexToken.Kind` are ever indexed (phone, e-mail, name word, name
sound, full name, evidence file, narrative band). A token is HMAC-SHA256 of `kind:value`,
truncated to 128 bits and stored as 32 lowercase hex characters; without the keys a token
cannot be computed from a guess.

Keys and rotation. `settings.BLIND_INDEX_KEYS` lists the keys newest first; when it is empty
one key is derived from SECRET_KEY. Key version N (1 = oldest) is a chain:

    token_v1 = HMAC(k1, kind + ":" + value)
    token_vN = HMAC(kN, token_v(N-1) as hex)

so stored tokens move to a new key without the plaintext (`rotate_tokens`), and lookups
always compute the newest version. The chain means every key stays needed: a lookup goes
through all of them, and dropping one from the list makes every stored token unreachable.
Moving from the SECRET_KEY-derived key to configured keys (or changing SECRET_KEY while no
keys are configured) changes version 1 itself: stored tokens must then be rebuilt from the
decrypted values with `index_keyring`.

Normalization, so that different spellings of one value meet:

- phone: E.164 through `phonenumbers`; numbers without "+" need a default region.
- e-mail: trimmed and lowercased. For gmail.com and googlemail.com (one mailbox service)
  dots and a "+suffix" in the local part are dropped, because Google documents that they
  reach the same mailbox and people in danger often vary them. Nowhere else: the local part
  belongs to its domain (RFC 5321), and elsewhere dots and "+" can tell two people apart.
- name: transliterated to Latin with `anyascii` ("Алексей" -> "aleksey"), lowercased,
  apostrophes joined ("O'Brien" -> "obrien"), other non-letters split words, words under two
  letters dropped. Each distinct word gives a `name` token and a `name_sound` token
  (Metaphone). The sound exists because transliteration alone rarely meets: "Aleksei" and
  "Alexey" share only ALKS, and anyascii writes Arabic and Persian without their short vowels
  ("محمد" -> "mhmd"), which meets "Mohammed" only through their common code MHMT.

Evidence files and narratives, for the fraud signals staff see on a case:

- evidence: the SHA-256 of the file as the person sent it, keyed like every other token. A
  plain SHA-256 would let anyone holding a file confirm it is here; this token needs the key.
- narrative: a keyed MinHash. The text is normalized (compatibility forms, accents and
  letter case dropped) and cut into words; every run of NARRATIVE_SHINGLE_WORDS words is a
  shingle, valued from keyed hashes of its words. NARRATIVE_BANDS x NARRATIVE_ROWS keyed
  permutations give a signature whose values agree between two texts as often as their
  shingle sets overlap (Jaccard similarity); each band of NARRATIVE_ROWS values becomes one
  token. The keys come from the oldest blind-index key, as every version-1 token's does.
  Two narratives are near-identical when they share NARRATIVE_MIN_SHARED_BANDS bands or
  more: about 99 % of pairs whose shingles overlap by two thirds (a few words changed,
  sentences reordered), about one pair in 100,000 of unrelated narratives (overlap about
  0.02; `bench/signals.py` measures both). Texts under NARRATIVE_MIN_WORDS words get no
  tokens: short pleas for help are written alike by different people.
"""

import functools
import hashlib
import hmac
import re
import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import jellyfish
import numpy as np
import phonenumbers
from anyascii import anyascii
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from waystation.lib import rows
from waystation.vault import crypto
from waystation.vault.models import BlindIndexToken, Keyring

Kind = BlindIndexToken.Kind

KEY_PURPOSE = b"waystation blind index v1"
TOKEN_HEX_CHARS = 32
MIN_NAME_WORD = 2
GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
# Narratives (see above): words needed, words to a shingle, bands, values to a band, and
# the bands two near-identical narratives share.
NARRATIVE_MIN_WORDS = 12
NARRATIVE_SHINGLE_WORDS = 3
NARRATIVE_BANDS = 12
NARRATIVE_ROWS = 2
NARRATIVE_MIN_SHARED_BANDS = 2
NARRATIVE_KEY_PURPOSE = b"waystation narrative minhash v1"
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_NARRATIVE_WORD = re.compile(r"\w+")

# anyascii writes apostrophes, the Arabic ayn and hamza as ' or `; they join a word
# ("O'Brien", "Ma'mun") rather than split it.
_NAME_JOINERS = str.maketrans("", "", "'`")
_NAME_SEPARATORS = re.compile(r"[^a-z]+")


# --- Normalization -------------------------------------------------------------------------


def normalize_phone(value: str, region: str | None = None) -> str | None:
    """The number in E.164 ("+2348031234567"), or None when it is not a valid number.
    `region` (ISO 3166 alpha-2, e.g. "NG") reads numbers written without "+". Never raises."""
    if not value or not value.strip():
        return None
    try:
        number = phonenumbers.parse(value, region.strip().upper() if region else None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(value: str) -> str | None:
    """The address trimmed and lowercased, Gmail addresses reduced to their mailbox, or None
    when it is not an address. Never raises."""
    if not value:
        return None
    address = value.strip().lower()
    local, at, domain = address.rpartition("@")
    domain = domain.rstrip(".")
    if not at or not local or not domain or any(c.isspace() for c in address):
        return None
    if domain in GMAIL_DOMAINS:
        domain = "gmail.com"
        local = local.split("+", 1)[0].replace(".", "")
        if not local:
            return None
    return f"{local}@{domain}"


def name_words(value: str) -> set[str]:
    """The distinct words of a name in lowercase Latin letters, each at least two letters
    long. Never raises."""
    if not value:
        return set()
    latin = anyascii(value).lower().translate(_NAME_JOINERS)
    return {word for word in _NAME_SEPARATORS.split(latin) if len(word) >= MIN_NAME_WORD}


def name_sound(word: str) -> str:
    """The Metaphone code of one normalized name word ("" when it has none)."""
    return str(jellyfish.metaphone(word))


def normalized_values(
    *,
    phones: Iterable[str] = (),
    emails: Iterable[str] = (),
    names: Iterable[str] = (),
    region: str | None = None,
) -> set[tuple[str, str]]:
    """(kind, normalized value) for every value that normalizes; invalid ones are skipped.
    Raises TypeError when a single string is passed where a collection is expected."""
    values: set[tuple[str, str]] = set()
    for phone in _collection(phones, "phones"):
        normalized = normalize_phone(phone, region)
        if normalized:
            values.add((Kind.PHONE.value, normalized))
    for email in _collection(emails, "emails"):
        normalized = normalize_email(email)
        if normalized:
            values.add((Kind.EMAIL.value, normalized))
    for name in _collection(names, "names"):
        words = name_words(name)
        for word in words:
            values.add((Kind.NAME.value, word))
            sound = name_sound(word)
            if sound:
                values.add((Kind.NAME_SOUND.value, sound))
        if len(words) >= 2:
            # Every word of the name, in any order: one exact lookup for "the same name".
            values.add((Kind.FULL_NAME.value, " ".join(sorted(words))))
    return values


def _collection(values: Iterable[str], argument: str) -> list[str]:
    # A bare string would be read one character at a time and silently match nothing.
    if isinstance(values, str | bytes):
        raise TypeError(f"{argument} must be a collection of strings, not a single string")
    return [value for value in values if value]


# --- Keys and tokens -----------------------------------------------------------------------


def _keys() -> list[bytes]:
    """The blind-index keys, oldest first: key version N is `_keys()[N - 1]`."""
    configured = [key.encode() for key in settings.BLIND_INDEX_KEYS]
    if configured:
        return configured[::-1]
    return [crypto.derive_key(settings.SECRET_KEY.encode(), purpose=KEY_PURPOSE)]


def current_key_version() -> int:
    """The version every new token and every lookup uses: the number of keys."""
    return len(_keys())


def _mac(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()[:TOKEN_HEX_CHARS]


def _chain(token: str, keys: list[bytes]) -> str:
    for key in keys:
        token = _mac(key, token)
    return token


def _token(kind: str, value: str, keys: list[bytes]) -> str:
    return _chain(_mac(keys[0], f"{kind}:{value}"), keys[1:])


_KINDS = frozenset(Kind.values)


def _allowed_kind(kind: str) -> str:
    if kind not in _KINDS:
        raise ValueError(f"not an indexed kind: {kind!r}")
    return str(kind)


def blind_token(kind: str, value: str) -> str:
    """The current-version token of an already normalized value. Raises ValueError when
    `kind` is not one of `BlindIndexToken.Kind`: nothing else is ever indexed."""
    return _token(_allowed_kind(kind), value, _keys())


def tokens_for(
    *,
    phones: Iterable[str] = (),
    emails: Iterable[str] = (),
    names: Iterable[str] = (),
    region: str | None = None,
) -> set[tuple[str, str]]:
    """(kind, token) under the current key for every value that normalizes; values that do
    not are skipped silently. Raises TypeError when a single string is passed where a
    collection is expected."""
    keys = _keys()
    pairs = normalized_values(phones=phones, emails=emails, names=names, region=region)
    return {(kind, _token(kind, value, keys)) for kind, value in pairs}


# --- Evidence files and narratives --------------------------------------------------------


def evidence_token(sha256: str) -> tuple[str, str]:
    """(kind, token) of an evidence file, from the SHA-256 of its bytes as 64 hex digits
    (`files.FileMeta.sha256`). Raises ValueError for anything else."""
    digest = sha256.strip().lower()
    if not _SHA256_HEX.fullmatch(digest):
        raise ValueError("not a SHA-256 in hex")
    return Kind.EVIDENCE.value, _token(Kind.EVIDENCE.value, digest, _keys())


def narrative_words(text: str) -> list[str]:
    """The words of a narrative in order: compatibility forms folded (NFKD), accents and
    other combining marks dropped, letter case folded. Never raises."""
    if not text:
        return []
    if not text.isascii():
        text = "".join(
            char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char)
        )
    return _NARRATIVE_WORD.findall(text.casefold())


def narrative_tokens(text: str) -> set[tuple[str, str]]:
    """(kind, token) for each band of the narrative's keyed MinHash under the current key:
    NARRATIVE_BANDS of them, or none for a text under NARRATIVE_MIN_WORDS words. Never
    raises."""
    words = narrative_words(text)
    if len(words) < NARRATIVE_MIN_WORDS:
        return set()
    keys = _keys()
    word_hasher, mixer, multipliers, offsets = _minhash_parameters(keys[0])
    # Each distinct word is hashed once; a shingle's value is its words' hashes chained
    # (h1 * m + h2) * m + h3, modulo 2**64 as numpy wraps unsigned overflow.
    distinct: dict[str, int] = {}
    positions = np.fromiter(
        (distinct.setdefault(word, len(distinct)) for word in words), dtype=np.intp
    )
    hashed = np.fromiter(
        (_keyed_hash(word_hasher, word) for word in distinct), dtype=np.uint64, count=len(distinct)
    )[positions]
    count = len(words) - NARRATIVE_SHINGLE_WORDS + 1
    shingles = np.zeros(count, dtype=np.uint64)
    for offset in range(NARRATIVE_SHINGLE_WORDS):
        shingles = shingles * mixer + hashed[offset : offset + count]
    # One multiply-add permutation per signature value; the smallest image over the
    # distinct shingles is the MinHash.
    signature = (np.unique(shingles)[:, None] * multipliers + offsets).min(axis=0)
    tokens = set()
    for band in range(NARRATIVE_BANDS):
        rows = signature[band * NARRATIVE_ROWS : (band + 1) * NARRATIVE_ROWS]
        value = f"{band}:{rows.tobytes().hex()}"
        tokens.add((Kind.NARRATIVE.value, _token(Kind.NARRATIVE.value, value, keys)))
    return tokens


def _keyed_hash(keyed: hashlib.blake2b, word: str) -> int:
    hasher = keyed.copy()
    # "surrogatepass": text that is not valid Unicode still hashes, rather than raising.
    hasher.update(word.encode("utf-8", "surrogatepass"))
    return int.from_bytes(hasher.digest())


@functools.lru_cache(maxsize=4)
def _minhash_parameters(
    oldest_key: bytes,
) -> tuple[hashlib.blake2b, np.uint64, np.ndarray, np.ndarray]:
    """A keyed hasher for words (copied for each one), the odd number that chains a
    shingle's word hashes, and the permutations' odd multipliers and offsets: all derived
    from the oldest blind-index key, as every version-1 token is, so rotation can chain
    over the tokens."""
    key = crypto.derive_key(oldest_key, NARRATIVE_KEY_PURPOSE)
    count = NARRATIVE_BANDS * NARRATIVE_ROWS
    stream = b"".join(
        hashlib.blake2b(bytes([block]), key=key, digest_size=64).digest()
        for block in range(-(-(2 * count + 1) * 8 // 64))
    )
    values = np.frombuffer(stream, dtype="<u8").astype(np.uint64)
    odd = np.uint64(1)
    multipliers, offsets = values[:count] | odd, values[count : 2 * count]
    word_key = crypto.derive_key(key, b"words")
    return (
        hashlib.blake2b(key=word_key, digest_size=8),
        values[2 * count] | odd,
        multipliers,
        offsets,
    )


# --- Storage and lookup --------------------------------------------------------------------


def index_keyring(
    keyring: Keyring,
    *,
    phones: Iterable[str] = (),
    emails: Iterable[str] = (),
    names: Iterable[str] = (),
    region: str | None = None,
    narrative: str = "",
    evidence: Iterable[str] = (),
) -> int:
    """Replace the keyring's tokens with those of these values (`evidence`: the SHA-256 of
    each evidence file), in one transaction; returns how many were stored. Raises ValueError
    when the keyring is shredded or gone or an evidence hash is malformed, and TypeError when
    a single string is passed where a collection is expected."""
    pairs = tokens_for(phones=phones, emails=emails, names=names, region=region)
    pairs |= narrative_tokens(narrative)
    pairs |= {evidence_token(sha256) for sha256 in _collection(evidence, "evidence")}
    version = current_key_version()
    rows = [
        BlindIndexToken(keyring=keyring, kind=kind, token=token, key_version=version)
        for kind, token in sorted(pairs)
    ]
    with transaction.atomic():
        # Shredding locks the keyring too: checking under the lock, not on the instance we were
        # given, keeps tokens from being written back after the shred.
        live = Keyring.objects.select_for_update().filter(pk=keyring.pk, shredded_at__isnull=True)
        if not live.values_list("pk", flat=True):
            raise ValueError("a shredded or deleted keyring cannot be indexed")
        BlindIndexToken.objects.filter(keyring=keyring).delete()
        BlindIndexToken.objects.bulk_create(rows)
    return len(rows)


def token_rows(keyring: Keyring, tokens: Iterable[tuple[str, str]]) -> rows.Values:
    """The rows (for `rows.prepare`) of tokens computed beforehand with `tokens_for`, for a
    keyring created in the same transaction as they are stored (so it cannot have been
    shredded). Raises ValueError for a kind that is not indexed."""
    version = current_key_version()
    return rows.Values(
        BlindIndexToken,
        [
            {
                "keyring_id": keyring.pk,
                "kind": _allowed_kind(kind),
                "token": token,
                "key_version": version,
            }
            for kind, token in sorted(set(tokens))
        ],
    )


def add_tokens(keyring: Keyring, tokens: Iterable[tuple[str, str]]) -> int:
    """Add tokens computed beforehand (an evidence file's, say) to a stored keyring, keeping
    those it has; pairs it holds already are skipped. Runs in the caller's transaction when
    there is one. A shredded or deleted keyring gets none. Returns how many were stored."""
    version = current_key_version()
    wanted = {(_allowed_kind(kind), token) for kind, token in tokens}
    if not wanted:
        return 0
    with transaction.atomic():
        # Under the keyring's lock, as in index_keyring: nothing written back after a shred.
        live = Keyring.objects.select_for_update().filter(pk=keyring.pk, shredded_at__isnull=True)
        if not live.values_list("pk", flat=True):
            return 0
        # By the keyring alone: with a kind too, SQLite's planner prefers the (kind, token)
        # index and reads every token of that kind.
        held = set(
            BlindIndexToken.objects.filter(keyring=keyring, key_version=version).values_list(
                "kind", "token"
            )
        )
        rows = [
            BlindIndexToken(keyring=keyring, kind=kind, token=token, key_version=version)
            for kind, token in sorted(wanted - held)
        ]
        BlindIndexToken.objects.bulk_create(rows)
    return len(rows)


def find_matches(
    *,
    phones: Iterable[str] = (),
    emails: Iterable[str] = (),
    names: Iterable[str] = (),
    region: str | None = None,
    exclude: uuid.UUID | None = None,
    kinds: Iterable[str] | None = None,
    limit: int | None = None,
) -> dict[uuid.UUID, set[str]]:
    """Keyrings holding any of these values, each with the kinds that matched, in one query
    on the (kind, token) index. Shredded keyrings and `exclude` are left out; `kinds`
    restricts the kinds looked up and `limit` the token rows read (for common names).
    Raises TypeError when a single string is passed where a collection is expected."""
    tokens = tokens_for(phones=phones, emails=emails, names=names, region=region)
    return matches_for_tokens(tokens, exclude=exclude, kinds=kinds, limit=limit)


def matches_for_tokens(
    tokens: Iterable[tuple[str, str]],
    *,
    exclude: uuid.UUID | None = None,
    kinds: Iterable[str] | None = None,
    limit: int | None = None,
) -> dict[uuid.UUID, set[str]]:
    """As `find_matches`, for (kind, token) pairs already computed with `tokens_for`."""
    wanted = set(kinds) if kinds is not None else None
    by_kind: dict[str, list[str]] = defaultdict(list)
    for kind, token in tokens:
        if wanted is None or kind in wanted:
            by_kind[kind].append(token)
    if not by_kind:
        return {}
    looked_up = tuple((kind, tuple(sorted(of_kind))) for kind, of_kind in sorted(by_kind.items()))
    version = current_key_version()
    params: list[Any] = [value for kind, of_kind in looked_up for value in (kind, *of_kind)]
    params.append(version)
    if exclude is not None:
        params.append(_KEYRING_FIELD.get_db_prep_value(exclude, connection))
    # Every public request asks this: the SQL is built once per shape (kinds, how many
    # tokens of each, exclude, limit) and process, and only run after that.
    shape = (tuple((kind, len(of_kind)) for kind, of_kind in looked_up), exclude is not None)
    sql = _matches_sql_cache.get((connection.vendor, shape, limit))
    if sql is None:
        sql, params = _build_matches_sql(looked_up, version, exclude, limit, params, shape)
    matches: dict[uuid.UUID, set[str]] = defaultdict(set)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for keyring_id, kind in cursor.fetchall():
            key = keyring_id if isinstance(keyring_id, uuid.UUID) else uuid.UUID(keyring_id)
            matches[key].add(kind)
    return dict(matches)


_KEYRING_FIELD = BlindIndexToken._meta.get_field("keyring")
_matches_sql_cache: dict[tuple[Any, ...], str] = {}


def _build_matches_sql(
    looked_up: tuple[tuple[str, tuple[str, ...]], ...],
    version: int,
    exclude: uuid.UUID | None,
    limit: int | None,
    params: list[Any],
    shape: tuple[Any, ...],
) -> tuple[str, list[Any]]:
    """The ORM's SQL and parameters for this lookup; the SQL is kept for the next lookup of
    the same shape when its parameters are the ones rebuilt for each call, in order."""
    condition = Q()
    for kind, of_kind in looked_up:
        condition |= Q(kind=kind, token__in=of_kind)
    rows = BlindIndexToken.objects.filter(
        condition, key_version=version, keyring__shredded_at__isnull=True
    )
    if exclude is not None:
        rows = rows.exclude(keyring_id=exclude)
    pairs = rows.values_list("keyring_id", "kind")
    if limit is not None:
        pairs = pairs[:limit]
    sql, built = pairs.query.sql_with_params()
    if list(built) == params and len(_matches_sql_cache) < 512:
        _matches_sql_cache[(connection.vendor, shape, limit)] = sql
    return str(sql), list(built)


def forget_keyring(keyring: Keyring) -> int:
    """Delete every token of the keyring (crypto-shredding calls this); returns how many."""
    deleted, _ = BlindIndexToken.objects.filter(keyring=keyring).delete()
    return deleted


def rotate_tokens(*, batch_size: int = 1000) -> int:
    """Move every token stored under an older key version to the current one by hashing the
    stored token with the newer keys; no plaintext is needed. Works in batches, each in its own
    transaction, so it can be interrupted and run again. Returns how many tokens moved.
    Raises ValueError when `batch_size` is below 1."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    keys = _keys()
    current = len(keys)
    moved = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            batch = list(
                BlindIndexToken.objects.select_for_update()
                .filter(key_version__lt=current, pk__gt=last_pk)
                .order_by("pk")[:batch_size]
            )
            if not batch:
                return moved
            for row in batch:
                row.token = _chain(row.token, keys[row.key_version :])
                row.key_version = current
            BlindIndexToken.objects.bulk_update(batch, ["token", "key_version"])
        last_pk = batch[-1].pk
        moved += len(batch)


def unreachable_token_count() -> int:
    """How many tokens carry a key version newer than the current one: a key was removed from
    BLIND_INDEX_KEYS, and lookups can no longer reach these rows."""
    return BlindIndexToken.objects.filter(key_version__gt=current_key_version()).count()

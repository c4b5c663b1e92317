"""Follow-up codes: 28 random digits (93 bits), typed on any phone keypad in any script.

The code is never stored. A keyed hash of it finds the request; a key derived from it
opens the replies sealed to the person. With ~93 bits nothing needs slow hashing: BLAKE2b
is enough and keeps intake fast under load (see DESIGN §5).
"""

import secrets
import unicodedata

import nacl.hash
from django.conf import settings
from nacl.encoding import RawEncoder
from nacl.public import PrivateKey

from waystation.vault import crypto

DIGITS = 28
GROUP = 4


def new_code() -> str:
    # One draw, uniform over every 28-digit string (leading zeros kept).
    digits = str(secrets.randbelow(10**DIGITS)).zfill(DIGITS)
    return " ".join(digits[i : i + GROUP] for i in range(0, DIGITS, GROUP))


def normalize(text: str) -> str | None:
    """The code's 28 ASCII digits from what the person typed (any script's digits, any
    spaces or dashes), or None when it cannot be a code."""
    digits = []
    for char in text[:200]:
        if char.isspace() or char in "-\u2013\u2014.\u00b7_":
            continue
        value = unicodedata.digit(char, None)
        if value is None:
            return None
        digits.append(str(value))
    return "".join(digits) if len(digits) == DIGITS else None


def lookup_id(code: str) -> str:
    key = crypto.derive_key(settings.SECRET_KEY.encode(), b"waystation follow-up lookup v1")
    return nacl.hash.blake2b(code.encode(), key=key, digest_size=32).decode()


def person_private_key(code: str) -> bytes:
    seed = nacl.hash.blake2b(
        code.encode(), person=b"ws-followup-key", digest_size=32, encoder=RawEncoder
    )
    return bytes(PrivateKey.from_seed(seed))


def person_public_key(code: str) -> bytes:
    return crypto.public_from_private(person_private_key(code))


REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_reference() -> str:
    # 40 random bits, five to a character of the 32-letter alphabet.
    bits = secrets.randbits(40)
    raw = "".join(REFERENCE_ALPHABET[(bits >> (5 * i)) & 31] for i in range(8))
    return f"{raw[:4]}-{raw[4:]}"

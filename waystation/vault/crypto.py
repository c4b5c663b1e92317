"""The few cryptographic operations the vault uses, all from libsodium through PyNaCl.

Every ciphertext starts with a version byte, so formats can change without guessing.
Nothing here invents a primitive: XChaCha20-Poly1305 (IETF AEAD) for fields and wrapped keys,
X25519 sealed boxes for sealing keys to people and teams, Argon2id for passwords,
BLAKE2b for deriving keys from high-entropy secrets, secretstream for files.
"""

import secrets

import nacl.bindings as sodium
import nacl.exceptions
import nacl.hash
import nacl.pwhash
from nacl.encoding import RawEncoder
from nacl.public import PrivateKey, PublicKey, SealedBox

VERSION = 1
KEY_BYTES = 32
NONCE_BYTES = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
SALT_BYTES = nacl.pwhash.argon2id.SALTBYTES


class DecryptionError(Exception):
    """A ciphertext was altered, truncated, swapped, or opened with the wrong key."""


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def _header(version: int = VERSION) -> bytes:
    return bytes([version])


def encrypt(key: bytes, plaintext: bytes, associated: bytes) -> bytes:
    """Authenticated encryption bound to `associated` (e.g. record id and field name)."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    header = _header()
    body = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
        plaintext, header + associated, nonce, key
    )
    return header + nonce + body


def decrypt(key: bytes, blob: bytes, associated: bytes) -> bytes:
    if len(blob) < 1 + NONCE_BYTES + 16 or blob[0] != VERSION:
        raise DecryptionError("unknown or truncated ciphertext")
    nonce, body = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
    try:
        return bytes(
            sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
                body, blob[:1] + associated, nonce, key
            )
        )
    except nacl.exceptions.CryptoError:
        raise DecryptionError("ciphertext does not authenticate") from None


def new_keypair() -> tuple[bytes, bytes]:
    """(private, public) X25519 key bytes."""
    private = PrivateKey.generate()
    return bytes(private), bytes(private.public_key)


def public_from_private(private: bytes) -> bytes:
    return bytes(PrivateKey(private).public_key)


def seal(public_key: bytes, plaintext: bytes) -> bytes:
    """Encrypt to a public key: only the matching private key opens it."""
    return _header() + SealedBox(PublicKey(public_key)).encrypt(plaintext)


def unseal(private_key: bytes, blob: bytes) -> bytes:
    if not blob or blob[0] != VERSION:
        raise DecryptionError("unknown sealed-box version")
    try:
        return bytes(SealedBox(PrivateKey(private_key)).decrypt(blob[1:]))
    except nacl.exceptions.CryptoError:
        raise DecryptionError("sealed box does not open with this key") from None


def derive_key(secret: bytes, purpose: bytes) -> bytes:
    """A key for one purpose from a high-entropy secret (BLAKE2b keyed by the secret)."""
    return nacl.hash.blake2b(purpose, key=secret[:64], digest_size=KEY_BYTES, encoder=RawEncoder)


def password_key(password: str, salt: bytes, ops: int, mem: int) -> bytes:
    """Argon2id key from a password, with parameters that are stored beside the result."""
    return nacl.pwhash.argon2id.kdf(KEY_BYTES, password.encode(), salt, opslimit=ops, memlimit=mem)


def new_salt() -> bytes:
    return secrets.token_bytes(SALT_BYTES)

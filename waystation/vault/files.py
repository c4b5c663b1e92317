"""The encrypted file store.

Every file gets its own random key. Its bytes are stored as a libsodium secretstream under a
random name in the "vault" storage; its key, name, content type, size and SHA-256 are JSON
sealed with the keyring's key into `EncryptedFile.sealed_meta`. Neither the stored object nor
the row says what the file is, and no plaintext is ever written to disk.

A stored object is one version byte, the secretstream header, then the file in chunks of
`VAULT_FILE_CHUNK_BYTES` (the size is recorded in the sealed metadata, so changing the setting
keeps old files readable), each with its 17-byte authentication tag. Every chunk but the last
is tagged MESSAGE, the last FINAL; an empty file is one empty FINAL chunk. The stream key is
derived from the file key and the file id, so a stored object opens only as the file it was
written for.
"""

import base64
import contextlib
import hashlib
import io
import json
import logging
import queue
import secrets
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

import nacl.bindings as sodium
import nacl.exceptions
from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import Storage, storages
from django.db import transaction

from . import crypto
from .crypto import DecryptionError
from .models import EncryptedFile, Keyring

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

logger = logging.getLogger(__name__)

HEADER_BYTES = sodium.crypto_secretstream_xchacha20poly1305_HEADERBYTES
TAG_BYTES = sodium.crypto_secretstream_xchacha20poly1305_ABYTES
TAG_MESSAGE = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
TAG_FINAL = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL
# Authenticated with every chunk, so the version byte cannot be changed either.
_VERSION_BYTE = bytes([crypto.VERSION])
# Sealed metadata is padded to a multiple of this, so its length says little about the name.
META_PADDING = 256
# Chunk sizes a file's metadata may declare.
_CHUNK_SIZES = range(1024, 16 * 1024 * 1024 + 1)


@dataclass(frozen=True)
class FileMeta:
    """What the sealed metadata says about a file. The file key never leaves this module."""

    name: str
    content_type: str
    size: int
    sha256: str


# --- Writing ------------------------------------------------------------------------------


def store_stream(
    keyring: Keyring,
    keyring_key: bytes,
    chunks: Iterable[bytes],
    *,
    name: str,
    content_type: str,
) -> EncryptedFile:
    """Encrypt `chunks` into the vault storage as the storage reads them, and save the row.

    Memory stays at about two chunks plus the size of the caller's own pieces. The row is
    saved only after the stored object is complete. Call it outside long transactions: if an
    enclosing transaction rolls back after this returns, the stored object stays behind as
    ciphertext whose key went with the row.

    Raises the storage's error if the object cannot be written (nothing is left stored, no
    row is saved), or the database's error if the row cannot be saved (the stored object is
    deleted first). An exception from `chunks` itself is raised the same way.
    """
    encryptor = _Encryptor(name=name, content_type=content_type)
    storage = _storage()
    reader = _CiphertextReader(encryptor, chunks)
    stored_name = _save_object(storage, io.BufferedReader(reader, encryptor.chunk))
    encrypted_file = encryptor.row(keyring, keyring_key, stored_name, reader.produced)
    try:
        with transaction.atomic():
            encrypted_file.save(force_insert=True)
    except BaseException:
        _delete_object(storage, stored_name)
        raise
    return encrypted_file


class FileWriter:
    """Encrypts a file handed over piece by piece (an upload as it arrives) straight into the
    vault storage.

    `storage.save()` pulls from a file object while an upload pushes its pieces, so the
    storage write runs in a thread of its own, fed through a small queue: memory stays at a
    few chunks and only ciphertext reaches storage. `close()` returns the EncryptedFile
    unsaved: whoever keeps the file saves it (see `discard_unsaved` for the other case).
    `abort()` removes what was written. A writer that is abandoned, neither closed nor
    aborted (the request died), gives up after `idle_seconds` without data and removes what
    it wrote.
    """

    idle_seconds: float = 120.0
    _QUEUE_PIECES = 4

    def __init__(
        self, keyring: Keyring, keyring_key: bytes, *, name: str, content_type: str
    ) -> None:
        self._keyring = keyring
        self._keyring_key = keyring_key
        self._encryptor = _Encryptor(name=name, content_type=content_type)
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=self._QUEUE_PIECES)
        self._reader = _CiphertextReader(self._encryptor, self._pieces())
        self._aborted = False
        self._stored_name: str | None = None
        self._error: Exception | None = None
        self._thread = threading.Thread(
            target=self._save, args=(_storage(),), name="waystation-vault-writer", daemon=True
        )
        self._thread.start()

    def write(self, data: bytes) -> None:
        """Add `data` to the file. Raises the storage's error if writing has failed."""
        self._put(bytes(data))

    def close(self) -> EncryptedFile:
        """Finish the file and return its row, not yet saved. Raises the storage's error if
        the object could not be written (nothing is left stored)."""
        self._put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error
        if self._stored_name is None:
            raise RuntimeError("the vault writer stopped without storing the file")
        return self._encryptor.row(
            self._keyring, self._keyring_key, self._stored_name, self._reader.produced
        )

    def abort(self) -> None:
        """Stop writing and remove what was stored. Never raises; safe to call twice."""
        self._aborted = True
        # If the writer has already failed, it has cleaned up after itself.
        with contextlib.suppress(Exception):
            self._put(None)
        self._thread.join()

    def _put(self, piece: bytes | None) -> None:
        # The thread stops taking pieces only when it has ended: don't wait on it then.
        while self._thread.is_alive():
            try:
                self._queue.put(piece, timeout=1)
            except queue.Full:
                continue
            return
        if self._error is not None:
            raise self._error
        raise RuntimeError("the vault writer is closed")

    def _pieces(self) -> Iterator[bytes]:
        while True:
            try:
                piece = self._queue.get(timeout=self.idle_seconds)
            except queue.Empty:
                raise _AbandonedWriteError("no data for the vault writer in time") from None
            if piece is None:
                if self._aborted:
                    raise _AbandonedWriteError("the write was aborted")
                return
            yield piece

    def _save(self, storage: Storage) -> None:
        try:
            self._stored_name = _save_object(
                storage, io.BufferedReader(self._reader, self._encryptor.chunk)
            )
        except Exception as error:
            self._error = error


def discard_unsaved(encrypted_file: EncryptedFile) -> bool:
    """Delete the stored object of a file whose row was never saved (an upload nobody kept).
    Does nothing if the row is in the database. Returns whether it deleted. Never raises
    for the storage: a failed delete is logged, and leaves ciphertext whose key is gone."""
    if EncryptedFile.objects.filter(pk=encrypted_file.pk).exists():
        return False
    _delete_object(_storage(), encrypted_file.storage_name)
    return True


def delete_file(encrypted_file: EncryptedFile) -> None:
    """Delete the row, and once the transaction commits, the stored object. Without the row
    the file key is gone, so an object that cannot be deleted (logged) is unreadable.
    Raises the database's error if the row cannot be deleted."""
    storage = _storage()
    stored_name = encrypted_file.storage_name
    with transaction.atomic():
        encrypted_file.delete()
        transaction.on_commit(lambda: _delete_object(storage, stored_name))


# --- Reading ------------------------------------------------------------------------------


def read_meta(encrypted_file: EncryptedFile, keyring_key: bytes) -> FileMeta:
    """The file's name, content type, size and SHA-256. Raises DecryptionError if the key is
    not its keyring's, or the sealed metadata was altered or belongs to another file."""
    return _unseal(encrypted_file, keyring_key)[0]


def open_stream(
    encrypted_file: EncryptedFile, keyring_key: bytes
) -> tuple[FileMeta, Iterator[bytes]]:
    """The file's metadata, and its plaintext chunk by chunk, verified as it is read.

    The metadata is checked at once. Each chunk is authenticated before it is handed out,
    and the whole file (nothing cut off, nothing appended, size and SHA-256 as recorded)
    before the last one is. Tampering raises DecryptionError from the iterator, at the
    latest in place of the last chunk: consumers must not act on what they received (show,
    forward, parse it) until the iterator has finished. `read_all` does that for files small
    enough to hold in memory.

    Raises DecryptionError (wrong key or altered metadata: at once; altered, truncated,
    extended or swapped contents: while iterating), and the storage's error (e.g.
    FileNotFoundError) if the stored object cannot be read.
    """
    meta, file_key, chunk = _unseal(encrypted_file, keyring_key)
    return meta, _plaintext(encrypted_file, meta, file_key, chunk)


def read_all(encrypted_file: EncryptedFile, keyring_key: bytes) -> bytes:
    """The whole plaintext, returned only once all of it is verified. Holds the file in
    memory. Raises DecryptionError as `open_stream` does."""
    _meta, chunks = open_stream(encrypted_file, keyring_key)
    return b"".join(chunks)


def _plaintext(
    encrypted_file: EncryptedFile, meta: FileMeta, file_key: bytes, chunk: int
) -> Iterator[bytes]:
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    digest = hashlib.sha256()
    size = 0
    with _storage().open(encrypted_file.storage_name, "rb") as stored:
        header = _read_exactly(stored, 1 + HEADER_BYTES)
        if len(header) != 1 + HEADER_BYTES or header[:1] != _VERSION_BYTE:
            raise DecryptionError("unknown or truncated stored file")
        try:
            sodium.crypto_secretstream_xchacha20poly1305_init_pull(
                state, header[1:], _stream_key(file_key, encrypted_file.id)
            )
        except nacl.exceptions.CryptoError:
            raise DecryptionError("unreadable stored file header") from None
        while True:
            block = _read_exactly(stored, chunk + TAG_BYTES)
            if len(block) < TAG_BYTES:
                raise DecryptionError("the stored file ends before its final chunk")
            try:
                plain, tag = sodium.crypto_secretstream_xchacha20poly1305_pull(
                    state, block, _VERSION_BYTE
                )
            except nacl.exceptions.CryptoError:
                raise DecryptionError("a chunk of the stored file does not authenticate") from None
            size += len(plain)
            digest.update(plain)
            if tag == TAG_FINAL:
                if stored.read(1):
                    raise DecryptionError("data follows the end of the stored file")
                if size != meta.size or digest.hexdigest() != meta.sha256:
                    raise DecryptionError("the stored file does not match its metadata")
                yield plain
                return
            # A short chunk not tagged FINAL is followed by nothing: caught on the next read.
            yield plain


def _read_exactly(stored: File, count: int) -> bytes:
    # Some storages' files return fewer bytes than asked before the end.
    data = stored.read(count)
    while len(data) < count:
        more = stored.read(count - len(data))
        if not more:
            break
        data += more
    return data


# --- Internals ----------------------------------------------------------------------------


class _AbandonedWriteError(Exception):
    """Raised inside the writer thread to make storage.save() fail and clean up."""


class _Encryptor:
    """One new file: its id and key, and a secretstream fed pieces of any size, counting and
    hashing the plaintext as it passes."""

    def __init__(self, *, name: str, content_type: str) -> None:
        self.id = uuid.uuid4()
        self.name = name
        self.content_type = content_type
        self.chunk = settings.VAULT_FILE_CHUNK_BYTES
        self.size = 0
        self._key = crypto.new_key()
        self._sha256 = hashlib.sha256()
        self._pending = bytearray()
        self._state = sodium.crypto_secretstream_xchacha20poly1305_state()
        self.header = _VERSION_BYTE + sodium.crypto_secretstream_xchacha20poly1305_init_push(
            self._state, _stream_key(self._key, self.id)
        )

    def update(self, data: bytes) -> bytes:
        self.size += len(data)
        self._sha256.update(data)
        self._pending += data
        out = []
        # Hold back at least one byte, so that the last chunk can be tagged FINAL.
        while len(self._pending) > self.chunk:
            out.append(self._push(bytes(self._pending[: self.chunk]), TAG_MESSAGE))
            del self._pending[: self.chunk]
        return b"".join(out)

    def finish(self) -> bytes:
        last = self._push(bytes(self._pending), TAG_FINAL)
        self._pending.clear()
        return last

    def _push(self, plain: bytes, tag: int) -> bytes:
        return sodium.crypto_secretstream_xchacha20poly1305_push(
            self._state, plain, _VERSION_BYTE, tag
        )

    def row(
        self, keyring: Keyring, keyring_key: bytes, stored_name: str, stored_size: int
    ) -> EncryptedFile:
        meta = json.dumps(
            {
                "key": base64.b64encode(self._key).decode(),
                "name": self.name,
                "type": self.content_type,
                "size": self.size,
                "sha256": self._sha256.hexdigest(),
                "chunk": self.chunk,
            }
        ).encode()
        # Trailing spaces are valid JSON.
        meta = meta.ljust(-(-len(meta) // META_PADDING) * META_PADDING)
        return EncryptedFile(
            id=self.id,
            keyring=keyring,
            storage_name=stored_name,
            sealed_meta=crypto.encrypt(keyring_key, meta, _meta_associated(self.id)),
            stored_size=stored_size,
        )


class _CiphertextReader(io.RawIOBase):
    """The stored object as a read-only file, encrypted on demand from plaintext pieces:
    what storage.save() reads, so only a chunk or two is in memory at a time."""

    def __init__(self, encryptor: _Encryptor, pieces: Iterable[bytes]) -> None:
        super().__init__()
        self._encryptor = encryptor
        self._pieces = iter(pieces)
        self._buffer = bytearray(encryptor.header)
        self._finished = False
        self.produced = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: "WriteableBuffer") -> int:
        target = memoryview(buffer).cast("B")
        while len(self._buffer) < len(target) and not self._finished:
            piece = next(self._pieces, None)
            if piece is None:
                self._buffer += self._encryptor.finish()
                self._finished = True
            else:
                self._buffer += self._encryptor.update(piece)
        count = min(len(target), len(self._buffer))
        target[:count] = self._buffer[:count]
        del self._buffer[:count]
        self.produced += count
        return count


def _storage() -> Storage:
    return storages["vault"]


def _save_object(storage: Storage, content: IO[bytes]) -> str:
    # A random name in one of 256 folders; the storage's answer is the name to record.
    token = secrets.token_hex(16)
    name = f"{token[:2]}/{token}"
    try:
        return storage.save(name, content)
    except BaseException:
        # A failed write may leave a partial object behind.
        _delete_object(storage, name)
        raise


def _delete_object(storage: Storage, name: str) -> None:
    try:
        storage.delete(name)
    except Exception:
        logger.exception("Could not delete the stored vault object %s", name)


def _stream_key(file_key: bytes, file_id: uuid.UUID) -> bytes:
    return crypto.derive_key(file_key, b"waystation file stream:" + file_id.bytes)


def _meta_associated(file_id: uuid.UUID) -> bytes:
    return f"file:{file_id}:meta".encode()


def _unseal(encrypted_file: EncryptedFile, keyring_key: bytes) -> tuple[FileMeta, bytes, int]:
    plain = crypto.decrypt(
        keyring_key, bytes(encrypted_file.sealed_meta), _meta_associated(encrypted_file.id)
    )
    try:
        fields = json.loads(plain)
        meta = FileMeta(
            name=str(fields["name"]),
            content_type=str(fields["type"]),
            size=int(fields["size"]),
            sha256=str(fields["sha256"]),
        )
        file_key = base64.b64decode(fields["key"], validate=True)
        chunk = int(fields["chunk"])
    except (ValueError, KeyError, TypeError):
        raise DecryptionError("malformed file metadata") from None
    if len(file_key) != crypto.KEY_BYTES or chunk not in _CHUNK_SIZES:
        raise DecryptionError("malformed file metadata")
    return meta, file_key, chunk

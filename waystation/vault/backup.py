"""Encrypted backups: database and encrypted file store as one stream, encrypted to an
offline public key. The private key never lives on the server; restoring needs it.

Format: b"WSBK", a version byte, a 2-byte length and the stream key sealed to the backup
public key, then a libsodium secretstream whose messages carry framed records:
`F` + name starts an entry, `D` + bytes continues it, `E` ends it; the last message is
tagged final. Entries: `manifest.json`, `database.json` (Django's dumpdata, sessions
excluded), and `files/<storage name>` for every stored encrypted file (still ciphertext).
"""

import json
import os
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import nacl.bindings as sodium
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from . import crypto
from .models import EncryptedFile

MAGIC = b"WSBK"
FORMAT_VERSION = 1
CHUNK = 64 * 1024
# Ephemeral or derivable tables stay out: sessions hold nothing worth restoring.
EXCLUDED = ["contenttypes", "auth.permission", "sessions"]
TAG_MESSAGE = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
TAG_FINAL = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL


class BackupError(Exception):
    """The backup is damaged, truncated, for another key, or the instance is not empty."""


@dataclass(frozen=True)
class BackupSummary:
    entries: int
    files: int
    plaintext_bytes: int


class _EncryptingWriter:
    """Frames records and pushes them through a secretstream in CHUNK-sized messages."""

    def __init__(self, out: IO[bytes], public_key: bytes) -> None:
        self.out = out
        key = sodium.crypto_secretstream_xchacha20poly1305_keygen()
        sealed = crypto.seal(public_key, key)
        self.state = sodium.crypto_secretstream_xchacha20poly1305_state()
        header = sodium.crypto_secretstream_xchacha20poly1305_init_push(self.state, key)
        out.write(
            MAGIC + bytes([FORMAT_VERSION]) + struct.pack(">H", len(sealed)) + sealed + header
        )
        self.buffer = bytearray()
        self.total = 0

    def _push(self, data: bytes, tag: int) -> None:
        message = sodium.crypto_secretstream_xchacha20poly1305_push(self.state, data, MAGIC, tag)
        self.out.write(struct.pack(">I", len(message)) + message)

    def record(self, kind: bytes, payload: bytes) -> None:
        self.buffer += kind + struct.pack(">I", len(payload)) + payload
        self.total += len(payload)
        while len(self.buffer) >= CHUNK:
            self._push(bytes(self.buffer[:CHUNK]), TAG_MESSAGE)
            del self.buffer[:CHUNK]

    def entry(self, name: str, chunks: Iterator[bytes]) -> None:
        self.record(b"F", name.encode())
        for chunk in chunks:
            if chunk:
                self.record(b"D", chunk)
        self.record(b"E", b"")

    def close(self) -> None:
        self._push(bytes(self.buffer), TAG_FINAL)
        self.buffer.clear()


class _TextSink:
    """A text stream for dumpdata that forwards what it is given as `D` records."""

    def __init__(self, writer: _EncryptingWriter) -> None:
        self.writer = writer
        self.pending = bytearray()

    def write(self, text: str) -> int:
        self.pending += text.encode()
        if len(self.pending) >= CHUNK:
            self.flush()
        return len(text)

    def flush(self) -> None:
        if self.pending:
            self.writer.record(b"D", bytes(self.pending))
            self.pending.clear()


def _stored_chunks(name: str) -> Iterator[bytes]:
    with storages["vault"].open(name, "rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def write_backup(out: IO[bytes], public_key: bytes) -> BackupSummary:
    """Write an encrypted backup of the database and the encrypted file store to `out`."""
    writer = _EncryptingWriter(out, public_key)
    names = list(EncryptedFile.objects.values_list("storage_name", flat=True))
    manifest = {
        "format": FORMAT_VERSION,
        "created_at": timezone.now().isoformat(),
        "database": connection.vendor,
        "files": len(names),
    }
    writer.entry("manifest.json", iter([json.dumps(manifest).encode()]))
    writer.record(b"F", b"database.json")
    sink = _TextSink(writer)
    with transaction.atomic():
        call_command("dumpdata", exclude=EXCLUDED, natural_foreign=True, stdout=sink, verbosity=0)
    sink.flush()
    writer.record(b"E", b"")
    for name in names:
        writer.entry(f"files/{name}", _stored_chunks(name))
    writer.close()
    return BackupSummary(entries=2 + len(names), files=len(names), plaintext_bytes=writer.total)


def _messages(source: IO[bytes], private_key: bytes) -> Iterator[bytes]:
    head = source.read(len(MAGIC) + 3)
    if len(head) != len(MAGIC) + 3 or head[:4] != MAGIC or head[4] != FORMAT_VERSION:
        raise BackupError("not a Waystation backup, or an unknown format")
    (sealed_length,) = struct.unpack(">H", head[5:7])
    try:
        key = crypto.unseal(private_key, source.read(sealed_length))
    except crypto.DecryptionError:
        raise BackupError("this backup was made for another key") from None
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    sodium.crypto_secretstream_xchacha20poly1305_init_pull(
        state, source.read(sodium.crypto_secretstream_xchacha20poly1305_HEADERBYTES), key
    )
    while True:
        size_bytes = source.read(4)
        if len(size_bytes) != 4:
            raise BackupError("the backup is truncated")
        message = source.read(struct.unpack(">I", size_bytes)[0])
        try:
            plain, tag = sodium.crypto_secretstream_xchacha20poly1305_pull(state, message, MAGIC)
        except Exception:
            raise BackupError("the backup is damaged") from None
        yield plain
        if tag == TAG_FINAL:
            if source.read(1):
                raise BackupError("data after the end of the backup")
            return


def _records(source: IO[bytes], private_key: bytes) -> Iterator[tuple[bytes, bytes]]:
    buffer = bytearray()
    for message in _messages(source, private_key):
        buffer += message
        while len(buffer) >= 5:
            (length,) = struct.unpack(">I", buffer[1:5])
            if len(buffer) < 5 + length:
                break
            yield bytes(buffer[:1]), bytes(buffer[5 : 5 + length])
            del buffer[: 5 + length]
    if buffer:
        raise BackupError("the backup ends inside a record")


def _instance_is_empty() -> bool:
    from waystation.accounts.models import User

    from .models import Keyring

    return not User.objects.exists() and not Keyring.objects.exists()


def restore_backup(source: IO[bytes], private_key: bytes) -> BackupSummary:
    """Restore a backup into an empty, migrated instance. Raises BackupError."""
    if not _instance_is_empty():
        raise BackupError(
            "this instance already holds accounts or cases; restore into an empty one"
        )
    storage = storages["vault"]
    entries = files = total = 0
    current: str | None = None
    spool: Any = None
    restored: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        dump_path = os.path.join(scratch, "database.json")
        for kind, payload in _records(source, private_key):
            if kind == b"F":
                current = payload.decode()
                spool = open(dump_path, "wb") if current == "database.json" else bytearray()  # noqa: SIM115
            elif kind == b"D" and current is not None:
                total += len(payload)
                spool.write(payload) if current == "database.json" else spool.extend(payload)
            elif kind == b"E" and current is not None:
                entries += 1
                if current == "database.json":
                    spool.close()
                elif current.startswith("files/"):
                    name = current.removeprefix("files/")
                    if storage.exists(name):
                        storage.delete(name)
                    storage.save(name, ContentFile(bytes(spool)))
                    restored.append(name)
                    files += 1
                current, spool = None, None
            else:
                raise BackupError("the backup's records are out of order")
        if not os.path.exists(dump_path):
            raise BackupError("the backup holds no database")
        try:
            with transaction.atomic():
                call_command("flush", interactive=False, verbosity=0)
                call_command("loaddata", dump_path, verbosity=0)
        except Exception:
            for name in restored:
                storage.delete(name)
            raise
    return BackupSummary(entries=entries, files=files, plaintext_bytes=total)

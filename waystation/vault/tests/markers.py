"""Canary markers in several scripts, every way they could be spelled in a leak, and the
places a seized server gives up."""

import base64
import io
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.cache import cache
from django.db import connection

from waystation.vault import crypto
from waystation.vault.backup import write_backup

MARKERS = {
    "latin": "CanaryZebraQuokka",
    "arabic": "كناريحمامةسرية",
    "cyrillic": "КанарейкаТайна",
    "persian": "قناریپنهانگچ",
}


def encodings(marker: str) -> Iterator[bytes]:
    """The marker as bytes in UTF-8, UTF-16 (both orders), hex and base64 (every alignment)."""
    yield from byte_encodings(marker.encode())
    yield marker.encode("utf-16-le")
    yield marker.encode("utf-16-be")


def byte_encodings(raw: bytes) -> Iterator[bytes]:
    """Bytes as they are, in hex and in base64 (every alignment)."""
    yield raw
    yield raw.hex().encode()
    for offset in range(3):
        encoded = base64.b64encode(b"\x00" * offset + raw)
        # Drop the characters that depend on the neighbouring bytes.
        yield encoded[4:-4]


def database_dump() -> bytes:
    """The whole database as text: SQLite's iterdump, or pg_dump on PostgreSQL."""
    if connection.vendor == "sqlite":
        return "\n".join(connection.connection.iterdump()).encode()
    name = settings.DATABASES["default"]["NAME"]
    test_name = connection.settings_dict["NAME"]
    result = subprocess.run(
        [
            "pg_dump",
            "--no-owner",
            "-h",
            connection.settings_dict["HOST"] or "127.0.0.1",
            "-U",
            connection.settings_dict["USER"] or "postgres",
            test_name or name,
        ],
        capture_output=True,
        check=True,
        timeout=120,
    )
    return result.stdout


def seized_places(vault_storage: Path, caplog: Any, capfd: Any) -> dict[str, bytes]:
    """Everything a seized server gives up, as bytes to search: the database, the file store
    (contents and names), an encrypted backup, the session store, the cache, the logs (the
    records and the process's own output, so call this last) and the mail sent."""
    backup = io.BytesIO()
    write_backup(backup, crypto.new_keypair()[1])
    out, err = capfd.readouterr()
    cached = getattr(cache, "_cache", {})
    stored = [path for path in vault_storage.rglob("*") if path.is_file()]
    return {
        "database dump": database_dump(),
        "file store": b"".join(path.read_bytes() for path in stored)
        + b"".join(path.name.encode() for path in vault_storage.rglob("*")),
        "backup archive": backup.getvalue(),
        "session store": b"".join(
            s.session_data.encode() + repr(s.get_decoded()).encode() for s in Session.objects.all()
        ),
        "cache": repr(dict(cached)).encode(),
        "logs": "\n".join(r.getMessage() for r in caplog.records).encode()
        + out.encode()
        + err.encode(),
        "mail": b"".join(m.message().as_bytes() for m in mail.outbox),
    }


def assert_no_traces(places: Mapping[str, bytes], traces: Mapping[str, str | bytes]) -> None:
    """Fail on the first trace found in a place, in any of its encodings (`encodings` for
    text, `byte_encodings` for bytes), showing what surrounds it."""
    for place, content in places.items():
        for what, trace in traces.items():
            patterns = encodings(trace) if isinstance(trace, str) else byte_encodings(trace)
            for pattern in patterns:
                at = content.find(pattern)
                assert at < 0, f"{what} found in {place}: {content[max(0, at - 300) : at + 60]!r}"

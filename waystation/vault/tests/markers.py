"""Canary markers in several scripts, every way they could be spelled in a leak, and the
places a seized server gives up."""

import base64
import subprocess
from collections.abc import Iterator

from django.conf import settings
from django.db import connection

MARKERS = {
    "latin": "CanaryZebraQuokka",
    "arabic": "كناريحمامةسرية",
    "cyrillic": "КанарейкаТайна",
    "persian": "قناریپنهانگچ",
}


def encodings(marker: str) -> Iterator[bytes]:
    """The marker as bytes in UTF-8, UTF-16 (both orders), hex and base64 (every alignment)."""
    raw = marker.encode()
    yield raw
    yield marker.encode("utf-16-le")
    yield marker.encode("utf-16-be")
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

"""Canary markers in several scripts, and every way they could be spelled in a leak."""

import base64
from collections.abc import Iterator

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

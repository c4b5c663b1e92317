"""A payment's receipts as pages show them and as they are downloaded.

A receipt is a vault file under the payment's keyring (the request's), read with that
keyring's key: the clean copy `payments.attach_receipt` made of the upload, under a neutral
name (the upload's own name is not kept). Its format and size show only for someone whose
keys open it, its contents only as an attachment under a neutral name, of a type checked
from its first bytes.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.http import StreamingHttpResponse

from waystation.intake.services import sniff_type
from waystation.vault import crypto, files
from waystation.vault.access import UnreadableError

from .models import Receipt

if TYPE_CHECKING:
    from .forms import ReceiptRemovalForm

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}
# The names of the formats as the page shows them (the same in every language).
FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "application/pdf": "PDF"}
# Sent to be saved, never shown: a browser that displays it anyway runs nothing of it.
POLICY = "default-src 'none'; frame-ancestors 'none'; sandbox"


@dataclass(frozen=True)
class ReceiptRow:
    """One receipt as a page lists it: its format and size when the key opened it, and on
    the payment's page the form to remove it when the user may."""

    receipt: Receipt
    opened: bool = False
    format: str = ""
    size: int = 0
    damaged: bool = False
    removal: "ReceiptRemovalForm | None" = None


@dataclass(frozen=True)
class OpenedReceipt:
    """A receipt ready to send: its plaintext comes chunk by chunk."""

    content_type: str
    size: int
    chunks: Iterator[bytes]


def receipt_rows(receipts: Iterable[Receipt], key: bytes | None) -> list[ReceiptRow]:
    """The receipts with the formats and sizes from their sealed metadata (the stored bytes
    are not read); without a key, without them. A receipt whose metadata is damaged is
    marked so; the others still show."""
    rows = []
    for receipt in receipts:
        if key is None:
            rows.append(ReceiptRow(receipt))
            continue
        try:
            meta = files.read_meta(receipt.file, key)
        except crypto.DecryptionError:
            rows.append(ReceiptRow(receipt, damaged=True))
        else:
            rows.append(
                ReceiptRow(
                    receipt, opened=True, format=FORMATS.get(meta.content_type, ""), size=meta.size
                )
            )
    return rows


def open_receipt(receipt: Receipt, key: bytes) -> OpenedReceipt:
    """The receipt's plaintext, decrypted chunk by chunk. The whole file is authenticated
    before the first chunk is handed out, so a damaged or altered file is refused rather
    than sent in part. Raises UnreadableError (damaged metadata or stored bytes, a type that
    is not a receipt's, or a stored object that cannot be read)."""
    try:
        meta, chunks = files.open_stream(receipt.file, key)
        # Every chunk but the last is at least a kilobyte: the first holds the file's magic.
        head = b""
        for chunk in chunks:
            head = head or chunk[:16]
        content_type = sniff_type(head[:16])
        if content_type is None:
            raise UnreadableError("receipt")
        # Read it again to send it: a file altered between the two readings still fails its
        # checks, and the answer breaks off instead of ending.
        _meta, chunks = files.open_stream(receipt.file, key)
    except (crypto.DecryptionError, OSError) as error:
        raise UnreadableError("receipt") from error
    return OpenedReceipt(content_type=content_type, size=meta.size, chunks=chunks)


def attachment_response(receipt: Receipt, opened: OpenedReceipt) -> StreamingHttpResponse:
    """The receipt as a file to save: its checked type, no sniffing, no cache, a neutral
    name."""
    response = StreamingHttpResponse(opened.chunks, content_type=opened.content_type)
    response["Content-Length"] = str(opened.size)
    extension = EXTENSIONS[opened.content_type]
    response["Content-Disposition"] = (
        f'attachment; filename="receipt-{str(receipt.pk)[:8]}.{extension}"'
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = POLICY
    response["Cache-Control"] = "no-store, max-age=0"
    return response

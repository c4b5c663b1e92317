"""The files the person sent, as staff see them from the case page: derivatives only.

Each Evidence holds the original, kept encrypted as it arrived (for the asylum dossier
later), and, when one could be made, a derivative without the file's metadata
(`intake/derivatives.py`: photos re-encoded from their pixels, PDFs redrawn as page images).
The derivative's key is sealed, with the original's, to the request's inbox key, which the
case key opens. This module reads only the derivative's key: no staff page opens an original.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from django.http import StreamingHttpResponse

from waystation.intake import services as intake
from waystation.intake.models import Evidence
from waystation.vault import crypto, files
from waystation.vault.access import UnreadableError

from .models import Case

# The only content types a derivative is sent as, what the page calls each, and the
# extension of its neutral file name. A file whose sealed metadata says anything else is
# not sent at all.
SERVED_TYPES = {
    "image/jpeg": ("image", "jpg"),
    "image/png": ("image", "png"),
    "application/pdf": ("pdf", "pdf"),
}
# A sandboxed document may run nothing, and can't reach the site's cookies or pages.
IMAGE_POLICY = "default-src 'none'; frame-ancestors 'none'; sandbox"
# Browsers refuse to show a PDF in a sandboxed document, so PDFs go without `sandbox`. A
# derivative PDF holds page images only (redrawn by `derivatives.pdf_as_images`): no script,
# form, link or attachment for a viewer to run.
PDF_POLICY = "default-src 'none'; frame-ancestors 'none'"


class NoPreviewError(Exception):
    """The file is kept, but it has no derivative to show."""


@dataclass(frozen=True)
class EvidenceItem:
    """One file as the case page lists it: the kind and size are its derivative's."""

    evidence: Evidence
    # "image" or "pdf"; "" for a file kept without a preview.
    kind: str = ""
    size: int = 0
    damaged: bool = False


@dataclass(frozen=True)
class Derivative:
    """A derivative ready to send: its plaintext comes chunk by chunk."""

    content_type: str
    size: int
    chunks: Iterator[bytes]

    @property
    def extension(self) -> str:
        return SERVED_TYPES[self.content_type][1]


def evidence_items(case: Case, keyring_key: bytes) -> list[EvidenceItem]:
    """Every file the person sent for the case, oldest first, with the kind and size of its
    derivative, read from the derivative's sealed metadata (the stored bytes are not read).
    A file whose keys or metadata are damaged is marked so; the others still show."""
    received = list(
        Evidence.objects.filter(request_id=case.request_id)
        .select_related("derivative")
        .order_by("received_at", "pk")
    )
    if not received:
        return []
    try:
        inbox = intake.inbox_key(case.request, keyring_key)
    except crypto.DecryptionError:
        return [EvidenceItem(evidence, damaged=True) for evidence in received]
    return [_item(evidence, inbox) for evidence in received]


def _item(evidence: Evidence, inbox: bytes) -> EvidenceItem:
    try:
        key = intake.derivative_key(evidence, inbox)
        if key is None or evidence.derivative is None:
            return EvidenceItem(evidence)
        meta = files.read_meta(evidence.derivative, key)
    except crypto.DecryptionError:
        return EvidenceItem(evidence, damaged=True)
    if meta.content_type not in SERVED_TYPES:
        return EvidenceItem(evidence)
    return EvidenceItem(evidence, kind=SERVED_TYPES[meta.content_type][0], size=meta.size)


def open_derivative(case: Case, evidence: Evidence, keyring_key: bytes) -> Derivative:
    """The evidence's derivative, decrypted chunk by chunk with the case key's help.

    The whole file is authenticated before the first chunk is handed out, so a damaged or
    altered file is refused rather than shown in part. Raises NoPreviewError (kept without
    a derivative of a type served) or UnreadableError (damaged keys, metadata or stored
    bytes, or a stored object that cannot be read)."""
    try:
        key = intake.derivative_key(evidence, intake.inbox_key(case.request, keyring_key))
        if key is None or evidence.derivative is None:
            raise NoPreviewError
        meta, chunks = files.open_stream(evidence.derivative, key)
        if meta.content_type not in SERVED_TYPES:
            raise NoPreviewError
        # The stream's own check of the whole file comes with its last chunk, after the
        # others were sent: read it through once first, holding one chunk at a time. A
        # file altered between the two readings still fails its checks: the answer breaks
        # off instead of ending.
        for _chunk in chunks:
            pass
        _meta, chunks = files.open_stream(evidence.derivative, key)
    except (crypto.DecryptionError, OSError) as error:
        raise UnreadableError("evidence") from error
    return Derivative(content_type=meta.content_type, size=meta.size, chunks=chunks)


def inline_response(evidence: Evidence, derivative: Derivative) -> StreamingHttpResponse:
    """The derivative for the browser to show, never to run or guess at: its type from
    SERVED_TYPES only and no sniffing, sandboxed where browsers allow it, kept in no cache,
    under a neutral name (never the one the person's file had)."""
    response = StreamingHttpResponse(derivative.chunks, content_type=derivative.content_type)
    response["Content-Length"] = str(derivative.size)
    response["Content-Disposition"] = (
        f'inline; filename="evidence-{str(evidence.pk)[:8]}.{derivative.extension}"'
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = (
        PDF_POLICY if derivative.content_type == "application/pdf" else IMAGE_POLICY
    )
    response["Cache-Control"] = "no-store, max-age=0"
    return response

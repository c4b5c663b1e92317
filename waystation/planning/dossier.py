"""A case dossier for the person's lawyer or their asylum claim: a PDF drawn by WeasyPrint
from `planning/dossier_pdf.html` in the dossier's language, the evidence the caseworker
included after it, encrypted to a passphrase (AES-256).

Nothing here reads the database or writes anywhere: another module builds a `Dossier` from
the case, and the plain PDF exists in memory only. WeasyPrint may fetch nothing but the
`data:` URLs of the included images, so no text in a case can make the server fetch a URL
or read a file.
"""

import base64
import io
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.request import DataHandler, Request

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from PIL import Image
from pypdf import PdfReader, PdfWriter
from weasyprint import HTML
from weasyprint.document import Document
from weasyprint.urls import URLFetcher, URLFetcherResponse

TEMPLATE = "planning/dossier_pdf.html"
MIN_PASSPHRASE_LENGTH = 16
# Crockford's base 32: digits and lowercase letters without i, l, o and u, so nothing reads
# as something else aloud or on paper. Five groups of four give exactly 100 bits.
SUGGESTED_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
SUGGESTED_GROUPS = 5
SUGGESTED_GROUP_LENGTH = 4
# The pictures embedded in the HTML, by the format Pillow finds in the bytes (whatever type
# they claim to be).
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}


@dataclass(frozen=True)
class DossierEvidence:
    """A row of the evidence table, and the clean copy when the caseworker included it."""

    # When the file reached the organization.
    received_at: datetime
    # Labels, already translated.
    kind: str
    review: str
    # Hex SHA-256 of the original file as the person sent it.
    sha256: str
    # The clean copy (image/jpeg, image/png, or application/pdf: a PDF of page images) when
    # the caseworker chose to include it, else no data.
    content_type: str = ""
    data: bytes | None = None


@dataclass(frozen=True)
class DossierEvent:
    """A line of the timeline: labels only, already translated, no content of the case."""

    at: datetime
    text: str


@dataclass(frozen=True)
class Dossier:
    """What the dossier shows. Text is shown as text (never markup) and is already in the
    dossier's language, except the person's and the reviewers' own words."""

    reference: str
    # settings.SITE_TITLE.
    organization: str
    prepared_at: datetime
    # A language code from settings.LANGUAGES ("" for settings.LANGUAGE_CODE).
    language: str
    # As the person gave it ("" when not given).
    person_name: str
    # Country names, already localized; `country` is where the person is now.
    nationalities: list[str]
    country: str
    verified: bool
    # Lines summarizing verification, already translated.
    verification: list[str]
    # The reviewers' written summary, free text (may be "").
    verification_summary: str
    evidence: list[DossierEvidence]
    # A label (may be "").
    pathway: str
    # (due date text, title, state label).
    milestones: list[tuple[str, str, str]]
    timeline: list[DossierEvent]


@dataclass(frozen=True)
class Annex:
    """An evidence item the caseworker included, as the dossier shows it after its tables:
    `image_url` for a picture that decodes, `pdf` for a PDF whose pages can be copied,
    neither when the bytes are damaged or of another type."""

    number: int
    item: DossierEvidence
    image_url: str = ""
    pdf: PdfReader | None = None

    @property
    def anchor(self) -> str:
        return f"annex-{self.number}"

    @property
    def failed(self) -> bool:
        return not self.image_url and self.pdf is None


class DataOnlyFetcher(URLFetcher):
    """WeasyPrint's URL fetcher for the dossier: answers `data:` URLs and raises ValueError
    for every other URL (http, file, relative, ...)."""

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        if not url.startswith("data:"):
            raise ValueError("The dossier fetches data: URLs only.")
        # urllib's data: handler on its own: an opener would also consult proxy settings.
        # S310 warns of file: and other schemes, and only data: gets here.
        response = DataHandler().data_open(Request(url))  # noqa: S310
        content_type = response.headers.get_content_type()
        return URLFetcherResponse(url, response.read(), {"Content-Type": content_type})


def render_pdf(dossier: Dossier) -> bytes:
    """The dossier as a PDF (not encrypted): its own pages, then each included evidence item
    in the order of the evidence table, a picture on a page of its own with its caption, a
    PDF as a caption page followed by the PDF's pages. The document information holds the
    title ("Case dossier" and the reference) and nothing else.

    An item whose bytes cannot be read is left out, and its caption says so. Raises nothing
    for bad data in the dossier."""
    annexes = _annexes(dossier)
    document = HTML(string=_html(dossier, annexes), url_fetcher=DataOnlyFetcher()).render()
    rendered = PdfReader(io.BytesIO(document.write_pdf()))
    # Each annex starts on a new page; a PDF's pages go after the last page of its caption.
    starts = [_first_page(document, annex.anchor) for annex in annexes]
    # An annex ends where the next one starts, the last one with the document.
    ends = [start - 1 for start in [*starts, len(document.pages)][1:]]
    appended = {
        end: annex.pdf for annex, end in zip(annexes, ends, strict=True) if annex.pdf is not None
    }

    # A new file rather than WeasyPrint's: its document information (producer, dates) stays
    # behind, and so do the outline and the catalog's extras.
    writer = PdfWriter()
    for index, page in enumerate(rendered.pages):
        writer.add_page(page)
        if (pdf := appended.get(index)) is not None:
            for evidence_page in pdf.pages:
                writer.add_page(evidence_page)
    writer.metadata = {"/Title": document.metadata.title or ""}
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def encrypt_pdf(pdf: bytes, passphrase: str) -> bytes:
    """The PDF encrypted with AES-256 (PDF 2.0 standard security handler, revision 6) to
    `passphrase`, needed both to open it and to change it. Raises ValueError for a
    passphrase shorter than MIN_PASSPHRASE_LENGTH characters (spaces around it not
    counted)."""
    _refuse_short(passphrase)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password=passphrase, owner_password=passphrase, algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def export(dossier: Dossier, passphrase: str) -> bytes:
    """The dossier as an encrypted PDF (`render_pdf`, then `encrypt_pdf`); the plain PDF
    exists in memory only. Raises ValueError for a short passphrase, before rendering."""
    _refuse_short(passphrase)
    return encrypt_pdf(render_pdf(dossier), passphrase)


def suggest_passphrase() -> str:
    """A random passphrase of 100 bits to read out or type: five groups of four characters
    from SUGGESTED_ALPHABET joined by '-', e.g. "7kq2-m9xd-04fz-hn3w-c8tb"."""
    return "-".join(
        "".join(secrets.choice(SUGGESTED_ALPHABET) for _ in range(SUGGESTED_GROUP_LENGTH))
        for _ in range(SUGGESTED_GROUPS)
    )


def dossier_html(dossier: Dossier) -> str:
    """The HTML WeasyPrint draws the dossier's own pages from, in the dossier's language."""
    return _html(dossier, _annexes(dossier))


def _html(dossier: Dossier, annexes: list[Annex]) -> str:
    with translation.override(dossier.language or settings.LANGUAGE_CODE):
        return render_to_string(
            TEMPLATE,
            {
                "dossier": dossier,
                "annexes": annexes,
                "language": translation.get_language() or "",
                "bidi": translation.get_language_bidi(),
            },
        )


def _refuse_short(passphrase: str) -> None:
    if len(passphrase.strip()) < MIN_PASSPHRASE_LENGTH:
        raise ValueError(f"The passphrase needs {MIN_PASSPHRASE_LENGTH} characters or more.")


def _first_page(document: Document, anchor: str) -> int:
    """The index of the page where the element with id `anchor` is, else the page count."""
    return next(
        (index for index, page in enumerate(document.pages) if anchor in page.anchors),
        len(document.pages),
    )


def _annexes(dossier: Dossier) -> list[Annex]:
    """The included evidence items, numbered as in the evidence table, each checked."""
    annexes = []
    for number, item in enumerate(dossier.evidence, start=1):
        if item.data is None:
            continue
        if item.content_type == "application/pdf":
            annexes.append(Annex(number, item, pdf=_readable_pdf(item.data)))
        elif item.content_type.startswith("image/"):
            annexes.append(Annex(number, item, image_url=_image_url(item.data)))
        else:
            annexes.append(Annex(number, item))
    return annexes


def _image_url(data: bytes) -> str:
    """A `data:` URL of a JPEG or PNG image that decodes in full, else ""."""
    try:
        with Image.open(io.BytesIO(data), formats=list(IMAGE_TYPES)) as image:
            image.load()
            content_type = IMAGE_TYPES[str(image.format)]
    # A damaged file can make a decoder raise nearly anything; the dossier leaves it out.
    except Exception:
        return ""
    # WeasyPrint names an image in the PDF after the MD5 of its URL, and names are not
    # encrypted: a random parameter keeps someone who holds a photo from confirming, by its
    # name, that it is in a dossier they cannot open.
    nonce = secrets.token_hex(16)
    return f"data:{content_type};n={nonce};base64,{base64.b64encode(data).decode('ascii')}"


def _readable_pdf(data: bytes) -> PdfReader | None:
    """The PDF, when it opens without a password and each of its pages copies into another
    document, else None."""
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted or not reader.pages:
            return None
        # Copied once for nothing, so that a page that cannot be copied shows up here, while
        # the caption can still say so, and not halfway through the dossier.
        trial = PdfWriter()
        for page in reader.pages:
            trial.add_page(page)
        trial.write(io.BytesIO())
    # A damaged file can make pypdf raise nearly anything; the dossier leaves it out.
    except Exception:
        return None
    return reader

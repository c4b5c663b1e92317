"""The copies of evidence shown to staff: pixels only, bounded work, no error for bad files."""

import io
import json
from dataclasses import dataclass

import pypdfium2 as pdfium
import pytest
from PIL import Image

from conftest import PASSWORD
from waystation.intake import derivatives, services
from waystation.intake.models import Evidence
from waystation.vault import crypto, files
from waystation.vault import services as vault

from .conftest import ANSWERS

INFO_CANARIES = {
    "title": "CANARY-TITLE",
    "author": "CANARY-AUTHOR",
    "subject": "CANARY-SUBJECT",
    "keywords": "CANARY-KEYWORDS",
    "creator": "CANARY-CREATOR",
    "producer": "CANARY-PRODUCER",
}


@dataclass
class Rendered:
    """What a PDF reader finds in a derivative."""

    pages: int
    sizes: list[tuple[float, float]]
    image_pixels: list[tuple[int, int]]
    text: str
    metadata: dict[str, str]
    attachments: int


def _read(data: bytes) -> Rendered:
    with pdfium.PdfDocument(data) as pdf:
        sizes, pixels, text = [], [], []
        for page in pdf:
            sizes.append(page.get_size())
            images = page.get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_IMAGE])
            pixels += [image.get_px_size() for image in images]
            textpage = page.get_textpage()
            text.append(textpage.get_text_bounded())
            textpage.close()
            page.close()
        return Rendered(
            pages=len(pdf),
            sizes=sizes,
            image_pixels=pixels,
            text="".join(text),
            metadata=pdf.get_metadata_dict(skip_empty=True),
            attachments=pdf.count_attachments(),
        )


def _contains(data: bytes, marker: str) -> bool:
    # Pillow writes document info as UTF-16.
    return marker.encode() in data or marker.encode("utf-16-be") in data


def _pillow_pdf(pages: int = 2, *, size: tuple[int, int] = (60, 80), **options: object) -> bytes:
    images = [Image.new("RGB", size, (40 * i % 256, 120, 200)) for i in range(pages)]
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:], **options)
    return out.getvalue()


def _written_pdf(objects: list[bytes], trailer: bytes = b"") -> bytes:
    """A PDF written by hand from numbered object bodies (1 is the catalog), with its
    cross-reference table."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\n" % (len(objects) + 1, trailer)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def _stream(data: bytes, entries: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n%s\nendstream" % (len(data), entries, data)


_TEXT_PAGE = [
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R"
    b" /Resources << /Font << /F1 5 0 R >> >> >>",
    # One line drawn, one in invisible render mode 3 (as an OCR layer is).
    _stream(
        b"BT /F1 12 Tf 10 60 Td (CANARY-VISIBLE) Tj ET"
        b" BT 3 Tr /F1 12 Tf 10 20 Td (CANARY-HIDDEN) Tj ET"
    ),
    b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
]


def _pdf_with_text_and_extras() -> bytes:
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF'
        b' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description'
        b' xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>CANARY-XMP</dc:creator>'
        b"</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    return _written_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R /Metadata 6 0 R /OpenAction 7 0 R"
            b" /Names << /EmbeddedFiles << /Names [(notes.txt) 8 0 R] >> >> >>",
            *_TEXT_PAGE,
            _stream(xmp, b"/Type /Metadata /Subtype /XML "),
            b"<< /S /JavaScript /JS (app.alert('CANARY-SCRIPT')) >>",
            b"<< /Type /Filespec /F (notes.txt) /EF << /F 9 0 R >> >>",
            _stream(b"CANARY-ATTACHMENT", b"/Type /EmbeddedFile "),
            b"<< /Title (CANARY-INFO) >>",
        ],
        trailer=b"/Info 10 0 R ",
    )


def _encrypted_pdf() -> bytes:
    # Standard security with a user password we do not know (random /O and /U values):
    # what a password-protected PDF looks like to a reader without the password.
    return _written_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            *_TEXT_PAGE,
            b"<< /Filter /Standard /V 1 /R 2 /P -4 /O <%s> /U <%s> >>" % (b"1f" * 32, b"2e" * 32),
        ],
        trailer=b"/Encrypt 6 0 R /ID [<00112233445566778899aabbccddeeff>"
        b" <00112233445566778899aabbccddeeff>] ",
    )


def test_pdf_copy_keeps_the_pages_and_drops_document_info() -> None:
    original = _pillow_pdf(2, **INFO_CANARIES)
    source = _read(original)
    assert set(INFO_CANARIES.values()) <= set(source.metadata.values())
    assert all(_contains(original, marker) for marker in INFO_CANARIES.values())
    clean = derivatives.pdf_as_images(original)
    assert clean is not None
    rendered = _read(clean)
    assert rendered.pages == 2 and len(rendered.image_pixels) == 2
    for size, source_size in zip(rendered.sizes, source.sizes, strict=True):
        assert size == pytest.approx(source_size, abs=1)
    assert rendered.metadata == {}
    assert not any(_contains(clean, marker) for marker in INFO_CANARIES.values())


def test_pdf_copy_drops_exif_of_embedded_photos() -> None:
    exif = Image.Exif()
    exif[0x010F] = "CANARY-CAMERA"
    # GPS latitude 6° 27' N: where the photo was taken.
    exif.get_ifd(0x8825).update({1: "N", 2: (6.0, 27.0, 0.0)})
    original = _pillow_pdf(1, exif=exif.tobytes())
    assert b"CANARY-CAMERA" in original and b"Exif" in original
    clean = derivatives.pdf_as_images(original)
    assert clean is not None
    assert b"CANARY-CAMERA" not in clean and b"Exif" not in clean


def test_pdf_copy_drops_text_xmp_scripts_and_attachments() -> None:
    original = _pdf_with_text_and_extras()
    source = _read(original)
    assert "CANARY-VISIBLE" in source.text and "CANARY-HIDDEN" in source.text
    assert source.attachments == 1 and source.metadata == {"Title": "CANARY-INFO"}
    clean = derivatives.pdf_as_images(original)
    assert clean is not None
    rendered = _read(clean)
    assert rendered.pages == 1 and rendered.text == ""
    assert rendered.attachments == 0 and rendered.metadata == {}
    assert b"CANARY" not in clean
    for absent in (b"/JavaScript", b"/OpenAction", b"/EmbeddedFiles", b"/Metadata", b"/Font"):
        assert absent not in clean


def test_pdf_copy_stops_at_the_page_cap() -> None:
    original = _pillow_pdf(derivatives.MAX_PDF_PAGES + 2, size=(8, 8))
    clean = derivatives.pdf_as_images(original)
    assert clean is not None
    assert _read(clean).pages == derivatives.MAX_PDF_PAGES


def test_huge_page_is_drawn_within_the_pixel_cap() -> None:
    # 10 pixels at 0.05 dpi: a page 200 inches (14,400 points) square.
    original = _pillow_pdf(1, size=(10, 10), resolution=0.05)
    clean = derivatives.pdf_as_images(original)
    assert clean is not None
    rendered = _read(clean)
    [(width, height)] = rendered.image_pixels
    # Rounding up to whole pixels may add a row and a column.
    assert width * height <= derivatives.MAX_PAGE_PIXELS + width + height + 1
    [size] = rendered.sizes
    assert size == pytest.approx((14_400, 14_400), rel=0.01)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(_encrypted_pdf(), id="encrypted"),
        pytest.param(b"%PDF-1.4\n" + bytes(range(256)) * 8, id="garbage"),
        pytest.param(b"%PDF-", id="header-only"),
        pytest.param(_pillow_pdf(3)[:-200], id="truncated-end"),
        pytest.param(_pillow_pdf(3)[:400], id="truncated-start"),
        pytest.param(
            _written_pdf(
                [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]
            ),
            id="no-pages",
        ),
    ],
)
def test_unreadable_pdf_gives_no_copy(data: bytes) -> None:
    assert derivatives.pdf_as_images(data) is None
    assert derivatives.clean_copy(data, "application/pdf") is None


def test_encrypted_test_pdf_is_refused_for_its_password() -> None:
    with pytest.raises(pdfium.PdfiumError, match="password"):
        pdfium.PdfDocument(_encrypted_pdf())


@pytest.mark.parametrize(
    ("content_type", "image_format", "magic"),
    [
        ("image/jpeg", "JPEG", b"\xff\xd8\xff"),
        ("image/png", "PNG", b"\x89PNG"),
        ("application/pdf", "PDF", b"%PDF-"),
    ],
)
def test_clean_copy_keeps_the_content_type(
    content_type: str, image_format: str, magic: bytes
) -> None:
    out = io.BytesIO()
    Image.new("RGB", (20, 20), "blue").save(out, image_format)
    clean = derivatives.clean_copy(out.getvalue(), content_type)
    assert clean is not None and clean.startswith(magic)


def test_clean_copy_of_an_unknown_type_is_none() -> None:
    assert derivatives.clean_copy(b"GIF89a", "image/gif") is None


@pytest.mark.django_db
def test_pdf_evidence_is_stored_with_a_clean_derivative(intake_team) -> None:  # type: ignore[no-untyped-def]
    answers = services.Answers(
        country="NG",
        region="Lagos",
        nationalities="Nigerian",
        narrative=ANSWERS["narrative"],
        risk="now",
        organization="",
        documents=["none"],
    )
    request, _code = services.submit_request(answers, language="en", form_token="pdf")
    original = _pillow_pdf(2, **INFO_CANARIES)
    file_key = crypto.new_key()
    writer = files.FileWriter(
        request.keyring, file_key, name="statement.pdf", content_type="application/pdf"
    )
    writer.write(original)
    evidence = services.add_evidence(request, writer.close(), file_key)

    member = intake_team.memberships.get().user
    keyring_key = vault.open_keyring(request.keyring, vault.unlock_with_password(member, PASSWORD))
    inbox = services.inbox_key(request, keyring_key)
    keys = json.loads(crypto.unseal(inbox, bytes(Evidence.objects.get().sealed_keys)))
    assert evidence.derivative is not None
    clean = files.read_all(evidence.derivative, bytes.fromhex(keys["derivative"]))
    assert files.read_all(evidence.original, bytes.fromhex(keys["original"])) == original
    assert files.read_meta(evidence.derivative, bytes.fromhex(keys["derivative"])).content_type == (
        "application/pdf"
    )
    assert _read(clean).pages == 2
    assert not any(_contains(clean, marker) for marker in INFO_CANARIES.values())

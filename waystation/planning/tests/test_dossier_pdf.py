"""The case dossier as an encrypted PDF: what it holds, what an outsider without the
passphrase gets from the file, and what it never fetches."""

import base64
import hashlib
import io
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from PIL import Image
from pypdf import PasswordType, PdfReader
from pypdf.errors import FileNotDecryptedError, PdfReadError
from weasyprint import HTML

from waystation.planning import dossier
from waystation.planning.dossier import (
    MIN_PASSPHRASE_LENGTH,
    DataOnlyFetcher,
    Dossier,
    DossierEvent,
    DossierEvidence,
)

PASSPHRASE = "q7mw-4hzk-9x2c-bd8t-n3fp"
RECEIVED = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
NAME = "Zephyrine Quillfeather"
SUMMARY = "Testimony consistent with the letters from Kampala"
ARABIC_NAME = "ليلى حسن"
COULD_NOT = "This file could not be included."


def sha256(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


def image(kind: str, color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 80), color).save(out, format=kind)
    return out.getvalue()


def two_page_pdf() -> bytes:
    return HTML(
        string="<p>Annexed page one</p><p style='break-before: page'>Annexed two</p>"
    ).write_pdf()


def evidence(label: str, content_type: str = "", data: bytes | None = None) -> DossierEvidence:
    return DossierEvidence(
        received_at=RECEIVED,
        kind=f"Kind {label}",
        review="Accepted",
        sha256=sha256(label),
        content_type=content_type,
        data=data,
    )


def make_dossier(**overrides: Any) -> Dossier:
    values: dict[str, Any] = {
        "reference": "K7QM-2XHD",
        "organization": "Rainbow Crossing",
        "prepared_at": datetime(2025, 5, 6, 12, tzinfo=UTC),
        "language": "en",
        "person_name": NAME,
        "nationalities": ["Uganda"],
        "country": "Kenya",
        "verified": True,
        "verification": ["Two reviewers confirmed the identity."],
        "verification_summary": SUMMARY,
        "evidence": [evidence("letter"), evidence("report")],
        "pathway": "Resettlement",
        "milestones": [("June 1, 2025", "Passport renewed", "Open")],
        "timeline": [DossierEvent(at=RECEIVED, text="Case opened after the first contact.")],
    }
    return Dossier(**{**values, **overrides})


def read(pdf: bytes) -> PdfReader:
    reader = PdfReader(io.BytesIO(pdf))
    if reader.is_encrypted:
        assert reader.decrypt(PASSPHRASE) != PasswordType.NOT_DECRYPTED
    return reader


def page_texts(reader: PdfReader) -> list[str]:
    return [page.extract_text() for page in reader.pages]


def pages_drawing_images(reader: PdfReader) -> list[int]:
    """The pages whose content draws an image (the pages of a PDF share their resources, so
    an image listed there may be drawn on another page)."""
    drawing = []
    for index, page in enumerate(reader.pages):
        xobjects = page["/Resources"].get("/XObject", {})
        content = page.get_contents()
        data = content.get_data() if content is not None else b""
        if any(
            xobject.get_object()["/Subtype"] == "/Image" and f"{name} Do".encode() in data
            for name, xobject in xobjects.items()
        ):
            drawing.append(index)
    return drawing


def without_spaces(text: str) -> str:
    # A hash wraps inside its table cell.
    return re.sub(r"\s", "", text)


@pytest.fixture(scope="module")
def exported() -> bytes:
    return dossier.export(make_dossier(), PASSPHRASE)


@pytest.fixture(scope="module")
def plain() -> bytes:
    return dossier.render_pdf(make_dossier())


def test_an_exported_dossier_is_encrypted_with_aes_256(exported: bytes) -> None:
    reader = PdfReader(io.BytesIO(exported))
    assert reader.is_encrypted
    # Revision 6 of the standard security handler: AES-256, PDF 2.0.
    assert reader.trailer["/Encrypt"]["/V"] == 5
    assert reader.trailer["/Encrypt"]["/R"] == 6


def test_a_wrong_passphrase_opens_nothing(exported: bytes) -> None:
    reader = PdfReader(io.BytesIO(exported))
    assert reader.decrypt("wrong passphrase, long enough") == PasswordType.NOT_DECRYPTED
    with pytest.raises((FileNotDecryptedError, PdfReadError)):
        reader.pages[0].extract_text()


def test_the_encrypted_file_shows_nothing_of_the_case(exported: bytes) -> None:
    # The title holds the reference, and a plain PDF carries it as it is.
    markers = ["K7QM", "Case dossier", NAME, SUMMARY, sha256("letter"), "Rainbow Crossing"]
    for marker in markers:
        for encoding in ("utf-8", "utf-16-be"):
            assert marker.encode(encoding) not in exported, marker


def test_the_plain_pdf_carries_its_title_in_the_clear(plain: bytes) -> None:
    # What encryption hides above: without it, the title is readable in the file.
    assert b"Case dossier K7QM" in plain


def test_the_passphrase_opens_the_whole_dossier(exported: bytes) -> None:
    text = "\n".join(page_texts(read(exported)))
    for expected in [
        "K7QM-2XHD",
        "Rainbow Crossing",
        NAME,
        SUMMARY,
        "Two reviewers confirmed the identity.",
        "Passport renewed",
        "Case opened after the first contact.",
        "Prepared on May 6, 2025 by Rainbow Crossing. Confidential",
    ]:
        assert expected in text, expected
    for item in ("letter", "report"):
        assert sha256(item) in without_spaces(text)


def test_the_document_information_holds_a_neutral_title_only(exported: bytes) -> None:
    assert dict(read(exported).metadata or {}) == {"/Title": "Case dossier K7QM-2XHD"}


def test_included_images_are_embedded_each_on_its_page() -> None:
    pdf = dossier.render_pdf(
        make_dossier(
            evidence=[
                evidence("photo", "image/jpeg", image("JPEG")),
                evidence("scan", "image/png", image("PNG", "blue")),
                evidence("kept back", "image/png"),
            ]
        )
    )
    reader = read(pdf)
    texts = page_texts(reader)
    with_images = pages_drawing_images(reader)
    assert len(with_images) == 2
    assert [texts[index].splitlines()[0] for index in with_images] == [
        "Evidence 1: Kind photo",
        "Evidence 2: Kind scan",
    ]
    assert sha256("scan") in texts[with_images[1]]
    assert "Evidence 3" not in "".join(texts)


def test_an_included_pdf_follows_its_caption_page() -> None:
    annexed = two_page_pdf()
    items = [evidence("report", "application/pdf"), evidence("photo", "image/png", image("PNG"))]
    without = len(read(dossier.render_pdf(make_dossier(evidence=items))).pages)
    items[0] = evidence("report", "application/pdf", annexed)
    texts = page_texts(read(dossier.render_pdf(make_dossier(evidence=items))))

    assert len(texts) == without + 1 + len(PdfReader(io.BytesIO(annexed)).pages)
    caption = next(i for i, text in enumerate(texts) if "Evidence 1: Kind report" in text)
    assert "The pages of the copy follow this page." in texts[caption]
    assert texts[caption + 1] == "Annexed page one"
    assert texts[caption + 2] == "Annexed two"
    # The next item keeps its place after the PDF's pages.
    assert texts[caption + 3].startswith("Evidence 2: Kind photo")


def test_damaged_files_are_left_out_with_a_line_saying_so() -> None:
    damaged = [
        ("image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40),
        ("image/jpeg", image("JPEG")[:200]),
        ("image/png", two_page_pdf()),
        ("application/pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF"),
        ("application/pdf", image("PNG")),
        ("text/html", b'<img src="http://example.org/x">'),
    ]
    items = [evidence(f"damaged {n}", *file) for n, file in enumerate(damaged, start=1)]
    reader = read(dossier.render_pdf(make_dossier(evidence=items)))
    # One caption page each, at the end: nothing was appended after any of them.
    captions = page_texts(reader)[-len(items) :]
    for number, caption in enumerate(captions, start=1):
        assert caption.startswith(f"Evidence {number}: Kind damaged {number}"), caption
        assert COULD_NOT in caption, caption
    assert pages_drawing_images(reader) == []


def test_an_arabic_dossier_is_right_to_left_and_keeps_the_name() -> None:
    arabic = make_dossier(language="ar", person_name=ARABIC_NAME, country="كينيا")
    html = dossier.dossier_html(arabic)
    assert re.search(r'<html lang="ar" dir="rtl">', html)
    assert ARABIC_NAME in "\n".join(page_texts(read(dossier.export(arabic, PASSPHRASE))))


def test_an_english_dossier_is_left_to_right() -> None:
    html = dossier.dossier_html(make_dossier())
    assert '<html lang="en">' in html
    assert 'dir="rtl"' not in html


@pytest.mark.parametrize("passphrase", ["", "short", "   fifteen chars   ", " " * 40])
def test_a_short_passphrase_is_refused(plain: bytes, passphrase: str) -> None:
    with pytest.raises(ValueError, match="passphrase"):
        dossier.encrypt_pdf(plain, passphrase)
    with pytest.raises(ValueError, match="passphrase"):
        dossier.export(make_dossier(), passphrase)


def test_a_suggested_passphrase_is_long_random_and_opens_the_pdf(plain: bytes) -> None:
    first, second = dossier.suggest_passphrase(), dossier.suggest_passphrase()
    assert first != second
    assert len(first) >= MIN_PASSPHRASE_LENGTH
    assert re.fullmatch(r"[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){4}", first)
    reader = PdfReader(io.BytesIO(dossier.encrypt_pdf(plain, first)))
    assert reader.decrypt(first) != PasswordType.NOT_DECRYPTED


def test_markup_in_the_case_is_text_not_markup() -> None:
    html = dossier.dossier_html(
        make_dossier(
            person_name='<img src="http://example.org/x">',
            verification_summary='<link rel="stylesheet" href="file:///etc/passwd">',
        )
    )
    assert "&lt;img src=&quot;http://example.org/x&quot;&gt;" in html
    assert "&lt;link rel=&quot;stylesheet&quot;" in html
    assert '<img src="http' not in html
    assert "<link" not in html


@pytest.mark.parametrize(
    "url", ["http://example.org/x", "https://example.org/x.css", "file:///etc/passwd", "x.png"]
)
def test_the_fetcher_refuses_every_url_but_data(url: str) -> None:
    with pytest.raises(ValueError):
        DataOnlyFetcher()(url)


def test_the_fetcher_answers_data_urls() -> None:
    response = DataOnlyFetcher()("data:image/png;base64,aGVsbG8=")
    assert response.read() == b"hello"
    assert response.content_type == "image/png"


def test_rendering_fetches_through_the_data_only_fetcher(monkeypatch: pytest.MonkeyPatch) -> None:
    fetched: list[str] = []
    fetch = DataOnlyFetcher.fetch

    def recording_fetch(self: DataOnlyFetcher, url: str, headers: object = None) -> Any:
        fetched.append(url)
        return fetch(self, url, headers)

    monkeypatch.setattr(DataOnlyFetcher, "fetch", recording_fetch)
    items = [evidence("photo", "image/png", image("PNG"))]
    dossier.render_pdf(make_dossier(evidence=items, person_name='<img src="http://x.test/">'))
    assert len(fetched) == 1
    assert fetched[0].startswith("data:image/png;n=") and ";base64," in fetched[0]


def test_the_evidence_table_explains_the_hash() -> None:
    html = dossier.dossier_html(make_dossier())
    assert "The SHA-256 hash identifies each original file exactly as the organization" in html
    assert f'<td class="hash" dir="ltr">{sha256("letter")}</td>' in html


def test_an_empty_dossier_still_renders() -> None:
    empty = make_dossier(
        language="",
        person_name="",
        nationalities=[],
        country="",
        verified=False,
        verification=[],
        verification_summary="",
        evidence=[],
        pathway="",
        milestones=[],
        timeline=[],
    )
    text = "\n".join(page_texts(read(dossier.render_pdf(empty))))
    for expected in ["Name Not given", "Not verified yet.", "No evidence.", "No events."]:
        assert expected in text, expected


def test_an_image_gets_an_unpredictable_name_in_the_file() -> None:
    # Names in a PDF are not encrypted: one derived from the image alone would let someone
    # holding the photo confirm it is inside a dossier they cannot open.
    photo = image("PNG", "green")
    exports = [
        dossier.export(make_dossier(evidence=[evidence("photo", "image/png", photo)]), PASSPHRASE)
        for _ in range(2)
    ]
    names = [set(re.findall(rb"/i([0-9a-f]{32})", pdf)) for pdf in exports]
    plain_url = f"data:image/png;base64,{base64.b64encode(photo).decode()}"
    # The name WeasyPrint would derive from the image alone (MD5 of its URL).
    guessed = hashlib.md5(plain_url.encode(), usedforsecurity=False).hexdigest()
    for pdf in exports:
        assert guessed.encode() not in pdf
    assert names[0] and names[1] and names[0] != names[1]

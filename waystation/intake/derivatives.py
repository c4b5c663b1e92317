"""Copies of evidence that staff can look at without what the file carries besides its
content: camera and GPS data, authors, hidden text, scripts, attachments.

The person's original is always kept, encrypted; these functions only make the copy, and
answer None when they cannot (the original still arrives).
"""

import io
import math
import threading

import pypdfium2 as pdfium
from PIL import Image, ImageOps, UnidentifiedImageError

# Pages of a PDF drawn into its copy; the original keeps the rest.
MAX_PDF_PAGES = 30
# Sharp enough to read body text and see photos; an A4 page is about 1.2 megapixels.
RENDER_DPI = 110
# A page is drawn smaller rather than past these, whatever size it claims to be (a PDF page
# can claim to be metres wide): about 12 MB for the page being drawn.
MAX_PAGE_PIXELS = 3_000_000
MAX_PAGE_SIDE = 10_000
JPEG_QUALITY = 85

# PDFium must not be called from two threads at once, not even for different documents.
_pdfium_lock = threading.Lock()


def clean_copy(data: bytes, content_type: str) -> bytes | None:
    """The copy of an evidence file to show staff, of the same content type: pixels only.
    None when the file cannot be read (the original is still kept). Never raises for bad
    input."""
    if content_type in {"image/jpeg", "image/png"}:
        return image_without_metadata(data, content_type)
    if content_type == "application/pdf":
        return pdf_as_images(data)
    return None


def image_without_metadata(data: bytes, content_type: str) -> bytes | None:
    """A copy of an image holding pixels only: no EXIF, GPS, XMP, comments or profiles.
    None when the image cannot be decoded (the original is still kept)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            upright = ImageOps.exif_transpose(image)
            mode = "RGB" if content_type == "image/jpeg" else "RGBA"
            pixels = upright.convert(mode)
            # A new image carries none of the original's `info` (where metadata lives).
            clean = Image.new(mode, pixels.size)
            clean.paste(pixels)
            out = io.BytesIO()
            clean.save(out, format="JPEG" if mode == "RGB" else "PNG", quality=90)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def pdf_as_images(data: bytes) -> bytes | None:
    """A new PDF holding one picture per page of the original, as the page looks: none of
    the original's document info, XMP, text (seen or hidden), scripts, forms, attachments
    or embedded images' EXIF data. At most MAX_PDF_PAGES pages; the original keeps the
    rest. Pages are drawn at RENDER_DPI, smaller if they would pass MAX_PAGE_PIXELS or
    MAX_PAGE_SIDE, and keep their size on paper.

    None for an encrypted, damaged or empty PDF, or a page that cannot be drawn (the
    original is still kept). Never raises for bad input.
    """
    out = io.BytesIO()
    try:
        with _pdfium_lock, pdfium.PdfDocument(data) as pdf:
            for index in range(min(len(pdf), MAX_PDF_PAGES)):
                image, scale = _draw_page(pdf, index)
                # Page by page, so only one page's pixels are in memory at a time.
                try:
                    image.save(
                        out,
                        format="PDF",
                        append=index > 0,
                        resolution=72 * scale,
                        quality=JPEG_QUALITY,
                        # Pillow would otherwise date the copy.
                        title=None,
                        creationDate=None,
                        modDate=None,
                    )
                finally:
                    image.close()
    except (pdfium.PdfiumError, OSError, ValueError, MemoryError):
        return None
    return out.getvalue() or None


def _draw_page(pdf: pdfium.PdfDocument, index: int) -> tuple[Image.Image, float]:
    """The page as an RGB image, and the pixels per point it was drawn at."""
    page = pdf[index]
    try:
        width, height = page.get_size()
        if not (width > 0 and height > 0):
            raise ValueError("a page without area")
        scale = min(
            RENDER_DPI / 72,
            math.sqrt(MAX_PAGE_PIXELS / (width * height)),
            MAX_PAGE_SIDE / max(width, height),
        )
        # The document's forms are never loaded, so no form or script code runs; filled-in
        # fields are drawn from their appearance, like any other annotation.
        bitmap = page.render(scale=scale, may_draw_forms=False, rev_byteorder=True)
        try:
            # A copy that outlives the bitmap's buffer.
            return bitmap.to_pil().convert("RGB"), scale
        finally:
            bitmap.close()
    finally:
        page.close()

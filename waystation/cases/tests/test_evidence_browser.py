"""In a real browser: a derivative opened from the case page shows, image and PDF alike,
under the headers that keep it from running anything."""

import io

import pytest
from django.test import Client
from PIL import Image

from conftest import NEEDS_CHROMIUM, new_page
from waystation.accounts.models import Team
from waystation.audit.models import AuditEntry

from .conftest import ask, send_file
from .test_evidence import _reader, _url

pytestmark = NEEDS_CHROMIUM

RED = (255, 0, 0)


def _red_pixels(page) -> int:  # type: ignore[no-untyped-def]
    shot = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    return sum(1 for r, g, b in shot.get_flattened_data() if r > 200 and g < 60 and b < 60)


@pytest.mark.django_db(transaction=True)
def test_images_and_pdfs_show_inline(  # type: ignore[no-untyped-def]
    live_server, browser, intake_team: Team, vault_storage
) -> None:
    photo, pdf = io.BytesIO(), io.BytesIO()
    Image.new("RGB", (300, 200), RED).save(photo, format="PNG")
    Image.new("RGB", (300, 200), RED).save(pdf, format="PDF")
    request = ask()
    files = [send_file(request, photo.getvalue()), send_file(request, pdf.getvalue())]
    client = Client()
    _reader(client, intake_team)
    base = live_server.url.replace("127.0.0.1", "localhost")
    page, outside = new_page(browser)
    page.context.add_cookies(
        [{"name": name, "value": c.value, "url": base} for name, c in client.cookies.items()]
    )
    for evidence in files:
        page.goto(f"{base}{_url(evidence)}")
        # A PDF is drawn by the browser's own viewer, after the page has loaded.
        for _ in range(40):
            if _red_pixels(page) > 10_000:
                break
            page.wait_for_timeout(250)
        assert _red_pixels(page) > 10_000, evidence.pk
    # One look each at least (a PDF viewer may fetch its file again).
    assert AuditEntry.objects.filter(action="cases.evidence.read").count() >= 2
    # The PDF viewer is part of the browser (its own pages and extension): nothing else loads.
    assert [url for url in outside if not url.startswith(("chrome-extension:", "chrome:"))] == []

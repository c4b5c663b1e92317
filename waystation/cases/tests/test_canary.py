"""The canary test for cases: markers in what staff write (note text, task titles, replies
to the person) and the bytes of the evidence derivatives they look at must not appear in
the database, files, backups, sessions, cache, logs or mail once staff have written them
and read them back.

A derivative is made from the pixels alone, so no marker survives in it as text: its own
bytes, a few high-entropy slices of a photo of noise, are its canary."""

import io
import logging
import os

import pytest
from django.test import Client
from PIL import Image

from conftest import PASSWORD, sign_in
from waystation.accounts.models import Team
from waystation.vault.tests.markers import MARKERS, assert_no_traces, seized_places

from .conftest import ask, send_file

# Bytes of each derivative searched for, and where in it they are taken from.
SLICE_BYTES = 32
SLICES_AT = (0.25, 0.5, 0.75)


def _noise_photo() -> bytes:
    out = io.BytesIO()
    Image.frombytes("RGB", (48, 48), os.urandom(48 * 48 * 3)).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_nothing_staff_write_or_look_at_leaks(  # type: ignore[no-untyped-def]
    intake_team: Team, vault_storage, caplog, capfd
) -> None:
    caplog.set_level(logging.DEBUG)
    member = intake_team.memberships.get().user
    client = sign_in(Client(), member)
    client.post("/staff/unlock/", {"password": PASSWORD})
    traces: dict[str, str | bytes] = dict(MARKERS)
    for script, marker in MARKERS.items():
        request = ask()
        case = request.case  # type: ignore[attr-defined]
        evidence = send_file(request, _noise_photo())
        client.post(f"/staff/cases/{case.pk}/notes/", {"text": f"{marker} note"})
        client.post(
            f"/staff/cases/{case.pk}/tasks/",
            {"title": f"{marker} task", "owner": member.pk, "due_on": "2030-01-01"},
        )
        client.post(f"/staff/cases/{case.pk}/reply/", {"text": f"{marker} reply", "version": 1})
        page = client.get(f"/staff/cases/{case.pk}/").content.decode()
        assert all(f"{marker} {what}" in page for what in ("note", "task", "reply"))
        shown = client.get(f"/staff/cases/{case.pk}/evidence/{evidence.pk}/")
        derivative = b"".join(shown.streaming_content)  # type: ignore[attr-defined]
        assert shown["Content-Type"] == "image/png" and len(derivative) > 4 * SLICE_BYTES
        for share in SLICES_AT:
            at = int(len(derivative) * share)
            traces[f"{script} derivative at {at}"] = derivative[at : at + SLICE_BYTES]
    assert_no_traces(seized_places(vault_storage, caplog, capfd), traces)

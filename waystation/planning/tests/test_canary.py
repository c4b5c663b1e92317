"""The canary test for planning: markers in what caseworkers write of a plan (document
numbers and notes, milestone titles) and in a dossier's passphrase and content must not
appear in the database, files, backups, sessions, cache, logs, mail or temporary files
once they have been written, read back and exported."""

import logging
import tempfile
from pathlib import Path

import pytest
from django.test import Client

from waystation.accounts.models import Team
from waystation.planning.models import Milestone, TravelDocument
from waystation.vault.tests.markers import MARKERS, assert_no_traces, seized_places

from .conftest import member, unlocked, verified_case


@pytest.mark.django_db(transaction=True)
def test_nothing_of_a_plan_leaks_anywhere(  # type: ignore[no-untyped-def]
    intake_team: Team, caseworkers: Team, vault_storage, caplog, capfd, monkeypatch, tmp_path
) -> None:
    caplog.set_level(logging.DEBUG)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    ana = unlocked(Client(), member(caseworkers))
    for marker in MARKERS.values():
        case = verified_case(intake_team, caseworkers, name=f"{marker} Okello", country="UG")
        url = f"/staff/planning/cases/{case.pk}/"
        added = ana.post(
            f"{url}documents/",
            {
                "kind": "passport",
                "status": "held",
                "country": "UG",
                "number": f"{marker}-number",
                "notes": f"{marker} notes",
            },
        )
        assert added.status_code == 302
        milestone = ana.post(
            f"{url}milestones/",
            {"title": f"{marker} milestone", "owner": "caseworker"},
        )
        assert milestone.status_code == 302
        page = ana.get(url).content.decode()
        for written in ("-number", " notes", " milestone"):
            assert f"{marker}{written}" in page
        assert f"{marker} milestone" in ana.get("/staff/cases/tasks/").content.decode()
        passphrase = f"{marker}-passphrase-long"
        exported = ana.post(
            f"{url}dossier/export/",
            {"passphrase": passphrase, "passphrase_again": passphrase},
        )
        assert exported.status_code == 200 and exported["Content-Type"] == "application/pdf"
    assert TravelDocument.objects.count() == Milestone.objects.count() == len(MARKERS)
    places = seized_places(vault_storage, caplog, capfd)
    places["temporary files"] = b"".join(
        path.read_bytes() for path in Path(scratch).rglob("*") if path.is_file()
    )
    assert_no_traces(places, MARKERS)

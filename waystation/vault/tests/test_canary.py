"""The canary test: marker strings in every sensitive field, file and file name must not
appear anywhere a seized server would give up, and the server alone cannot decrypt them.

Later apps (intake, cases) have canary tests of their own sealed fields and files, searching
the same places with the helpers in markers.py.
"""

import logging

import pytest
from django.conf import settings
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import PASSWORD, make_user, next_totp_token
from waystation.accounts.models import Membership, Role, Team
from waystation.vault import blind, crypto, files
from waystation.vault import services as vault
from waystation.vault.fields import decrypt_value
from waystation.vault.models import EncryptedFile, KeyringGrant, UserKey

from .conftest import CanaryRecord
from .markers import MARKERS, assert_no_traces, seized_places


@pytest.mark.django_db(transaction=True)
def test_no_marker_anywhere_and_server_cannot_decrypt(
    caplog,
    capfd,
    vault_storage,  # type: ignore[no-untyped-def]
) -> None:
    caplog.set_level(logging.DEBUG)
    team = Team.objects.create(name="Intake", role=Role.INTAKE_VOLUNTEER)
    staff = make_user(None, keys=True, email="staff@example.org")
    Membership.objects.create(team=team, user=staff)

    records, stored_files = [], []
    for script, marker in MARKERS.items():
        keyring, key = vault.create_keyring(teams=[team], by=None)
        record = CanaryRecord(keyring=keyring)
        record.seal(
            key,
            name=f"{marker} name",
            contact=f"+234{marker}",
            narrative=f"{marker} narrative in {script}",
        )
        record.save()
        records.append(record)
        blind.index_keyring(keyring, names=[marker], emails=[f"{script}@canary.example"])
        stored_files.append(
            files.store_stream(
                keyring,
                key,
                iter([f"file content {marker}".encode() * 100]),
                name=f"{marker}.jpg",
                content_type="image/jpeg",
            )
        )

    # A real staff session exists while we look, with its keys unlocked.
    client = Client()
    client.post("/staff/sign-in/", {"email": staff.email, "password": PASSWORD})
    client.post(
        "/staff/sign-in/code/", {"code": next_totp_token(TOTPDevice.objects.get(user=staff))}
    )
    assert client.get("/staff/unlock/")["Location"] == "/staff/"

    places = seized_places(vault_storage, caplog, capfd)
    assert places["database dump"] and places["file store"] and places["backup archive"]
    assert_no_traces(places, MARKERS)

    # The server alone (settings, database, files) cannot decrypt: try every key it holds.
    candidates = [
        crypto.derive_key(settings.SECRET_KEY.encode(), b"waystation blind index v1"),
        crypto.derive_key(settings.SECRET_KEY.encode(), b"anything"),
        settings.SECRET_KEY.encode()[:32].ljust(32, b"\0"),
        *[bytes(k.public_key) for k in UserKey.objects.all()],
        *[bytes(k.password_salt).ljust(32, b"\0") for k in UserKey.objects.all()],
    ]
    for grant in KeyringGrant.objects.all():
        for candidate in candidates:
            with pytest.raises(crypto.DecryptionError):
                crypto.unseal(candidate, bytes(grant.sealed_key))
    for _key in UserKey.objects.all():
        for guess in ("", settings.SECRET_KEY, staff.email):
            with pytest.raises(vault.WrongSecretError):
                vault.unlock_with_password(staff, guess)
    for record in records:
        fresh = CanaryRecord.objects.get(pk=record.pk)
        for candidate in candidates:
            with pytest.raises(crypto.DecryptionError):
                decrypt_value(candidate, fresh, "narrative")
    for stored in stored_files:
        for candidate in candidates:
            with pytest.raises(crypto.DecryptionError):
                files.read_meta(EncryptedFile.objects.get(pk=stored.pk), candidate)

    # And the staff member, with their password, reads everything back.
    keys = vault.unlock_with_password(staff, PASSWORD)
    for record, marker in zip(records, MARKERS.values(), strict=True):
        fresh = CanaryRecord.objects.get(pk=record.pk)
        key = vault.open_keyring(fresh.keyring, keys)
        assert decrypt_value(key, fresh, "narrative").startswith(marker)

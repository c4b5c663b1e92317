"""Encrypted backups round-trip into an empty instance and reveal nothing without the
offline private key."""

import io

import pytest
from django.core.management import call_command

from conftest import PASSWORD, make_user
from waystation.accounts.models import User
from waystation.audit.services import verify_chain
from waystation.vault import crypto, files
from waystation.vault import services as vault
from waystation.vault.backup import BackupError, restore_backup, write_backup
from waystation.vault.fields import decrypt_value
from waystation.vault.models import EncryptedFile

from .conftest import CanaryRecord

# Committed transactions: restoring empties tables, which PostgreSQL refuses inside a
# transaction that still has deferred constraint checks pending.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def backup_keys() -> tuple[bytes, bytes]:
    return crypto.new_keypair()


def _populate() -> tuple[User, CanaryRecord, EncryptedFile]:
    user = make_user(None, keys=True, email="keeper@example.org")
    keyring, key = vault.create_keyring(users=[user], by=None)
    record = CanaryRecord(keyring=keyring)
    record.seal(key, name="Round Trip Name", narrative="A story that must survive.")
    record.save()
    stored = files.store_stream(
        keyring, key, iter([b"evidence bytes " * 5000]), name="photo.jpg", content_type="image/jpeg"
    )
    return user, record, stored


def _backup(public: bytes) -> bytes:
    out = io.BytesIO()
    write_backup(out, public)
    return out.getvalue()


def _empty_instance(vault_storage) -> None:  # type: ignore[no-untyped-def]
    call_command("flush", interactive=False, verbosity=0)
    for path in vault_storage.rglob("*"):
        if path.is_file():
            path.unlink()


def test_round_trip(backup_keys, vault_storage) -> None:  # type: ignore[no-untyped-def]
    private, public = backup_keys
    _user, record, stored = _populate()
    archive = _backup(public)
    _empty_instance(vault_storage)
    assert not User.objects.exists()
    summary = restore_backup(io.BytesIO(archive), private)
    assert summary.files == 1
    restored_user = User.objects.get(email="keeper@example.org")
    keys = vault.unlock_with_password(restored_user, PASSWORD)
    restored = CanaryRecord.objects.get(pk=record.pk)
    key = vault.open_keyring(restored.keyring, keys)
    assert decrypt_value(key, restored, "narrative") == "A story that must survive."
    _meta, chunks = files.open_stream(EncryptedFile.objects.get(pk=stored.pk), key)
    assert b"".join(chunks) == b"evidence bytes " * 5000
    assert verify_chain().ok


def test_restore_refuses_a_non_empty_instance(backup_keys) -> None:  # type: ignore[no-untyped-def]
    private, public = backup_keys
    _populate()
    with pytest.raises(BackupError, match="empty"):
        restore_backup(io.BytesIO(_backup(public)), private)


@pytest.mark.parametrize("damage", ["wrong_key", "truncated", "flipped", "appended", "garbage"])
def test_damaged_or_foreign_backups_fail_clearly(backup_keys, vault_storage, damage: str) -> None:  # type: ignore[no-untyped-def]
    private, public = backup_keys
    _populate()
    archive = bytearray(_backup(public))
    if damage == "wrong_key":
        private = crypto.new_keypair()[0]
    elif damage == "truncated":
        archive = archive[: len(archive) // 2]
    elif damage == "flipped":
        archive[len(archive) // 2] ^= 0x01
    elif damage == "appended":
        archive += b"more"
    else:
        archive = bytearray(b"not a backup at all")
    _empty_instance(vault_storage)
    with pytest.raises(BackupError):
        restore_backup(io.BytesIO(bytes(archive)), private)
    assert not User.objects.exists()


def test_backup_and_restore_commands(backup_keys, tmp_path, settings, vault_storage) -> None:  # type: ignore[no-untyped-def]
    import base64

    private, public = backup_keys
    settings.BACKUP_PUBLIC_KEY = base64.b64encode(public).decode()
    _populate()
    archive = tmp_path / "backup.wsbk"
    call_command("backup", str(archive), verbosity=0)
    key_file = tmp_path / "backup.key"
    key_file.write_text(base64.b64encode(private).decode())
    _empty_instance(vault_storage)
    call_command("restore", str(archive), private_key_file=str(key_file), verbosity=0)
    assert User.objects.filter(email="keeper@example.org").exists()


def test_backup_keygen_writes_a_private_file(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "offline.key"
    call_command("backup_keygen", str(target))
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    assert "WAYSTATION_BACKUP_PUBLIC_KEY=" in capsys.readouterr().out

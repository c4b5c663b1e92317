"""The encrypted file store and the encrypting upload handler."""

import hashlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import FileSystemStorage, storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.test import Client
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from waystation.vault import crypto, files, uploads
from waystation.vault.crypto import DecryptionError
from waystation.vault.models import EncryptedFile, Keyring

from .markers import MARKERS, encodings

pytestmark = pytest.mark.django_db

CHUNK = 64 * 1024
FRAME = CHUNK + files.TAG_BYTES
PREFIX = 1 + files.HEADER_BYTES


@pytest.fixture
def vault_dir(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    location = tmp_path / "vault"
    settings.STORAGES = {
        **settings.STORAGES,
        "vault": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location)},
        },
    }
    return location


@pytest.fixture
def keyring() -> Keyring:
    return Keyring.objects.create()


@pytest.fixture
def key() -> bytes:
    return crypto.new_key()


def stored_files(location: Path) -> list[Path]:
    return [p for p in location.rglob("*") if p.is_file()] if location.exists() else []


def pieces(data: bytes, size: int = 10_000) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def store(keyring: Keyring, key: bytes, data: bytes, name: str = "photo.jpg") -> EncryptedFile:
    return files.store_stream(keyring, key, pieces(data), name=name, content_type="image/jpeg")


def sample(size: int) -> bytes:
    return bytes(i % 251 for i in range(size))


# --- Storage ------------------------------------------------------------------------------


def test_vault_storage_follows_the_settings_override(vault_dir: Path) -> None:
    storage = storages["vault"]
    assert isinstance(storage, FileSystemStorage)
    assert Path(storage.location) == vault_dir


# --- Round trips --------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 12_345])
@pytest.mark.parametrize("piece", [1_000, CHUNK, 10 * CHUNK])
def test_round_trip(vault_dir: Path, keyring: Keyring, key: bytes, size: int, piece: int) -> None:
    data = sample(size)
    encrypted_file = files.store_stream(
        keyring, key, pieces(data, piece), name="évidence.pdf", content_type="application/pdf"
    )

    fresh = EncryptedFile.objects.get(pk=encrypted_file.pk)
    assert files.read_all(fresh, key) == data
    meta, chunks = files.open_stream(fresh, key)
    assert [len(c) for c in chunks] == ([len(c) for c in pieces(data, CHUNK)] or [0])
    assert meta == files.FileMeta(
        name="évidence.pdf",
        content_type="application/pdf",
        size=size,
        sha256=hashlib.sha256(data).hexdigest(),
    )
    assert files.read_meta(fresh, key) == meta
    chunk_count = max(1, -(-size // CHUNK))
    stored = vault_dir / fresh.storage_name
    assert fresh.stored_size == stored.stat().st_size == PREFIX + size + chunk_count * 17


def test_stored_under_a_random_sharded_name(vault_dir: Path, keyring: Keyring, key: bytes) -> None:
    first, second = store(keyring, key, b"a"), store(keyring, key, b"a")
    for encrypted_file in (first, second):
        shard, name = encrypted_file.storage_name.split("/")
        assert len(name) == 32 and shard == name[:2]
    assert first.storage_name != second.storage_name
    assert (vault_dir / first.storage_name).read_bytes() != (
        vault_dir / second.storage_name
    ).read_bytes()


def test_files_stay_readable_after_the_chunk_size_changes(
    settings,
    vault_dir: Path,
    keyring: Keyring,
    key: bytes,  # type: ignore[no-untyped-def]
) -> None:
    data = sample(3 * CHUNK)
    encrypted_file = store(keyring, key, data)
    settings.VAULT_FILE_CHUNK_BYTES = 16 * 1024
    assert files.read_all(encrypted_file, key) == data


def test_name_type_and_hash_are_sealed(vault_dir: Path, keyring: Keyring, key: bytes) -> None:
    secrets_ = []
    for script, marker in MARKERS.items():
        content = f"{marker} statement in {script} ".encode() * 5000
        encrypted_file = files.store_stream(
            keyring,
            key,
            pieces(content),
            name=f"{marker}.pdf",
            content_type=f"application/x-{script}-{MARKERS['latin']}",
        )
        secrets_ += [marker, hashlib.sha256(content).hexdigest()]
    assert len(stored_files(vault_dir)) == len(MARKERS)

    stored = b"".join(p.read_bytes() for p in stored_files(vault_dir))
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM vault_encryptedfile")
        rows = b"".join(
            bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
            for row in cursor.fetchall()
            for value in row
        )
    for secret in secrets_:
        for form in encodings(secret):
            assert form not in stored, secret
            assert form not in rows, secret
    assert b"pdf" not in rows and b"application" not in rows
    assert files.read_meta(encrypted_file, key).name == f"{MARKERS['persian']}.pdf"


# --- Tampering ----------------------------------------------------------------------------


@pytest.fixture(params=[2 * CHUNK + 100, 3 * CHUNK], ids=["short_last_chunk", "full_last_chunk"])
def three_chunks(
    request,
    vault_dir: Path,
    keyring: Keyring,
    key: bytes,  # type: ignore[no-untyped-def]
) -> tuple[EncryptedFile, Path]:
    encrypted_file = store(keyring, key, sample(request.param))
    return encrypted_file, vault_dir / encrypted_file.storage_name


def rewrite(stored: Path, change: Any) -> None:
    stored.write_bytes(change(stored.read_bytes()))


@pytest.mark.parametrize(
    "position",
    [
        0,  # version byte
        1,  # secretstream header
        PREFIX,  # first chunk's encrypted tag byte
        PREFIX + 1000,  # first chunk's body
        PREFIX + FRAME - 1,  # first chunk's authentication tag
        PREFIX + FRAME + 5,  # second chunk
        -1,  # last chunk's authentication tag
    ],
)
def test_flipped_byte_fails(
    three_chunks: tuple[EncryptedFile, Path], key: bytes, position: int
) -> None:
    encrypted_file, stored = three_chunks

    def flip(data: bytes) -> bytes:
        changed = bytearray(data)
        changed[position] ^= 0x01
        return bytes(changed)

    rewrite(stored, flip)
    with pytest.raises(DecryptionError):
        files.read_all(encrypted_file, key)


@pytest.mark.parametrize(
    "length",
    [
        0,
        1,
        PREFIX,  # header only
        PREFIX + 10,  # inside the first chunk
        PREFIX + 2 * FRAME,  # every MESSAGE chunk, final chunk missing
        -1,  # last byte missing
    ],
)
def test_truncated_file_fails(
    three_chunks: tuple[EncryptedFile, Path], key: bytes, length: int
) -> None:
    encrypted_file, stored = three_chunks
    rewrite(stored, lambda data: data[:length])
    with pytest.raises(DecryptionError):
        files.read_all(encrypted_file, key)


@pytest.mark.parametrize("extra", ["byte", "final_chunk_again"])
def test_appended_data_fails(
    three_chunks: tuple[EncryptedFile, Path], key: bytes, extra: str
) -> None:
    encrypted_file, stored = three_chunks
    rewrite(
        stored, lambda data: data + (b"\x00" if extra == "byte" else data[PREFIX + 2 * FRAME :])
    )
    with pytest.raises(DecryptionError):
        files.read_all(encrypted_file, key)


def test_reordered_chunks_fail(three_chunks: tuple[EncryptedFile, Path], key: bytes) -> None:
    encrypted_file, stored = three_chunks
    rewrite(
        stored,
        lambda d: (
            d[:PREFIX]
            + d[PREFIX + FRAME : PREFIX + 2 * FRAME]
            + d[PREFIX : PREFIX + FRAME]
            + d[PREFIX + 2 * FRAME :]
        ),
    )
    with pytest.raises(DecryptionError):
        files.read_all(encrypted_file, key)


def test_unknown_version_is_refused(three_chunks: tuple[EncryptedFile, Path], key: bytes) -> None:
    encrypted_file, stored = three_chunks
    rewrite(stored, lambda data: bytes([crypto.VERSION + 1]) + data[1:])
    with pytest.raises(DecryptionError, match="unknown"):
        files.read_all(encrypted_file, key)


def test_last_chunk_is_handed_out_only_after_the_whole_file_verifies(
    three_chunks: tuple[EncryptedFile, Path], key: bytes
) -> None:
    encrypted_file, stored = three_chunks
    rewrite(stored, lambda data: data + b"\x00")
    _meta, chunks = files.open_stream(encrypted_file, key)
    received = []
    with pytest.raises(DecryptionError):
        for chunk in chunks:
            received.append(chunk)
    assert [len(c) for c in received] == [CHUNK, CHUNK]


def test_swapped_stored_objects_fail(vault_dir: Path, keyring: Keyring, key: bytes) -> None:
    first, second = store(keyring, key, sample(1000)), store(keyring, key, sample(1000))
    rows = EncryptedFile.objects
    rows.filter(pk=first.pk).update(storage_name="swapping")
    rows.filter(pk=second.pk).update(storage_name=first.storage_name)
    rows.filter(pk=first.pk).update(storage_name=second.storage_name)
    for encrypted_file in (first, second):
        encrypted_file.refresh_from_db()
        with pytest.raises(DecryptionError):
            files.read_all(encrypted_file, key)


def test_sealed_metadata_of_another_file_fails(
    vault_dir: Path, keyring: Keyring, key: bytes
) -> None:
    first, second = store(keyring, key, b"first"), store(keyring, key, b"second")
    first.sealed_meta = second.sealed_meta
    with pytest.raises(DecryptionError):
        files.read_meta(first, key)


def test_contents_that_disagree_with_the_metadata_fail(
    vault_dir: Path, keyring: Keyring, key: bytes
) -> None:
    # Someone holding the keyring key rewrites the recorded hash of a piece of evidence.
    encrypted_file = store(keyring, key, b"original evidence")
    associated = f"file:{encrypted_file.id}:meta".encode()
    meta = json.loads(crypto.decrypt(key, bytes(encrypted_file.sealed_meta), associated))
    meta["sha256"] = hashlib.sha256(b"other evidence").hexdigest()
    encrypted_file.sealed_meta = crypto.encrypt(key, json.dumps(meta).encode(), associated)
    with pytest.raises(DecryptionError, match="metadata"):
        files.read_all(encrypted_file, key)


def test_sealed_metadata_length_does_not_give_away_the_name_length(
    vault_dir: Path, keyring: Keyring, key: bytes
) -> None:
    short, long = store(keyring, key, b"x", name="a.pdf"), store(keyring, key, b"x", name="a" * 60)
    assert len(short.sealed_meta) == len(long.sealed_meta)


def test_wrong_keyring_key_fails(vault_dir: Path, keyring: Keyring, key: bytes) -> None:
    encrypted_file = store(keyring, key, sample(1000))
    other = crypto.new_key()
    with pytest.raises(DecryptionError):
        files.read_meta(encrypted_file, other)
    with pytest.raises(DecryptionError):
        files.open_stream(encrypted_file, other)
    with pytest.raises(DecryptionError):
        files.read_all(encrypted_file, other)


# --- Failures while writing, deleting -----------------------------------------------------


class FlakyStorage(FileSystemStorage):
    """A disk that fills up after some bytes of each object are written."""

    def _save(self, name: str, content: Any) -> str:
        real_chunks = content.chunks

        def chunks(chunk_size: int | None = None) -> Iterator[bytes]:
            written = 0
            for chunk in real_chunks(chunk_size):
                if written > 100_000:
                    raise OSError(28, "No space left on device")
                written += len(chunk)
                yield chunk

        content.chunks = chunks
        return super()._save(name, content)


@pytest.fixture
def flaky_storage(settings, vault_dir: Path) -> Path:  # type: ignore[no-untyped-def]
    settings.STORAGES = {
        **settings.STORAGES,
        "vault": {"BACKEND": f"{__name__}.FlakyStorage", "OPTIONS": {"location": str(vault_dir)}},
    }
    return vault_dir


def test_storage_failure_saves_no_row_and_leaves_no_object(
    flaky_storage: Path, keyring: Keyring, key: bytes
) -> None:
    with pytest.raises(OSError, match="No space"):
        store(keyring, key, sample(3 * CHUNK))
    assert not EncryptedFile.objects.exists()
    assert stored_files(flaky_storage) == []


def test_failing_source_saves_no_row_and_leaves_no_object(
    vault_dir: Path, keyring: Keyring, key: bytes
) -> None:
    def source() -> Iterator[bytes]:
        yield sample(3 * CHUNK)
        raise ConnectionError("the source went away")

    with pytest.raises(ConnectionError):
        files.store_stream(keyring, key, source(), name="a", content_type="b")
    assert not EncryptedFile.objects.exists()
    assert stored_files(vault_dir) == []


def test_row_failure_deletes_the_stored_object(
    monkeypatch,
    vault_dir: Path,
    keyring: Keyring,
    key: bytes,  # type: ignore[no-untyped-def]
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise DatabaseError("database is locked")

    monkeypatch.setattr(EncryptedFile, "save", refuse)
    with pytest.raises(DatabaseError):
        store(keyring, key, sample(1000))
    assert stored_files(vault_dir) == []


def test_delete_file_removes_row_and_object_after_commit(
    django_capture_on_commit_callbacks,
    vault_dir: Path,
    keyring: Keyring,
    key: bytes,  # type: ignore[no-untyped-def]
) -> None:
    encrypted_file = store(keyring, key, sample(1000))
    with django_capture_on_commit_callbacks() as callbacks:
        files.delete_file(encrypted_file)
        assert len(stored_files(vault_dir)) == 1
    assert not EncryptedFile.objects.exists()
    for callback in callbacks:
        callback()
    assert stored_files(vault_dir) == []


def test_aborted_writer_leaves_nothing(vault_dir: Path, keyring: Keyring, key: bytes) -> None:
    writer = files.FileWriter(keyring, key, name="a", content_type="b")
    writer.write(sample(5 * CHUNK))
    writer.abort()
    assert stored_files(vault_dir) == []
    with pytest.raises(Exception, match="aborted"):
        writer.close()


def writer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "waystation-vault-writer"]


def test_abandoned_writer_cleans_up_after_itself(
    monkeypatch,
    vault_dir: Path,
    keyring: Keyring,
    key: bytes,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setattr(files.FileWriter, "idle_seconds", 0.2)
    writer = files.FileWriter(keyring, key, name="a", content_type="b")
    writer.write(sample(5 * CHUNK))
    for thread in writer_threads():
        thread.join(timeout=10)
    assert stored_files(vault_dir) == []
    with pytest.raises(Exception, match="in time"):
        writer.close()


def test_unsaved_file_is_discarded_and_saved_one_kept(
    vault_dir: Path, keyring: Keyring, key: bytes
) -> None:
    kept = files.FileWriter(keyring, key, name="a", content_type="b")
    kept.write(b"kept")
    kept_file = kept.close()
    kept_file.save()
    dropped = files.FileWriter(keyring, key, name="a", content_type="b")
    dropped.write(b"dropped")
    dropped_file = dropped.close()
    assert len(stored_files(vault_dir)) == 2

    assert files.discard_unsaved(kept_file) is False
    assert files.discard_unsaved(dropped_file) is True
    assert stored_files(vault_dir) == [vault_dir / kept_file.storage_name]
    assert files.read_all(kept_file, key) == b"kept"


# --- Uploads ------------------------------------------------------------------------------

# What the test views upload into; filled by the `upload_target` fixture.
TARGET: dict[str, Any] = {}


class ExplodingHandler(FileUploadHandler):
    """Something else in the request fails in the middle of a file."""

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if start > 0:
            raise RuntimeError("boom")
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def _handler() -> uploads.EncryptingUploadHandler:
    return uploads.EncryptingUploadHandler(
        TARGET["keyring"], TARGET["key"], max_bytes=TARGET["max_bytes"]
    )


def _snapshot_disk() -> None:
    # What a seized disk would hold while the request is being handled.
    TARGET["disk"] = {p: p.read_bytes() for p in TARGET["root"].rglob("*") if p.is_file()}


@csrf_exempt
def upload_view(request: HttpRequest) -> HttpResponse:
    handler = _handler()
    request.upload_handlers = [handler]
    return _receive(request, handler)


@uploads.csrf_protect
def _receive(request: HttpRequest, handler: uploads.EncryptingUploadHandler) -> HttpResponse:
    # Django parses the body on first access to request.POST or request.FILES.
    uploaded = request.FILES.getlist("file")
    _snapshot_disk()
    if handler.too_large:
        return HttpResponse(status=413)
    if request.POST.get("keep") != "no":
        for upload in uploaded:
            # What the service attaching a file to its record does.
            upload.encrypted_file.save(force_insert=True)
    return JsonResponse(
        {"files": [[str(u.encrypted_file.pk), u.name, u.content_type, u.size] for u in uploaded]}
    )


@csrf_exempt
def exploding_view(request: HttpRequest) -> HttpResponse:
    request.upload_handlers = [ExplodingHandler(), _handler()]
    request.FILES  # noqa: B018 - parse the body
    return HttpResponse()


def token_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(get_token(request))


urlpatterns = [
    path("upload/", upload_view),
    path("exploding/", exploding_view),
    path("token/", token_view),
    # The pages the CSRF failure page links to.
    path("", include("config.urls")),
]


@pytest.fixture
def upload_target(
    settings, tmp_path: Path, vault_dir: Path, keyring: Keyring, key: bytes
) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    temp_dir = tmp_path / "upload-temp"
    temp_dir.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(temp_dir)
    # Django's own handlers would spill every upload to FILE_UPLOAD_TEMP_DIR.
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0
    TARGET.update(
        keyring=keyring,
        key=key,
        max_bytes=5 * CHUNK,
        root=tmp_path,
        temp_dir=temp_dir,
        vault_dir=vault_dir,
        disk={},
    )
    yield TARGET
    TARGET.clear()


def upload(name: str, content: bytes, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def assert_nothing_left(target: dict[str, Any]) -> None:
    assert not EncryptedFile.objects.exists()
    assert stored_files(target["vault_dir"]) == []
    assert stored_files(target["temp_dir"]) == []


@pytest.mark.urls(__name__)
def test_upload_is_encrypted_as_it_arrives(client: Client, upload_target: dict[str, Any]) -> None:
    marker = MARKERS["arabic"]
    content = f"{marker} evidence ".encode() * 8_000
    response = client.post("/upload/", {"file": upload(f"{marker}.pdf", content), "note": "hello"})

    assert response.status_code == 200
    [[pk, name, content_type, size]] = response.json()["files"]
    assert (name, content_type, size) == (f"{marker}.pdf", "application/pdf", len(content))
    encrypted_file = EncryptedFile.objects.get(pk=pk)
    assert encrypted_file.keyring == upload_target["keyring"]
    assert files.read_all(encrypted_file, upload_target["key"]) == content
    meta = files.read_meta(encrypted_file, upload_target["key"])
    assert meta.name == f"{marker}.pdf" and meta.size == len(content)
    # While the request was handled: nothing in the temporary folder, no plaintext anywhere.
    disk = upload_target["disk"]
    assert list(disk) == [upload_target["vault_dir"] / encrypted_file.storage_name]
    for data in disk.values():
        for form in encodings(marker):
            assert form not in data


@pytest.mark.urls(__name__)
def test_several_files_in_one_upload(client: Client, upload_target: dict[str, Any]) -> None:
    contents = [b"", b"x", sample(2 * CHUNK + 7)]
    response = client.post(
        "/upload/", {"file": [upload(f"{i}.bin", c) for i, c in enumerate(contents)]}
    )

    assert response.status_code == 200
    received = response.json()["files"]
    assert [name for _pk, name, _type, _size in received] == ["0.bin", "1.bin", "2.bin"]
    for (pk, *_rest), content in zip(received, contents, strict=True):
        encrypted_file = EncryptedFile.objects.get(pk=pk)
        assert files.read_all(encrypted_file, upload_target["key"]) == content


@pytest.mark.urls(__name__)
def test_file_at_the_limit_is_accepted(client: Client, upload_target: dict[str, Any]) -> None:
    response = client.post("/upload/", {"file": upload("a.bin", sample(5 * CHUNK))})
    assert response.status_code == 200
    assert EncryptedFile.objects.count() == 1


@pytest.mark.urls(__name__)
def test_file_over_the_limit_answers_413_and_leaves_nothing(
    client: Client, upload_target: dict[str, Any]
) -> None:
    response = client.post(
        "/upload/",
        {"file": [upload("small.bin", b"fine"), upload("big.bin", sample(5 * CHUNK + 1))]},
    )
    assert response.status_code == 413
    assert_nothing_left(upload_target)


@pytest.mark.urls(__name__)
def test_upload_nobody_keeps_is_removed_at_the_end_of_the_request(
    client: Client, upload_target: dict[str, Any]
) -> None:
    response = client.post("/upload/", {"file": upload("a.bin", sample(CHUNK)), "keep": "no"})
    assert response.status_code == 200
    # It was stored while the view ran.
    assert len(upload_target["disk"]) == 1
    assert_nothing_left(upload_target)


@pytest.mark.urls(__name__)
def test_refused_csrf_token_leaves_nothing(upload_target: dict[str, Any]) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/upload/", {"file": upload("a.bin", sample(2 * CHUNK))})
    assert response.status_code == 403
    assert_nothing_left(upload_target)


@pytest.mark.urls(__name__)
def test_same_origin_post_under_no_referrer_passes_csrf(upload_target: dict[str, Any]) -> None:
    client = Client(enforce_csrf_checks=True)
    token = client.get("/token/").content.decode()
    response = client.post(
        "/upload/",
        {"csrfmiddlewaretoken": token, "file": upload("a.bin", b"content")},
        HTTP_ORIGIN="null",
        HTTP_SEC_FETCH_SITE="same-origin",
    )
    assert response.status_code == 200
    assert EncryptedFile.objects.count() == 1


@pytest.mark.urls(__name__)
def test_body_cut_off_in_a_file_leaves_nothing(
    client: Client, upload_target: dict[str, Any]
) -> None:
    boundary = "wayStationBoundary"
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="cut.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode() + sample(3 * CHUNK)
    response = client.generic(
        "POST", "/upload/", body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 200
    assert response.json() == {"files": []}
    assert_nothing_left(upload_target)


@pytest.mark.urls(__name__)
def test_storage_failure_during_upload_leaves_nothing(
    client: Client, flaky_storage: Path, upload_target: dict[str, Any]
) -> None:
    with pytest.raises(OSError, match="No space"):
        client.post("/upload/", {"file": upload("a.bin", sample(4 * CHUNK))})
    assert_nothing_left(upload_target)


@pytest.mark.urls(__name__)
def test_failure_elsewhere_in_the_request_leaves_nothing(
    monkeypatch,
    client: Client,
    upload_target: dict[str, Any],  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setattr(files.FileWriter, "idle_seconds", 0.2)
    with pytest.raises(RuntimeError, match="boom"):
        client.post("/exploding/", {"file": upload("a.bin", sample(4 * CHUNK))})
    # The writer notices nobody feeds it any more, and removes what it wrote.
    for thread in writer_threads():
        thread.join(timeout=10)
    assert_nothing_left(upload_target)


def test_encrypted_upload_has_no_readable_content(
    vault_dir: Path, keyring: Keyring, key: bytes
) -> None:
    writer = files.FileWriter(keyring, key, name="a.txt", content_type="text/plain")
    writer.write(b"secret")
    encrypted_upload = uploads.EncryptedUpload(
        writer.close(),
        field_name="file",
        name="a.txt",
        content_type="text/plain",
        size=6,
        charset=None,
        content_type_extra=None,
    )
    with pytest.raises(OSError, match="open_stream"):
        encrypted_upload.read()
    encrypted_upload.close()
    assert stored_files(vault_dir) == []

"""Encrypting uploads: each file goes from the request body into the vault storage as
ciphertext, chunk by chunk as it arrives. No plaintext reaches a disk (Django's
TemporaryFileUploadHandler would write it to FILE_UPLOAD_TEMP_DIR in the clear).

A view installs the handler, alone, before anything reads `request.POST` or
`request.FILES`. The CSRF middleware reads `request.POST`, so the view is `csrf_exempt` and
checks the token with this module's `csrf_protect` once the handler is in place (Django's
"modifying upload handlers on the fly"). Access checks come first: the handler needs the
keyring's key, which only someone allowed to write holds. Django parses the body when
`request.POST` or `request.FILES` is first read; look at `too_large` after that.

    @csrf_exempt
    @require_POST
    def upload_evidence(request, pk):
        case = get_case_for_user(request.user, pk, write=True)
        key = ...  # the case keyring's key, opened with the session's unlocked keys
        handler = EncryptingUploadHandler(case.keyring, key, max_bytes=EVIDENCE_MAX_BYTES)
        request.upload_handlers = [handler]
        return _upload_evidence(request, case, handler)

    @csrf_protect
    def _upload_evidence(request, case, handler):
        form = EvidenceForm(request.POST, request.FILES)  # the body is parsed here
        if handler.too_large:
            return render(request, "cases/evidence_too_large.html", status=413)
        ...
        services.attach_evidence(case, form.cleaned_data["file"].encrypted_file, by=...)

`request.FILES` then holds `EncryptedUpload` objects whose EncryptedFile is stored but not
saved: the service that attaches it to its record saves it, with its audit entry. Django
closes every upload when the response is done, and an upload whose row is not in the
database then has its stored object deleted. So a refused CSRF token, a 413, an invalid form
or an exception leave nothing behind. Put `{% csrf_token %}` before the file inputs: after a
file over the limit, the rest of the form is not read.
"""

import io
from typing import Any, NoReturn

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers, StopUpload
from django.http import HttpRequest
from django.utils.decorators import decorator_from_middleware

from waystation.pages.csrf import SameOriginCsrfViewMiddleware

from . import files
from .models import EncryptedFile, Keyring

# Django's own csrf_protect uses the stock middleware, which refuses the `Origin: null` our
# no-referrer policy makes browsers send (docs/decisions/0004): use the project's.
csrf_protect = decorator_from_middleware(SameOriginCsrfViewMiddleware)


class EncryptedUpload(UploadedFile):
    """An upload as the handler leaves it in `request.FILES`: encrypted into the vault
    storage, with `encrypted_file` ready to save. Name, content type and size are what the
    browser sent. There is nothing to read here; once saved, read the file back with
    `files.open_stream`. Closing it (Django does, at the end of the request) deletes the
    stored object unless the row has been saved."""

    def __init__(
        self,
        encrypted_file: EncryptedFile,
        *,
        field_name: str,
        name: str | None,
        content_type: str | None,
        size: int,
        charset: str | None,
        content_type_extra: dict[str, bytes] | None,
    ) -> None:
        super().__init__(io.BytesIO(), name, content_type, size, charset, content_type_extra)
        self.encrypted_file = encrypted_file
        self.field_name = field_name
        self._settled = False

    def read(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise io.UnsupportedOperation("encrypted upload: read it with vault.files.open_stream")

    def chunks(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise io.UnsupportedOperation("encrypted upload: read it with vault.files.open_stream")

    def close(self) -> None:
        if not self._settled:
            self._settled = True
            files.discard_unsaved(self.encrypted_file)
        super().close()


class EncryptingUploadHandler(FileUploadHandler):
    """Encrypts every uploaded file into the vault storage under `keyring` as it arrives.

    A file larger than `max_bytes` stops the upload (StopUpload: the rest of the body is
    read and dropped, so the browser gets the answer): what it wrote is removed, and
    `too_large` is set for the view to answer 413. A file cut off or failing part-way is
    removed too.
    """

    def __init__(
        self,
        keyring: Keyring,
        keyring_key: bytes,
        *,
        max_bytes: int,
        request: HttpRequest | None = None,
    ) -> None:
        super().__init__(request)
        self.keyring = keyring
        self.keyring_key = keyring_key
        self.max_bytes = max_bytes
        self.too_large = False
        self._writer: files.FileWriter | None = None

    def new_file(
        self,
        field_name: str,
        file_name: str,
        content_type: str,
        content_length: int | None,
        charset: str | None = None,
        content_type_extra: dict[str, bytes] | None = None,
    ) -> None:
        super().new_file(
            field_name, file_name, content_type, content_length, charset, content_type_extra
        )
        self._abort()
        self._writer = files.FileWriter(
            self.keyring, self.keyring_key, name=file_name, content_type=content_type
        )
        # Handlers after this one could write the file to disk in the clear.
        raise StopFutureHandlers

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if self._writer is None:
            raise RuntimeError("EncryptingUploadHandler got data outside a file")
        if start + len(raw_data) > self.max_bytes:
            self._abort()
            self.too_large = True
            raise StopUpload(connection_reset=False)
        self._writer.write(raw_data)
        # Nothing for later handlers.
        return None

    def file_complete(self, file_size: int) -> UploadedFile | None:
        writer, self._writer = self._writer, None
        if writer is None:
            return None
        return EncryptedUpload(
            writer.close(),
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )

    def upload_interrupted(self) -> None:
        self._abort()

    def upload_complete(self) -> None:
        self._abort()

    def _abort(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.abort()

"""Reading sealed data inside a request, for a user whose keys are unlocked."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext

from . import crypto
from .fields import decrypt_value
from .models import Keyring
from .services import KeysUnavailableError, open_keyring
from .session import keys_for


class NotUnlockedError(Exception):
    """The session holds no unlocked keys: send the user to unlock, then back."""


class UnreadableError(Exception):
    """The stored ciphertext is damaged: show a clear error for this item only."""


def keyring_key(request: HttpRequest, keyring: Keyring) -> bytes:
    """The case key for the signed-in user. Raises NotUnlockedError or KeysUnavailableError."""
    keys = keys_for(request)
    if keys is None:
        raise NotUnlockedError
    return open_keyring(keyring, keys)


def read_sealed(request: HttpRequest, obj: models.Model, field_name: str) -> Any:
    """One sealed field's plaintext for the signed-in user.

    Raises NotUnlockedError (redirect to unlock), KeysUnavailableError (treat as 404) or
    UnreadableError (the ciphertext was altered or truncated: show an error for this field,
    not a crash).
    """
    key = keyring_key(request, obj.keyring)  # type: ignore[attr-defined]
    try:
        return decrypt_value(key, obj, field_name)
    except crypto.DecryptionError as error:
        raise UnreadableError(field_name) from error


@dataclass(frozen=True)
class SealedValue:
    """A sealed field as a page shows it: the value, or a message saying why not."""

    value: Any = None
    error: str = ""


def open_sealed_fields(
    request: HttpRequest, obj: models.Model, names: list[str], *, key: bytes | None = None
) -> dict[str, SealedValue]:
    """Several sealed fields for one page. A damaged field becomes a message for that field
    alone; the rest still show. Raises NotUnlockedError or KeysUnavailableError like
    read_sealed, since those concern the whole record. `key`, when the caller opened the
    record's keyring already, spares opening it again."""
    if key is None:
        key = keyring_key(request, obj.keyring)  # type: ignore[attr-defined]
    opened = {}
    for name in names:
        try:
            opened[name] = SealedValue(decrypt_value(key, obj, name))
        except crypto.DecryptionError:
            opened[name] = SealedValue(
                error=gettext(
                    "This item is damaged and cannot be shown. The rest of the record is intact."
                )
            )
    return opened


View = TypeVar("View", bound=Callable[..., HttpResponse])


def keys_required(view: View) -> View:
    """Send a user whose session holds no unlocked keys to unlock them, then back."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if keys_for(request) is None:
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{reverse('vault:unlock')}?{query}")
        return view(request, *args, **kwargs)

    return wrapped  # type: ignore[return-value]


__all__ = [
    "KeysUnavailableError",
    "NotUnlockedError",
    "SealedValue",
    "UnreadableError",
    "keyring_key",
    "keys_required",
    "open_sealed_fields",
    "read_sealed",
]

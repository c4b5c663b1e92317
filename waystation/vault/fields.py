"""Sealed model fields: columns that hold only ciphertext under a keyring (case key).

Declare them on a model that has a `keyring` foreign key:

    class Request(SealedModel):
        keyring = models.ForeignKey("vault.Keyring", on_delete=models.PROTECT)
        narrative = SealedField()

Write with `obj.seal(key, narrative="...")` using the key from `create_keyring` or
`open_keyring`; read inside a request with `waystation.vault.access.read_sealed(request, obj,
"narrative")`. The ciphertext is bound to the keyring, the model, the row id and the field
name, so it cannot be moved to another field, row or case without failing to decrypt.
"""

import json
from typing import Any

from django.db import models

from . import crypto


class SealedField(models.BinaryField):
    """Ciphertext of one value (text or JSON). Never holds plaintext; empty when unset."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)


def associated_data(obj: models.Model, field_name: str) -> bytes:
    keyring_id = obj.keyring_id  # type: ignore[attr-defined]
    return f"field:{obj._meta.label_lower}:{obj.pk}:{field_name}:{keyring_id}".encode()


def encrypt_value(key: bytes, obj: models.Model, field_name: str, value: Any) -> bytes:
    payload = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    return crypto.encrypt(key, payload, associated_data(obj, field_name))


def decrypt_value(key: bytes, obj: models.Model, field_name: str) -> Any:
    """The plaintext of one sealed field; None when it was never set.

    Raises crypto.DecryptionError when the ciphertext was altered, truncated or moved.
    """
    blob = getattr(obj, field_name)
    if blob is None:
        return None
    return json.loads(crypto.decrypt(key, bytes(blob), associated_data(obj, field_name)))


class SealedModel(models.Model):
    """A model with sealed fields. Its primary key must be set before sealing (UUIDs are)."""

    class Meta:
        abstract = True

    def sealed_field_names(self) -> list[str]:
        return [f.name for f in self._meta.get_fields() if isinstance(f, SealedField)]

    def seal(self, key: bytes, **values: Any) -> None:
        """Encrypt each value into its sealed field (the caller saves the row)."""
        names = set(self.sealed_field_names())
        for name, value in values.items():
            if name not in names:
                raise AttributeError(f"{name} is not a sealed field of {self._meta.label}")
            setattr(self, name, encrypt_value(key, self, name, value))

"""What intake tells later apps, without knowing them."""

from dataclasses import dataclass, field
from typing import Any

from django.dispatch import Signal


@dataclass(frozen=True)
class Addition:
    """What a later app adds to a request about to be stored: further team keys (vault
    TeamKey) its case key is sealed to, and unsaved model instances inserted in the
    transaction that stores it, so they commit or roll back with the request."""

    readers: list[Any] = field(default_factory=list)
    rows: list[Any] = field(default_factory=list)


# Sent before a request is sealed and stored (argument: `request`, not saved yet, with its
# id, keyring id and operational fields set); each receiver returns an Addition. Asked on
# every public request, outside any transaction: receivers read an index or two and build
# rows, and write nothing themselves, so the single writer is held for inserts alone.
request_preparing = Signal()

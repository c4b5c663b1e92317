"""Vault configuration mistakes, reported as system checks."""

import base64
import binascii
from typing import Any

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security)
def check_vault_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    problems: list[checks.CheckMessage] = []
    if settings.PRODUCTION and settings.VAULT_KDF_MEMORY_MIB < 64:
        problems.append(
            checks.Error(
                "WAYSTATION_VAULT_KDF_MEMORY_MIB is below 64: stolen key wraps would be cheap to "
                "attack.",
                hint="Use 64 or more.",
                id="waystation.E101",
            )
        )
    if settings.BACKUP_PUBLIC_KEY:
        try:
            raw = base64.b64decode(settings.BACKUP_PUBLIC_KEY, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32:
            problems.append(
                checks.Error(
                    "WAYSTATION_BACKUP_PUBLIC_KEY is not a base64 X25519 public key.",
                    hint="Generate a pair with `manage.py backup_keygen` on an offline machine.",
                    id="waystation.E102",
                )
            )
    if any(len(key) < 32 for key in settings.BLIND_INDEX_KEYS):
        problems.append(
            checks.Error(
                "A key in WAYSTATION_BLIND_INDEX_KEYS is shorter than 32 characters.",
                hint="Use long random values, newest first, separated by commas.",
                id="waystation.E103",
            )
        )
    if settings.S3_BUCKET:
        try:
            import storages  # noqa: F401
        except ImportError:
            problems.append(
                checks.Error(
                    "WAYSTATION_S3_BUCKET is set but django-storages is not installed.",
                    hint="Install with: pip install 'waystation[s3]'",
                    id="waystation.E104",
                )
            )
    return problems


@checks.register(checks.Tags.security, deploy=True)
def check_backup_key(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    if not settings.BACKUP_PUBLIC_KEY:
        return [
            checks.Warning(
                "WAYSTATION_BACKUP_PUBLIC_KEY is empty: `manage.py backup` cannot run.",
                hint="Generate a pair with `manage.py backup_keygen` on an offline machine and set "
                "the public half here.",
                id="waystation.W101",
            )
        ]
    return []

import uuid

import pytest
from django.db import models

from waystation.vault.fields import SealedField, SealedModel


class CanaryRecord(SealedModel):
    """A stand-in for the case and request models of later apps: a row with sealed fields.
    Its table is made with the test database (the root conftest's `django_db_setup`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    keyring = models.ForeignKey("vault.Keyring", on_delete=models.PROTECT)
    name = SealedField()
    contact = SealedField()
    narrative = SealedField()

    class Meta:
        app_label = "vault"


@pytest.fixture(autouse=True)
def _vault_storage(vault_storage):  # type: ignore[no-untyped-def]
    return vault_storage

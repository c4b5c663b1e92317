import uuid

import pytest
from django.db import connection, models

from waystation.vault.fields import SealedField, SealedModel


class CanaryRecord(SealedModel):
    """A stand-in for the case and request models of later apps: a row with sealed fields."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    keyring = models.ForeignKey("vault.Keyring", on_delete=models.PROTECT)
    name = SealedField()
    contact = SealedField()
    narrative = SealedField()

    class Meta:
        app_label = "vault"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock(), connection.schema_editor() as editor:
        editor.create_model(CanaryRecord)
    yield
    with django_db_blocker.unblock(), connection.schema_editor() as editor:
        editor.delete_model(CanaryRecord)


@pytest.fixture(autouse=True)
def _vault_storage(vault_storage):  # type: ignore[no-untyped-def]
    return vault_storage

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VaultConfig(AppConfig):
    name = "waystation.vault"
    verbose_name = _("Vault")

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the vault's configuration checks

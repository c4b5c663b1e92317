from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PagesConfig(AppConfig):
    name = "waystation.pages"
    verbose_name = _("Pages")

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the configuration checks

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "waystation.intake"
    verbose_name = _("Requests for help")

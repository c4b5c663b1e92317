from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "waystation.cases"
    verbose_name = "Cases"

    def ready(self) -> None:
        from . import receivers  # noqa: F401 - connects the intake signal and questions

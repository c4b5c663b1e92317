from django.apps import AppConfig


class FundingConfig(AppConfig):
    name = "waystation.funding"
    verbose_name = "Funding"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the reporting currency check

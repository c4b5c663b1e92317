from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "waystation.partners"
    verbose_name = "Partners"

    def ready(self) -> None:
        from waystation.cases.signals import register_signal

        from .signals import CODE, referred_by_compromised

        register_signal(CODE, referred_by_compromised)

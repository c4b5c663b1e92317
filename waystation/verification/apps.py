from django.apps import AppConfig


class VerificationConfig(AppConfig):
    name = "waystation.verification"
    verbose_name = "Verification"

    def ready(self) -> None:
        # No case enters planning or a later state before it is verified.
        from .services import register_guards

        register_guards()

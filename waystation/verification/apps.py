from django.apps import AppConfig


class VerificationConfig(AppConfig):
    name = "waystation.verification"
    verbose_name = "Verification"

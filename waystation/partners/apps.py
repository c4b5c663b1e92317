from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "waystation.partners"
    verbose_name = "Partners"

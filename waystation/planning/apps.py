from django.apps import AppConfig


class PlanningConfig(AppConfig):
    name = "waystation.planning"
    verbose_name = "Planning"

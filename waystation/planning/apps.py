from django.apps import AppConfig


class PlanningConfig(AppConfig):
    name = "waystation.planning"
    verbose_name = "Planning"

    def ready(self) -> None:
        # Plan milestones show in "My tasks" and count in the daily digest.
        from waystation.cases.worklist import register_work_source

        from .worklist import milestone_items, milestones_due

        register_work_source(milestone_items, milestones_due)

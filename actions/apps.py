from django.apps import AppConfig


class ActionsConfig(AppConfig):
    name = "actions"
    verbose_name = "Remediation actions"

    def ready(self) -> None:
        from actions import checks  # noqa: F401  Registers the check of stored step commands.

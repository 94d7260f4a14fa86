from django.apps import AppConfig


class ActionsConfig(AppConfig):
    name = "actions"
    verbose_name = "Remediation actions"

    def ready(self) -> None:
        from actions import checks  # noqa: F401  Registers the check of stored step commands.
        from actions.admin import home
        from actions.admin.incident import IncidentActionRunInline, incident_run_action_url
        from actions.admin.snapshot import IncidentSnapshotInline
        from actions.events import happening_heard
        from common.events import listener_register
        from incidents.admin import panels

        panels.inline_register("action-runs", IncidentActionRunInline, order=300)
        panels.inline_register("snapshot", IncidentSnapshotInline, order=310)
        # An incident opening, from any source, captures its services' state (actions.services.capture).
        listener_register("actions", happening_heard)
        panels.button_register("run-action", label="Run action", url=incident_run_action_url)

        home.register()  # The ops home's sections.

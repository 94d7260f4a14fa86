from django.apps import AppConfig


class StatuspageConfig(AppConfig):
    name = "statuspage"
    verbose_name = "Status page"

    def ready(self) -> None:
        from common.events import listener_register
        from incidents.admin import panels
        from notifications.external import external_register
        from statuspage import messages
        from statuspage.admin.incident import IncidentStatusPageInline
        from statuspage.events import happening_heard
        from statuspage.services.subscribers import EXTERNAL

        listener_register("statuspage", happening_heard)
        # Subscribers' deliveries: the ledger sends them, these build what is sent.
        external_register(EXTERNAL, message=messages.message, target=messages.target)
        panels.inline_register("statuspage", IncidentStatusPageInline, order=360)

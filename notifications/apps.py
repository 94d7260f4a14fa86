from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from common.events import listener_register
        from incidents.admin import panels
        from notifications.admin.incident import IncidentDeliveryInline, incident_timeline_entries
        from notifications.events import happening_heard, happenings_heard

        listener_register("notifications", happening_heard, many=happenings_heard)
        panels.inline_register("notifications", IncidentDeliveryInline, order=350)
        panels.timeline_source_register(
            "notifications", label="Notifications", entries=incident_timeline_entries
        )

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from common.events import listener_register
        from incidents.admin import panels
        from notifications.admin.incident import IncidentDeliveryInline
        from notifications.events import happening_heard

        listener_register("notifications", happening_heard)
        panels.inline_register("notifications", IncidentDeliveryInline, order=350)

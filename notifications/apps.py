from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from common.events import listener_register
        from notifications.events import happening_heard

        listener_register("notifications", happening_heard)

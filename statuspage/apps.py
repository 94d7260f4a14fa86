from django.apps import AppConfig


class StatuspageConfig(AppConfig):
    name = "statuspage"
    verbose_name = "Status page"

    def ready(self) -> None:
        from common.events import listener_register
        from statuspage.events import happening_heard

        listener_register("statuspage", happening_heard)

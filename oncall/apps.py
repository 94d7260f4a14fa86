from django.apps import AppConfig


class OncallConfig(AppConfig):
    name = "oncall"
    verbose_name = "On-call"

    def ready(self) -> None:
        from common.events import listener_register
        from oncall.events import happening_heard

        listener_register("oncall", happening_heard)

from django.apps import AppConfig


class PostmortemsConfig(AppConfig):
    name = "postmortems"
    verbose_name = "Post-mortems"

    def ready(self) -> None:
        from incidents.signals import incident_transitioned
        from postmortems.receivers import draft_on_resolution

        incident_transitioned.connect(draft_on_resolution, dispatch_uid="postmortems-draft")

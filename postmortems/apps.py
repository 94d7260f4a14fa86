from django.apps import AppConfig


class PostmortemsConfig(AppConfig):
    name = "postmortems"
    verbose_name = "Post-mortems"

    def ready(self) -> None:
        from incidents.admin import panels
        from incidents.guards import close_guard_register, postmortem_link_register
        from incidents.signals import incident_transitioned
        from postmortems.admin.incident import IncidentPostmortemInline
        from postmortems.guards import JOIN, postmortem_close_guard, postmortem_link
        from postmortems.receivers import draft_on_resolution

        incident_transitioned.connect(draft_on_resolution, dispatch_uid="postmortems-draft")
        close_guard_register("postmortem", postmortem_close_guard)
        postmortem_link_register(join=JOIN, link=postmortem_link)
        panels.inline_register("postmortem", IncidentPostmortemInline, order=500)  # And related incidents.

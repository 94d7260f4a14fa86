from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = "Analytics"

    def ready(self) -> None:
        from analytics.admin.cost import IncidentCostInline, postmortem_cost_html, postmortem_cost_markdown
        from analytics.events import happening_heard
        from common.events import listener_register
        from incidents.admin import panels
        from postmortems.sections import section_register

        listener_register("analytics-cost", happening_heard)
        panels.inline_register("cost", IncidentCostInline, order=520)
        section_register(
            "cost", title="Cost impact", html=postmortem_cost_html, markdown=postmortem_cost_markdown
        )

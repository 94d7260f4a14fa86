from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = "Analytics"

    def ready(self) -> None:
        from analytics.admin.cost import IncidentCostInline, postmortem_cost_html, postmortem_cost_markdown
        from analytics.events import happening_heard
        from analytics.rollups.services import (
            analytics_rollups_refresh,
            analytics_rollups_service_gone,
            analytics_segments_regroup,
        )
        from common.events import listener_register
        from incidents.admin import panels
        from incidents.derived import Keeper, keeper_register
        from postmortems.sections import section_register

        listener_register("analytics-cost", happening_heard)
        # The rollups change in the same transaction as the incident they count (incidents.derived).
        keeper_register(
            "analytics-rollups",
            Keeper(
                incidents_changed=analytics_rollups_refresh,
                services_regrouped=analytics_segments_regroup,
                service_removed=analytics_rollups_service_gone,
            ),
        )
        panels.inline_register("cost", IncidentCostInline, order=520)
        section_register(
            "cost", title="Cost impact", html=postmortem_cost_html, markdown=postmortem_cost_markdown
        )

from django_filters import rest_framework as filters

from drills.choices import DrillStatus, ScenarioKind
from drills.models import DrillRun


class DrillRunFilterSet(filters.FilterSet):
    status = filters.MultipleChoiceFilter(
        choices=DrillStatus.choices, help_text="Repeat for several: ?status=running&status=completed."
    )
    scenario = filters.NumberFilter(field_name="scenario_id", help_text="Scenario id.")
    kind = filters.MultipleChoiceFilter(field_name="scenario__kind", choices=ScenarioKind.choices)

    class Meta:
        model = DrillRun
        fields = ["status", "scenario", "kind"]

"""Extra sections of the analytics dashboard, filled in by the apps above analytics from their
AppConfig.ready() (drills: response times across drills). Analytics never imports them."""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.safestring import SafeString

from analytics.params import AnalyticsParams

PanelRender = Callable[[AnalyticsParams], SafeString]


@dataclass(frozen=True)
class DashboardPanel:
    name: str
    render: PanelRender
    order: int


_panels: dict[str, DashboardPanel] = {}


def panel_register(name: str, render: PanelRender, *, order: int = 100) -> None:
    """Keyed by name, so registering again (tests reloading apps) replaces instead of doubling.
    `render` gets the dashboard's parameters and returns the section's HTML."""
    _panels[name] = DashboardPanel(name=name, render=render, order=order)


def panels_render(params: AnalyticsParams) -> list[SafeString]:
    return [panel.render(params) for panel in sorted(_panels.values(), key=lambda p: (p.order, p.name))]

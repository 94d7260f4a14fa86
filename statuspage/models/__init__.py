from statuspage.models.component import Component, ComponentGroup, ComponentStatusChange
from statuspage.models.incident import AffectedComponent, PublicIncident, PublicUpdate
from statuspage.models.page import PageSettings
from statuspage.models.subscriber import Subscriber

__all__ = [
    "AffectedComponent",
    "Component",
    "ComponentGroup",
    "ComponentStatusChange",
    "PageSettings",
    "PublicIncident",
    "PublicUpdate",
    "Subscriber",
]

from notifications.models.channel import Channel, ContactMethod, IncidentThread
from notifications.models.delivery import Delivery
from notifications.models.rule import NotificationRule
from notifications.models.template import MessageTemplate

__all__ = ["Channel", "ContactMethod", "Delivery", "IncidentThread", "MessageTemplate", "NotificationRule"]

"""Helpers for the incident admin tests: the transition URLs and buttons of the incident page, and
the kinds of the events on its timeline."""

import re

from django.urls import reverse


def transition_url(incident, name: str) -> str:
    return reverse("admin:incidents_incident_transition", args=[incident.pk, name])


def buttons(response) -> list[str]:
    return re.findall(r'data-transition="(\w+)"', response.content.decode())


def kinds(incident) -> list[str]:
    return list(incident.timeline_events.order_by("occurred_at", "id").values_list("kind", flat=True))

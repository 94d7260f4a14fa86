"""Incidents told through the services, each step under a scripted clock."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

from common.actor import Actor
from demo.seed.runbooks import snapshots_request
from incidents.models import Incident
from incidents.services import incident_create
from postmortems.models import ActionItem, Postmortem
from postmortems.services import action_item_create, postmortem_draft_for_resolved


@contextmanager
def scripted_clock(when: datetime) -> Iterator[None]:
    """Run services as if it were `when`. Demo only: the services then compute every timestamp,
    SLA due time and breach exactly as they would have at that moment, with nothing to fix up."""
    with mock.patch("django.utils.timezone.now", return_value=when):
        yield


class Story:
    """One incident told through the services, each step at its scripted time after detection."""

    def __init__(self, *, detected_at: datetime, impact_before: int = 0, **create: Any):
        self.t0 = detected_at
        with scripted_clock(detected_at):
            self.incident = incident_create(
                detected_at=detected_at, started_at=detected_at - timedelta(minutes=impact_before), **create
            )
            snapshots_request(incident=self.incident, by=create["by"])

    def at(self, minutes: int, service: Callable[..., Any], **kwargs: Any) -> "Story":
        """Run one service call as if it happened `minutes` after detection."""
        with scripted_clock(self.t0 + timedelta(minutes=minutes)):
            service(incident=self.incident, **kwargs)
        # Transitions compare the caller's status with the row's: always hand them a fresh copy.
        self.incident = Incident.objects.select_related("priority").get(pk=self.incident.pk)
        return self

    def postmortem(self, minutes: int, service: Callable[..., Any], **kwargs: Any) -> "Story":
        """Run a post-mortem service on this incident's post-mortem (a fresh copy: status changes
        compare the caller's status with the row's) as if `minutes` after detection."""
        with scripted_clock(self.t0 + timedelta(minutes=minutes)):
            service(postmortem=Postmortem.objects.get(incident=self.incident), **kwargs)
        return self

    def draft_postmortem(self, minutes: int) -> "Story":
        """What the worker does when a P1/P2 resolves: draft its post-mortem from the record."""
        with scripted_clock(self.t0 + timedelta(minutes=minutes)):
            postmortem_draft_for_resolved(incident_id=self.incident.pk)
        return self

    def action_item(self, minutes: int, *, by: Actor, **data: Any) -> "Story":
        with scripted_clock(self.t0 + timedelta(minutes=minutes)):
            action_item_create(postmortem=Postmortem.objects.get(incident=self.incident), by=by, data=data)
        return self

    def on_item(self, minutes: int, description: str, service: Callable[..., Any], **kwargs: Any) -> "Story":
        item = ActionItem.objects.get(postmortem__incident=self.incident, description=description)
        with scripted_clock(self.t0 + timedelta(minutes=minutes)):
            service(item=item, **kwargs)
        return self

    def finish(self) -> Incident:
        return self.incident

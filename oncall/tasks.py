"""Thin, idempotent tasks on the `paging` queue: ids in, a service call out."""

from celery import shared_task
from django.contrib.auth.models import User

from common.actor import Actor
from incidents.models import Incident
from oncall.services import paging


@shared_task(acks_late=True)
def page_open(incident_id: int) -> int | None:
    """Open the incident's page if it earns one; a repeated message finds it open and adds none."""
    incident = Incident.objects.filter(pk=incident_id).first()
    if incident is None:
        return None
    page = paging.page_open(incident=incident)
    return page.pk if page else None


@shared_task(bind=True, acks_late=True)
def page_step_run(self, page_id: int) -> None:
    """Run a page's next step; the page's stored task id must be this message's (else stale)."""
    paging.page_step_run(page_id=page_id, task_id=self.request.id)


@shared_task(acks_late=True)
def page_stop(incident_id: int, status: str, user_id: int | None, source: str, label: str = "") -> None:
    user = User.objects.filter(pk=user_id).first() if user_id is not None else None
    paging.page_stop(incident_id=incident_id, status=status, by=Actor(user=user, source=source, label=label))


@shared_task(acks_late=True)
def pages_sweep() -> int:
    return paging.pages_sweep()

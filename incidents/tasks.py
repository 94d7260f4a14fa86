from celery import shared_task

from incidents.services import incident_sla_sweep


@shared_task(acks_late=True)
def sweep_incident_sla() -> int:
    """Beat, every minute: record SLA breaches and overdue updates (idempotent)."""
    return incident_sla_sweep()

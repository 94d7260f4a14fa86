from celery import shared_task

from alerts.services.closed_loop import closed_loops_sweep, incident_closed_loop_check
from alerts.services.processing import alerts_process, alerts_sweep


@shared_task(acks_late=True)
def process_alerts(*, alert_ids: list[int]) -> int:
    """Match, open incidents, trigger responses for freshly stored alerts (processed ones are skipped);
    the first run an immediate response requests is carried out here, after processing commits."""
    return alerts_process(alert_ids=alert_ids, start_runs=True)


@shared_task(acks_late=True)
def check_closed_loop(*, incident_id: int) -> bool:
    """An automated run on an alert-opened incident finished: resolve it if the loop is closed."""
    return incident_closed_loop_check(incident_id=incident_id) is not None


@shared_task(acks_late=True)
def sweep_alerts() -> dict[str, int]:
    """Beat: process alerts whose message never arrived, and close loops whose check was lost."""
    return {"processed": alerts_sweep(), "auto_resolved": closed_loops_sweep()}

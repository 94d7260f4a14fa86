from celery import shared_task

from alerts.services.closed_loop import closed_loops_sweep, incident_closed_loop_check
from alerts.services.processing import alerts_process, alerts_sweep

EXECUTE_TASK = "actions.tasks.execute_action_run"


@shared_task(acks_late=True)
def process_alerts(*, alert_ids: list[int]) -> int:
    """Match, open incidents, trigger responses for freshly stored alerts (processed ones are skipped);
    the first run an immediate response requests is carried out here, after processing commits, by
    a worker that also takes runs' messages."""
    return alerts_process(alert_ids=alert_ids, start_runs=_takes_runs())


def _takes_runs() -> bool:
    """Whether this worker consumes the execute task's queue: a run is carried out only where its
    message could have been taken. A worker kept for alerts alone may lack what runs need
    (ALLOW_LOCAL_PROVIDER, the SSH keys), and its runs go to the queue as before."""
    app = process_alerts.app
    queue = app.amqp.router.route({}, EXECUTE_TASK)["queue"]
    return queue.name in app.amqp.queues.consume_from


@shared_task(acks_late=True)
def check_closed_loop(*, incident_id: int) -> bool:
    """An automated run on an alert-opened incident finished: resolve it if the loop is closed."""
    return incident_closed_loop_check(incident_id=incident_id) is not None


@shared_task(acks_late=True)
def sweep_alerts() -> dict[str, int]:
    """Beat: process alerts whose message never arrived, and close loops whose check was lost."""
    return {"processed": alerts_sweep(), "auto_resolved": closed_loops_sweep()}

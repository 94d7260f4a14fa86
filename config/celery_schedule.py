"""Where Celery's tasks go: the route table and beat's schedule, read by config.settings.

Every task has a queue here; tests/common/test_task_routes.py fails when one is missing, and when
anything beat sends (the schedule below, report schedules in the database) is not on `periodic`."""

from datetime import timedelta

import environ
from celery.schedules import crontab

PERIODIC_QUEUE = "periodic"
TASK_ROUTES = {
    # Beat's work has a queue of its own: an alert storm filling `default` must not hold back the
    # sweeps that find breaches, lost messages and dead workers. Scheduled report sends are beat's
    # too (nothing else sends them): on time, and never queued behind a storm either.
    "incidents.tasks.sweep_incident_sla": {"queue": PERIODIC_QUEUE},
    "actions.tasks.sweep_action_runs": {"queue": PERIODIC_QUEUE},
    "alerts.tasks.sweep_alerts": {"queue": PERIODIC_QUEUE},
    "postmortems.tasks.sweep_postmortem_drafts": {"queue": PERIODIC_QUEUE},
    "postmortems.tasks.send_action_item_reminders": {"queue": PERIODIC_QUEUE},
    "postmortems.tasks.sweep_postmortem_emails": {"queue": PERIODIC_QUEUE},
    "analytics.tasks.send_scheduled_report": {"queue": PERIODIC_QUEUE},
    "analytics.tasks.sweep_incident_costs": {"queue": PERIODIC_QUEUE},
    # Beat installs it by itself (result_expires); a no-op without a result backend.
    "common.tasks.outbox_flush": {"queue": PERIODIC_QUEUE},
    "notifications.tasks.deliveries_sweep": {"queue": PERIODIC_QUEUE},
    "celery.backend_cleanup": {"queue": PERIODIC_QUEUE},
    "oncall.tasks.pages_sweep": {"queue": PERIODIC_QUEUE},
    "statuspage.tasks.maintenance_sweep": {"queue": PERIODIC_QUEUE},
    "drills.tasks.sweep_drill_runs": {"queue": PERIODIC_QUEUE},
    "drills.tasks.start_scheduled_drill": {"queue": PERIODIC_QUEUE},
    "incidents.tasks.*": {"queue": "default"},
    "alerts.tasks.*": {"queue": "default"},
    "postmortems.tasks.*": {"queue": "default"},
    "analytics.tasks.*": {"queue": "default"},
    # Runs hold a worker for as long as their commands take; keep them off the quick queue.
    "actions.tasks.execute_action_run": {"queue": "actions"},
    "actions.tasks.*": {"queue": "default"},
    # Messages wait on providers' networks and rate limits: never behind an alert storm, nor before it.
    # Sending has a queue of its own: in a storm, a message ready to go is not queued behind the
    # routing of every event that came after it (Redis consumers take from their queues in turn).
    "notifications.tasks.delivery_send": {"queue": "deliveries"},
    "notifications.tasks.*": {"queue": "notifications"},
    # Escalation steps are due at a given second: never queued behind an alert storm's routing.
    "oncall.tasks.*": {"queue": "paging"},
    "statuspage.tasks.*": {"queue": "notifications"},
    "drills.tasks.*": {"queue": "default"},
}


def beat_schedule(env: environ.Env) -> dict[str, dict]:
    """Beat's entries; `env` (the settings' reader) gives the intervals."""
    schedule = {
        "incidents-sla-sweep": {
            "task": "incidents.tasks.sweep_incident_sla",
            "schedule": timedelta(seconds=env.int("SLA_SWEEP_SECONDS", default=60)),
        },
    }
    schedule["actions-sweep"] = {
        "task": "actions.tasks.sweep_action_runs",
        "schedule": timedelta(seconds=env.int("ACTION_SWEEP_SECONDS", default=30)),
    }
    schedule["alerts-sweep"] = {
        "task": "alerts.tasks.sweep_alerts",
        "schedule": timedelta(seconds=env.int("ALERT_SWEEP_SECONDS", default=30)),
    }
    schedule["notifications-deliveries-sweep"] = {
        "task": "notifications.tasks.deliveries_sweep",
        "schedule": timedelta(seconds=env.int("NOTIFICATIONS_SWEEP_SECONDS", default=30)),
    }
    schedule["oncall-pages-sweep"] = {
        "task": "oncall.tasks.pages_sweep",
        "schedule": timedelta(seconds=env.int("ONCALL_SWEEP_SECONDS", default=15)),
    }
    schedule["statuspage-maintenance-sweep"] = {
        "task": "statuspage.tasks.maintenance_sweep",
        # Maintenance starts and ends within this many seconds of its window.
        "schedule": timedelta(seconds=env.int("STATUSPAGE_SWEEP_SECONDS", default=30)),
    }
    schedule["analytics-incident-costs-sweep"] = {
        "task": "analytics.tasks.sweep_incident_costs",
        # How stale an open incident's cost may get on the dashboards (the incident page is live).
        "schedule": timedelta(seconds=env.int("COST_SWEEP_SECONDS", default=900)),
    }
    schedule["postmortems-drafts-sweep"] = {
        "task": "postmortems.tasks.sweep_postmortem_drafts",
        "schedule": timedelta(minutes=10),
    }
    schedule["postmortems-emails-sweep"] = {
        "task": "postmortems.tasks.sweep_postmortem_emails",
        "schedule": timedelta(seconds=env.int("POSTMORTEM_EMAIL_SWEEP_SECONDS", default=60)),
    }
    schedule["postmortems-action-item-reminders"] = {
        "task": "postmortems.tasks.send_action_item_reminders",
        # Daily at 08:00 in CELERY_TIMEZONE; the digest's once-a-day row makes extra runs harmless.
        "schedule": crontab(hour=env.int("ACTION_ITEM_REMINDER_HOUR", default=8), minute=0),
    }
    schedule["drills-runs-sweep"] = {
        "task": "drills.tasks.sweep_drill_runs",
        "schedule": timedelta(minutes=5),
    }
    schedule["common-outbox-flush"] = {
        "task": "common.tasks.outbox_flush",
        # Messages the broker refused go out soon after it is back, well before the domain sweepers'.
        "schedule": timedelta(seconds=env.int("OUTBOX_FLUSH_SECONDS", default=10)),
    }
    return schedule

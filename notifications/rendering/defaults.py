"""The words every event starts with, written from the runbook's communication templates (initial
notification, status update, resolution notice, customer notices). Migrations write them into
MessageTemplate rows, which the admin edits; a kind without a row falls back to these."""

# ruff: noqa: E501 (template text reads as it will be sent)
from notifications.choices import Audience, EventKind

K = EventKind

INITIAL = """Status: {{ incident.status }}
Severity: {{ incident.priority.code }} - {{ incident.priority.name }}
Impact: {{ incident.impact|default:"Being assessed" }}
Affected services: {{ incident.services|join:", "|default:"none named yet" }}
Start time: {{ incident.started_at }}

{{ incident.title }}
{% if incident.description %}{{ incident.description|truncatechars:400 }}
{% endif %}
We are investigating{% if incident.priority.update_interval %} and will post an update every {{ incident.priority.update_interval }}{% endif %}.
{% if incident.next_update_due_at %}Next update: {{ incident.next_update_due_at }}
{% endif %}{% if links.status_page %}Status page: {{ links.status_page }}
{% endif %}{% if incident.bridge_url %}War room: {{ incident.bridge_url }}
{% endif %}{% if bundled.count %}
+{{ bundled.count }} more: {{ bundled.summary }}{% endif %}"""

UPDATE = """Status: {{ incident.status }}{% if incident.phase %} ({{ incident.phase }}){% endif %}
Update: {{ status_update.message|default:event.message }}
Impact: {{ incident.impact|default:"Being assessed" }}
{% if incident.next_update_due_at %}Next update: {{ incident.next_update_due_at }}
{% endif %}{% if bundled.count %}
+{{ bundled.count }} more: {{ bundled.summary }}{% endif %}"""

RESOLVED = """Status: Resolved
Resolution time: {{ incident.resolved_at|default:"-" }}
Duration: {{ incident.duration|default:"-" }}

Summary: {{ incident.resolution_summary|default:event.message }}
Root cause: {{ incident.root_cause|default:"Under investigation" }}
Prevention: {% if links.postmortem %}follow-up in the post-mortem ({{ links.postmortem }}){% else %}to be set out in the post-mortem{% endif %}"""

EVENT = """{{ event.message }}

{{ incident.reference }} {{ incident.title }}
Status: {{ incident.status }} - Priority: {{ incident.priority.code }}
{% if bundled.count %}
+{{ bundled.count }} more: {{ bundled.summary }}{% endif %}"""

RUN = """{{ event.message }}

Action: {{ run.action }} (run #{{ run.id }}){% if run.parameters %}
Parameters: {{ run.parameters }}{% endif %}{% if run.error %}
Error: {{ run.error }}{% endif %}{% if incident.reference %}
Incident: {{ incident.reference }} {{ incident.title }}{% endif %}
{% if links.approval %}Review it: {{ links.approval }}{% endif %}"""

CUSTOMER_INITIAL = """We are currently experiencing a problem with {{ incident.services|join:", "|default:"our services" }}. Our team is actively investigating and working to resolve it.

Current status: Investigating
Started: {{ incident.started_at }}

We apologize for the inconvenience and will provide updates as we learn more.{% if links.status_page %}
For real-time updates, please visit {{ links.status_page }}{% endif %}"""

CUSTOMER_UPDATE = """We continue to work on the disruption affecting {{ incident.services|join:", "|default:"our services" }}.

{{ status_update.message|default:event.message }}

We appreciate your patience and will update you again{% if incident.priority.update_interval %} within {{ incident.priority.update_interval }}{% endif %} or when the issue is resolved.{% if links.status_page %}
Status page: {{ links.status_page }}{% endif %}"""

CUSTOMER_RESOLVED = """The disruption affecting {{ incident.services|join:", "|default:"our services" }} has been resolved.

{{ status_update.message|default:event.message }}

We apologize for the inconvenience. If you continue to experience issues, please contact support."""

# (MessageTemplate.subject holds 200 characters: keep this one well under.)
PAGE_SUBJECT = """PAGE [{{ incident.priority.code }}] {{ incident.reference }} {{ incident.title }}{% if event.details.sms_reply_code %} - Reply ACK {{ event.details.sms_reply_code }}{% endif %}"""

PAGE = """{{ event.message }}

{{ incident.reference }} {{ incident.title }}
Status: {{ incident.status }} - Priority: {{ incident.priority.code }}
Affected services: {{ incident.services|join:", "|default:"none named yet" }}
Started: {{ incident.started_at }}
Escalation: {{ event.details.step }}
{% if links.ack %}
Acknowledge: {{ links.ack }}{% endif %}{% if event.details.sms_reply_code %}
Or reply ACK {{ event.details.sms_reply_code }}{% endif %}
The page escalates until someone acknowledges."""

# (kind, audience) -> (subject, body)
DEFAULTS: dict[tuple[str, str], tuple[str, str]] = {
    (K.INCIDENT_OPENED, Audience.INTERNAL): (
        "INCIDENT ALERT - [{{ incident.priority.code }}] {{ incident.reference }} {{ incident.title }}",
        INITIAL,
    ),
    (K.ACKNOWLEDGED, Audience.INTERNAL): (
        "[{{ incident.priority.code }}] {{ incident.reference }} acknowledged",
        EVENT,
    ),
    (K.PRIORITY_CHANGED, Audience.INTERNAL): (
        "[{{ incident.priority.code }}] {{ incident.reference }} priority changed",
        EVENT,
    ),
    (K.ROLE_ASSIGNED, Audience.INTERNAL): ("{{ incident.reference }}: {{ event.message }}", EVENT),
    (K.UPDATE_INTERNAL, Audience.INTERNAL): (
        "INCIDENT UPDATE - [{{ incident.priority.code }}] {{ incident.reference }} {{ incident.title }}",
        UPDATE,
    ),
    (K.UPDATE_PUBLIC, Audience.INTERNAL): (
        "INCIDENT UPDATE (public) - [{{ incident.priority.code }}] {{ incident.reference }} {{ incident.title }}",
        UPDATE,
    ),
    (K.SLA_RESPONSE_BREACHED, Audience.INTERNAL): (
        "[{{ incident.priority.code }}] {{ incident.reference }} missed its response target",
        EVENT,
    ),
    (K.SLA_RESOLUTION_BREACHED, Audience.INTERNAL): (
        "[{{ incident.priority.code }}] {{ incident.reference }} missed its resolution target",
        EVENT,
    ),
    (K.UPDATE_OVERDUE, Audience.INTERNAL): (
        "[{{ incident.priority.code }}] {{ incident.reference }}: a status update is overdue",
        """A status update for {{ incident.reference }} {{ incident.title }} is overdue.
{{ event.message }}

Post one now: {{ links.incident }}""",
    ),
    (K.ALERT_JOINED, Audience.INTERNAL): ("{{ incident.reference }}: alert joined", EVENT),
    (K.RESOLVED, Audience.INTERNAL): (
        "INCIDENT RESOLVED - [{{ incident.priority.code }}] {{ incident.reference }} {{ incident.title }}",
        RESOLVED,
    ),
    (K.REOPENED, Audience.INTERNAL): (
        "[{{ incident.priority.code }}] {{ incident.reference }} reopened",
        EVENT,
    ),
    (K.CLOSED, Audience.INTERNAL): ("{{ incident.reference }} closed", EVENT),
    (K.RUN_AWAITING_APPROVAL, Audience.INTERNAL): (
        "Approval needed: {{ run.action }} (run #{{ run.id }})",
        RUN,
    ),
    (K.RUN_FAILED, Audience.INTERNAL): ("Action failed: {{ run.action }} (run #{{ run.id }})", RUN),
    (K.RUN_TIMED_OUT, Audience.INTERNAL): ("Action timed out: {{ run.action }} (run #{{ run.id }})", RUN),
    (K.POSTMORTEM_PUBLISHED, Audience.INTERNAL): (
        "Post-mortem published: {{ incident.reference }} {{ incident.title }}",
        """The post-mortem of {{ incident.reference }} {{ incident.title }} is published.
{% if links.postmortem %}Read it: {{ links.postmortem }}{% endif %}""",
    ),
    (K.CHANNEL_DISABLED, Audience.INTERNAL): (
        "Notification channel disabled: {{ event.details.channel }}",
        """{{ event.message }}

Fix its settings and enable it again: {{ links.channel }}""",
    ),
    (K.PAGE, Audience.INTERNAL): (PAGE_SUBJECT, PAGE),
    (K.TEST, Audience.INTERNAL): (
        "Test message from Mitigate",
        "This is a test message for the channel {{ event.details.channel }}, sent by {{ event.by }}.",
    ),
    (K.DRILL_STARTED, Audience.INTERNAL): (
        "Drill started: {{ event.details.scenario }}",
        """{{ event.message }}

This is an exercise. Respond as you would to a real incident; the drill ends when its incident is
resolved.{% if links.incident %}
Incident: {{ links.incident }}{% endif %}""",
    ),
    (K.INCIDENT_OPENED, Audience.CUSTOMER): (
        "Service disruption: {{ incident.services|join:', ' }}",
        CUSTOMER_INITIAL,
    ),
    (K.UPDATE_PUBLIC, Audience.CUSTOMER): ("Service disruption update", CUSTOMER_UPDATE),
    (K.RESOLVED, Audience.CUSTOMER): ("Service disruption resolved", CUSTOMER_RESOLVED),
}

"""The post-mortem as Markdown, following the runbook's template: what is downloaded, previewed and
emailed on publication. Free text goes in as written (it is Markdown already); table cells are
flattened to one line with pipes escaped, so an author's text cannot break the tables."""

from django.template.loader import render_to_string
from django.utils import timezone

from actions.selectors import Snapshot, incident_snapshots
from common.formatting import duration_hours_minutes
from postmortems.models import Postmortem
from postmortems.sections import sections_markdown
from postmortems.selectors import (
    detection_facts,
    incident_duration,
    postmortem_timeline,
)


def cell(value: object) -> str:
    text = " ".join(str(value or "").split())
    return text.replace("\\", "\\\\").replace("|", "\\|") or "-"


def bullets(text: str) -> list[str]:
    """One item per non-empty line, a leading "-" or "*" dropped."""
    items = []
    for line in (text or "").splitlines():
        line = line.strip().lstrip("-*").strip()
        if line:
            items.append(line)
    return items


def snapshot_line(snapshot: Snapshot) -> str:
    """A state capture taken when the incident opened, failed ones with their reason."""
    what = f"{snapshot.service_name}, {snapshot.action_name}"
    if snapshot.run is None:
        return cell(f"{what}: not requested ({snapshot.error})")
    status = snapshot.run.get_status_display().lower()
    error = f" ({snapshot.run.error})" if snapshot.failed and snapshot.run.error else ""
    return cell(f"{what}: {status}{error}, run #{snapshot.run.pk} at {_when(snapshot.run.created_at)}")


def _when(value) -> str:
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M %Z}" if value else "-"


def postmortem_markdown(postmortem: Postmortem) -> str:
    incident = postmortem.incident
    detection = detection_facts(incident)
    context = {
        "pm": postmortem,
        "incident": incident,
        "date": f"{timezone.localtime(incident.started_at):%Y-%m-%d}",
        "authors": ", ".join(a.get_full_name() or a.get_username() for a in postmortem.authors.all()) or "-",
        "status": postmortem.get_status_display(),
        "started": _when(incident.started_at),
        "resolved": _when(incident.resolved_at),
        "duration": duration_hours_minutes(incident_duration(incident)) or "unresolved",
        "services": ", ".join(s.name for s in postmortem.services_impacted.all()) or "-",
        "first_alert": detection.first_alert,
        "time_to_detect": duration_hours_minutes(detection.time_to_detect),
        "timeline": [
            {
                "time": cell(_when(e.occurred_at)),
                "event": cell(("📌 Key moment: " if e.pinned else "") + e.shown),
                "who": cell(e.who),
            }
            for e in postmortem_timeline(postmortem)
        ],
        "contributing_factors": bullets(postmortem.contributing_factors),
        "went_well": bullets(postmortem.what_went_well),
        "improve": bullets(postmortem.what_could_be_improved),
        "items": [
            {
                "description": cell(item.description),
                "kind": item.get_kind_display(),
                "owner": cell(item.owner.get_full_name() or item.owner.get_username()),
                "due": f"{item.due_date:%Y-%m-%d}",
                "status": item.get_status_display(),
            }
            for item in postmortem.action_items.select_related("owner").order_by("due_date", "id")
        ],
        "snapshots": [snapshot_line(s) for s in incident_snapshots(incident_id=incident.pk)],
        "extra_impact": sections_markdown(postmortem),
        "root_cause_category": incident.get_root_cause_category_display()
        if incident.root_cause_category
        else "",
    }
    text = render_to_string("postmortems/postmortem.md", context)
    # The template keeps one blank line between blocks however its tags fall.
    lines, blank = [], False
    for line in text.splitlines():
        if not line.strip():
            if not blank and lines:
                lines.append("")
            blank = True
            continue
        lines.append(line.rstrip())
        blank = False
    return "\n".join(lines).strip() + "\n"

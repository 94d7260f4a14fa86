"""What postmortems plugs into incidents.guards: the close guard of P1/P2 incidents and the link to
an incident's post-mortem (registered in PostmortemsConfig.ready())."""

from django.urls import reverse

from incidents.guards import CloseRefusal, RecordLink
from incidents.models import Incident
from postmortems.choices import POSTMORTEM_PRIORITIES, POSTMORTEM_READY_STATUSES

# Incident -> its post-mortem (reverse one-to-one); incident querysets join it.
JOIN = "postmortem"


def postmortem_link(incident: Incident) -> RecordLink | None:
    postmortem = getattr(incident, "postmortem", None)  # None when there is none (no query if joined).
    if postmortem is None:
        return None
    return RecordLink(
        id=postmortem.pk,
        status=postmortem.status,
        url=reverse("postmortem-detail", args=[postmortem.pk]),
        admin_url=reverse("admin:postmortems_postmortem_change", args=[postmortem.pk]),
    )


def postmortem_close_guard(incident: Incident) -> CloseRefusal | None:
    """A P1/P2 incident closes only with its post-mortem in review or published. The priority is
    the most urgent one held since resolution, so lowering it after the fact does not skip this."""
    code = incident.closing_priority
    if code not in POSTMORTEM_PRIORITIES:
        return None
    link = postmortem_link(incident)
    if link is not None and link.status in POSTMORTEM_READY_STATUSES:
        return None
    current = incident.priority.code
    subject = f"{incident.reference} is {code}"
    if code != current:
        subject = f"{incident.reference} was {code} after it was resolved (now {current})"
    if link is None:
        return CloseRefusal(
            reason=f"{subject}: write its post-mortem and submit it for review before closing.",
            record="postmortem",
            link=None,
            fix_url=reverse("admin:postmortems_postmortem_create_for", args=[incident.pk]),
            fix_label="Create the post-mortem",
        )
    return CloseRefusal(
        reason=f"{subject}: its post-mortem is still a draft; submit it for review before closing.",
        record="postmortem",
        link=link,
        fix_url=link.admin_url,
        fix_label="Open the post-mortem",
    )

"""Writing a post-mortem: the draft (by hand, or automatically when a P1/P2 incident resolves), its
sections, the review meeting, and the draft -> in review -> published lifecycle. Each status change
locks the row, checks the status is still the one the caller saw, and goes on the incident's timeline."""

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from common.actor import Actor
from common.exceptions import ConflictError, TransitionNotAllowedError
from common.fsm import locked_transition, row_lock
from common.tasks import enqueue_on_commit
from incidents.choices import EventKind, IncidentStatus
from incidents.models import Incident, Service
from incidents.services import timeline_event_record
from postmortems.choices import POSTMORTEM_PRIORITIES, PostmortemStatus, PublicationEmail
from postmortems.models import Postmortem
from postmortems.selectors import detection_facts, postmortem_resolution_prefill
from postmortems.services.timeline import postmortem_editable_check, timeline_regenerate

ADD_PERMISSION = "postmortems.add_postmortem"
CHANGE_PERMISSION = "postmortems.change_postmortem"
AUTOMATION = Actor.system(source="task", label="postmortem-drafts")
MAX_WHYS = 10
# Everything an author writes; status, authors, attendees and timeline have services of their own.
SECTION_FIELDS = (
    "executive_summary",
    "users_affected",
    "data_loss",
    "data_loss_details",
    "failed_transactions",
    "financial_impact",
    "detection",
    "root_cause",
    "five_whys",
    "contributing_factors",
    "resolution",
    "what_went_well",
    "what_could_be_improved",
    "lessons_learned",
    "supporting_links",
)
# Submitting for review needs at least these; an empty review wastes the meeting.
REQUIRED_FOR_REVIEW = {
    "executive_summary": "Write the executive summary.",
    "root_cause": "Say what happened (root cause).",
}


def _record(postmortem: Postmortem, by: Actor, message: str, **details: Any) -> None:
    timeline_event_record(
        incident=postmortem.incident,
        kind=EventKind.POSTMORTEM,
        by=by,
        message=message,
        details={"postmortem": postmortem.pk, **details},
    )


def postmortem_create(*, incident: Incident, by: Actor) -> Postmortem:
    """Draft the post-mortem of an incident, prefilled from what the record already says: severity,
    services, users affected, how it was detected, how it was resolved, and the timeline. The
    commander is the first author (or the person who asked, when there is no commander)."""
    by.require(ADD_PERMISSION, "write post-mortems")
    if Postmortem.objects.filter(incident=incident).exists():
        raise ConflictError(f"{incident.reference} already has a post-mortem.", code="exists")
    with transaction.atomic():
        incident = Incident.objects.select_related("priority", "commander").get(pk=incident.pk)
        postmortem = Postmortem(
            incident=incident,
            severity=incident.priority.code,
            users_affected=incident.get_users_affected_display() if incident.users_affected else "",
            detection=detection_facts(incident).summary,
            resolution=postmortem_resolution_prefill(incident),
            created_by=by.user,
        )
        try:
            with transaction.atomic():
                postmortem.save()
        except IntegrityError as exc:  # Drafted by someone else (or the automation) just now.
            raise ConflictError(f"{incident.reference} already has a post-mortem.", code="exists") from exc
        first_author = incident.commander or by.user
        if first_author is not None:
            postmortem.authors.add(first_author)
        postmortem.services_impacted.set(incident.services.all())
        _record(postmortem, by, "Post-mortem drafted.")
    timeline_regenerate(postmortem=postmortem, by=AUTOMATION)
    return postmortem


def postmortem_draft_for_resolved(*, incident_id: int) -> Postmortem | None:
    """Automation: draft the post-mortem of a resolved P1/P2 incident that has none yet; otherwise
    do nothing (so the task and the sweeper may both call it)."""
    incident = Incident.objects.select_related("priority").filter(pk=incident_id).first()
    if (
        incident is None
        or incident.closing_priority not in POSTMORTEM_PRIORITIES
        or incident.status not in (IncidentStatus.RESOLVED, IncidentStatus.CLOSED)
        or Postmortem.objects.filter(incident=incident).exists()
    ):
        return None
    try:
        return postmortem_create(incident=incident, by=AUTOMATION)
    except ConflictError:
        return None


def postmortem_drafts_sweep(*, since: timedelta = timedelta(days=7)) -> int:
    """Beat: draft the post-mortems a lost message missed (recently resolved P1/P2 incidents, or
    raised to P1/P2 after their resolution)."""
    ids = Incident.objects.filter(
        Q(priority__code__in=POSTMORTEM_PRIORITIES) | Q(peak_priority__in=POSTMORTEM_PRIORITIES),
        status__in=(IncidentStatus.RESOLVED, IncidentStatus.CLOSED),
        resolved_at__gte=timezone.now() - since,
        postmortem__isnull=True,
    ).values_list("pk", flat=True)
    return sum(postmortem_draft_for_resolved(incident_id=pk) is not None for pk in list(ids))


def _whys_problems(value: Any) -> list[str]:
    if not isinstance(value, list):
        return ['Give a list of {"question": ..., "answer": ...}.']
    if len(value) > MAX_WHYS:
        return [f"At most {MAX_WHYS} whys."]
    problems = []
    for index, item in enumerate(value, start=1):
        if (
            not isinstance(item, dict)
            or set(item) - {"question", "answer"}
            or not isinstance(item.get("question"), str)
            or not isinstance(item.get("answer", ""), str)
            or not item["question"].strip()
        ):
            problems.append(f"Why {index}: needs a question (text) and an answer (text).")
    return problems


def _links_problems(value: Any) -> list[str]:
    if not isinstance(value, list):
        return ['Give a list of {"title": ..., "url": ...}.']
    problems, check = [], URLValidator(schemes=["http", "https"])
    for index, item in enumerate(value, start=1):
        if not isinstance(item, dict) or set(item) - {"title", "url"} or not isinstance(item.get("url"), str):
            problems.append(f"Link {index}: needs a url and optionally a title.")
            continue
        try:
            check(item["url"])
        except ValidationError:
            problems.append(f"Link {index}: {item['url']!r} is not an http(s) URL.")
    return problems


def postmortem_update(
    *,
    postmortem: Postmortem,
    by: Actor,
    data: dict[str, Any],
    authors: Iterable[AbstractBaseUser] | None = None,
    services_impacted: Iterable[Service] | None = None,
) -> Postmortem:
    """Change sections (and, when given, the authors and the impacted services) of a draft or a
    post-mortem in review."""
    postmortem_editable_check(postmortem=postmortem, by=by)
    errors: dict[str, list[str]] = {}
    for field in data:
        if field not in SECTION_FIELDS:
            errors[field] = ["Not a post-mortem section."]
    if "five_whys" in data:
        if problems := _whys_problems(data["five_whys"]):
            errors["five_whys"] = problems
        else:
            whys = [
                {"question": w["question"].strip(), "answer": w.get("answer", "").strip()}
                for w in data["five_whys"]
            ]
            data = {**data, "five_whys": whys}
    if "supporting_links" in data and (problems := _links_problems(data["supporting_links"])):
        errors["supporting_links"] = problems
    if authors is not None and not list(authors):
        errors["authors"] = ["A post-mortem needs at least one author."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = _lock(postmortem)
        if locked.status == PostmortemStatus.PUBLISHED:
            raise TransitionNotAllowedError("The post-mortem was published meanwhile: it no longer changes.")
        for field, value in data.items():
            setattr(locked, field, value.strip() if isinstance(value, str) else value)
        locked.full_clean(exclude=["incident", "status", "authors", "services_impacted", "review_attendees"])
        locked.save()
        if authors is not None:
            locked.authors.set(list(authors))
        if services_impacted is not None:
            locked.services_impacted.set(list(services_impacted))
    return locked


def _lock(postmortem: Postmortem) -> Postmortem:
    return row_lock(instance=postmortem, related=("incident",), stale=_stale)


def _stale(locked: Postmortem) -> str:
    return f"The post-mortem changed meanwhile: it is now {locked.get_status_display().lower()}. Reload."


def _transition(
    *,
    postmortem: Postmortem,
    by: Actor,
    name: str,
    verb: str,
    message: str,
    check: Callable[[Postmortem], None] | None = None,
    apply: Callable[[Postmortem], None] | None = None,
) -> Postmortem:
    def refused(locked: Postmortem) -> TransitionNotAllowedError:
        return TransitionNotAllowedError(
            f"Cannot {verb} the post-mortem: it is {locked.get_status_display().lower()}.",
            extra={"status": locked.status, "transition": name},
        )

    return locked_transition(
        instance=postmortem,
        name=name,
        by=by,
        related=("incident",),
        stale=_stale,
        refused=refused,
        denied=f"{verb} post-mortems",
        before=check,
        apply=apply,
        record=lambda locked, from_status: _record(locked, by, message, status=locked.status),
    )


def _complete_enough(postmortem: Postmortem) -> None:
    missing = {f: [m] for f, m in REQUIRED_FOR_REVIEW.items() if not getattr(postmortem, f).strip()}
    if missing:
        raise ValidationError(missing)


def postmortem_submit(*, postmortem: Postmortem, by: Actor) -> Postmortem:
    """Draft -> in review: the authors think it is ready for the review meeting."""

    def apply(locked: Postmortem) -> None:
        locked.submitted_at = timezone.now()

    return _transition(
        postmortem=postmortem,
        by=by,
        name="submit",
        verb="submit",
        message="Post-mortem submitted for review.",
        check=_complete_enough,
        apply=apply,
    )


def postmortem_return_to_draft(*, postmortem: Postmortem, by: Actor, reason: str = "") -> Postmortem:
    """In review -> draft: the review asked for more work."""
    reason = (reason or "").strip()
    return _transition(
        postmortem=postmortem,
        by=by,
        name="return_to_draft",
        verb="return to draft",
        message="Post-mortem returned to draft" + (f": {reason}" if reason else "."),
    )


def postmortem_publish(*, postmortem: Postmortem, by: Actor) -> Postmortem:
    """In review -> published: final. The Markdown goes by email to the stakeholders: the row marks
    it pending, and a task (or the sweeper, if the broker lost the message) sends it once."""

    def apply(locked: Postmortem) -> None:
        locked.published_at = timezone.now()
        locked.publication_email = PublicationEmail.PENDING
        enqueue_on_commit("postmortems.tasks.send_postmortem_publication", postmortem_id=locked.pk)

    return _transition(
        postmortem=postmortem,
        by=by,
        name="publish",
        verb="publish",
        message="Post-mortem published.",
        check=_complete_enough,
        apply=apply,
    )


def review_suggestion(incident: Incident, now: datetime | None = None) -> datetime:
    """When to hold the review by default: the next whole hour a day after resolution (well within
    the 48 hours the runbook asks for), or the next whole hour from now if that has passed."""
    now = now or timezone.now()
    base = (incident.resolved_at or now) + timedelta(days=1)
    if base < now:
        base = now
    return base.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def postmortem_review_schedule(
    *,
    postmortem: Postmortem,
    by: Actor,
    attendees: Iterable[AbstractBaseUser],
    at: datetime | None = None,
) -> Postmortem:
    """Set the review meeting (default: `review_suggestion`) and its attendees; an invitation with
    an .ics goes to each of them after commit (by a task, or by the sweeper if the broker lost the
    message). Rescheduling sends an update of the same event."""
    postmortem_editable_check(postmortem=postmortem, by=by)
    attendees = list(attendees)
    errors = {}
    if not attendees:
        errors["attendees"] = ["Invite at least one person."]
    elif missing := [u.get_username() for u in attendees if not u.email]:
        errors["attendees"] = [f"No email address for {', '.join(missing)}."]
    at = at or review_suggestion(postmortem.incident)
    if at < timezone.now() - timedelta(minutes=5):
        errors["at"] = ["The review cannot be in the past."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = _lock(postmortem)
        locked.review_at = at
        locked.review_scheduled_at = timezone.now()
        locked.review_invitation_error = ""
        locked.save(
            update_fields=["review_at", "review_scheduled_at", "review_invitation_error", "updated_at"]
        )
        locked.review_attendees.set(attendees)
        _record(
            locked,
            by,
            f"Post-mortem review scheduled for {timezone.localtime(at):%Y-%m-%d %H:%M %Z}.",
            attendees=[u.get_username() for u in attendees],
        )
        enqueue_on_commit(
            "postmortems.tasks.send_review_invitation", postmortem_id=locked.pk, at=at.isoformat()
        )
    return locked

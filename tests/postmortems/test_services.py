"""postmortems.services: the automatic draft, the close condition, sections, the lifecycle, the
generated timeline with authors' edits, and the Markdown."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from alerts.services import alert_source_create
from common.actor import Actor, Source
from common.exceptions import ConflictError, PermissionDeniedError, TransitionNotAllowedError
from incidents.choices import EventKind, IncidentStatus
from incidents.models import Incident
from incidents.services import incident_acknowledge, incident_close, incident_resolve
from postmortems.choices import EntrySource, PostmortemStatus
from postmortems.markdown import postmortem_markdown
from postmortems.models import Postmortem, TimelineEntry
from postmortems.receivers import draft_on_resolution
from postmortems.services import (
    action_item_create,
    postmortem_create,
    postmortem_draft_for_resolved,
    postmortem_drafts_sweep,
    postmortem_publish,
    postmortem_return_to_draft,
    postmortem_submit,
    postmortem_update,
    review_suggestion,
    timeline_entry_add,
    timeline_entry_update,
    timeline_regenerate,
)
from tests.incidents.support import install_clock
from tests.postmortems.support import ONSET, alert_driven_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def human(responder) -> Actor:
    return Actor(user=responder, source=Source.API)


@pytest.fixture
def approver_actor(user_factory) -> Actor:
    return Actor(user=user_factory(username="approver", groups=["Approver"]), source=Source.API)


@pytest.fixture
def resolved(open_incident, human, priorities):
    def make(code="P2", **kwargs):
        incident = open_incident(priority=priorities[code], **kwargs)
        incident = incident_acknowledge(incident=incident, by=human)
        return incident_resolve(incident=incident, by=human, summary="Rolled back the deploy.")

    return make


def ready(postmortem, by):
    postmortem = postmortem_update(
        postmortem=postmortem,
        by=by,
        data={"executive_summary": "Checkout failed.", "root_cause": "A bad deploy."},
    )
    return postmortem_submit(postmortem=postmortem, by=by)


# --- the draft -------------------------------------------------------------------------------------


def test_resolving_a_p2_enqueues_its_draft_and_the_task_writes_it(
    resolved, django_capture_on_commit_callbacks, monkeypatch
):
    from postmortems.tasks import create_postmortem_draft

    sent = []
    monkeypatch.setattr(create_postmortem_draft, "apply_async", lambda **kw: sent.append(kw["kwargs"]))
    with django_capture_on_commit_callbacks(execute=True):
        incident = resolved("P2")
    assert sent == [{"incident_id": incident.pk}]

    postmortem = postmortem_draft_for_resolved(incident_id=incident.pk)

    assert postmortem.status == PostmortemStatus.DRAFT and postmortem.severity == "P2"
    assert postmortem.created_by is None
    assert postmortem_draft_for_resolved(incident_id=incident.pk) is None  # Idempotent.


def test_no_draft_for_lower_priorities(resolved, django_capture_on_commit_callbacks, monkeypatch):
    from postmortems.tasks import create_postmortem_draft

    sent = []
    monkeypatch.setattr(create_postmortem_draft, "apply_async", lambda **kw: sent.append(kw["kwargs"]))
    with django_capture_on_commit_callbacks(execute=True):
        incident = resolved("P3")
    assert sent == []
    assert postmortem_draft_for_resolved(incident_id=incident.pk) is None


def test_the_receiver_ignores_other_transitions(open_incident, monkeypatch, priorities):
    from postmortems.tasks import create_postmortem_draft

    sent = []
    monkeypatch.setattr(create_postmortem_draft, "apply_async", lambda **kw: sent.append(kw["kwargs"]))
    draft_on_resolution(Incident, incident=open_incident(priority=priorities["P1"]), transition="acknowledge")
    assert sent == []


def test_the_sweeper_drafts_what_a_lost_message_missed(resolved):
    incident = resolved("P1")
    assert postmortem_drafts_sweep() == 1
    assert Postmortem.objects.get().incident == incident
    assert postmortem_drafts_sweep() == 0


def test_create_prefills_from_the_record(resolved, human, user_factory, service_factory):
    commander = user_factory(username="cmdr")
    web = service_factory(name="Web")
    incident = resolved("P1", commander=commander, services=[web], users_affected="many")

    postmortem = postmortem_create(incident=incident, by=human)

    assert list(postmortem.authors.all()) == [commander]
    assert list(postmortem.services_impacted.all()) == [web]
    assert postmortem.users_affected == "Many users"
    assert postmortem.resolution.startswith("Rolled back the deploy.")
    assert "Opened by a person" in postmortem.detection
    event = incident.timeline_events.get(kind=EventKind.POSTMORTEM)
    assert event.message == "Post-mortem drafted." and event.actor == human.user
    with pytest.raises(ConflictError):
        postmortem_create(incident=incident, by=human)


def test_a_viewer_cannot_write_one(resolved, viewer):
    with pytest.raises(PermissionDeniedError):
        postmortem_create(incident=resolved(), by=Actor(user=viewer, source=Source.API))


# --- closing needs it ------------------------------------------------------------------------------


def test_a_p1_or_p2_closes_only_with_its_post_mortem_in_review(resolved, human):
    incident = resolved("P1")
    with pytest.raises(TransitionNotAllowedError, match="write its post-mortem"):
        incident_close(incident=incident, by=human)

    postmortem = postmortem_create(incident=incident, by=human)
    with pytest.raises(TransitionNotAllowedError, match="still a draft"):
        incident_close(incident=Incident.objects.get(pk=incident.pk), by=human)
    assert Incident.objects.get(pk=incident.pk).status == IncidentStatus.RESOLVED

    ready(postmortem, human)
    closed = incident_close(incident=Incident.objects.get(pk=incident.pk), by=human)
    assert closed.status == IncidentStatus.CLOSED


def test_a_p3_closes_without_one(resolved, human):
    assert incident_close(incident=resolved("P3"), by=human).status == IncidentStatus.CLOSED


# --- sections and lifecycle ------------------------------------------------------------------------


def test_sections_are_validated_and_nothing_is_saved_on_error(resolved, human):
    postmortem = postmortem_create(incident=resolved(), by=human)
    with pytest.raises(ValidationError) as error:
        postmortem_update(
            postmortem=postmortem,
            by=human,
            data={
                "root_cause": "Saved? No.",
                "five_whys": [{"question": ""}],
                "supporting_links": [{"url": "javascript:alert(1)"}],
                "status": "published",
            },
        )
    assert set(error.value.message_dict) == {"five_whys", "supporting_links", "status"}
    assert Postmortem.objects.get().root_cause == ""

    updated = postmortem_update(
        postmortem=postmortem,
        by=human,
        data={"five_whys": [{"question": " Why did checkout fail? ", "answer": "Pool exhausted."}]},
    )
    assert updated.five_whys == [{"question": "Why did checkout fail?", "answer": "Pool exhausted."}]


def test_lifecycle_submit_return_publish(resolved, human, approver_actor):
    postmortem = postmortem_create(incident=resolved(), by=human)
    with pytest.raises(ValidationError) as error:
        postmortem_submit(postmortem=postmortem, by=human)
    assert set(error.value.message_dict) == {"executive_summary", "root_cause"}

    in_review = ready(postmortem, human)
    assert in_review.status == PostmortemStatus.IN_REVIEW and in_review.submitted_at
    back = postmortem_return_to_draft(postmortem=in_review, by=human, reason="Add the five whys.")
    assert back.status == PostmortemStatus.DRAFT
    in_review = postmortem_submit(postmortem=back, by=human)

    with pytest.raises(PermissionDeniedError):
        postmortem_publish(postmortem=in_review, by=human)  # Responders write; approvers publish.
    published = postmortem_publish(postmortem=in_review, by=approver_actor)
    assert published.status == PostmortemStatus.PUBLISHED and published.published_at
    with pytest.raises(TransitionNotAllowedError, match="published"):
        postmortem_update(postmortem=published, by=human, data={"lessons_learned": "Too late."})
    messages = list(
        published.incident.timeline_events.filter(kind=EventKind.POSTMORTEM).values_list("message", flat=True)
    )
    assert messages == [
        "Post-mortem drafted.",
        "Post-mortem submitted for review.",
        "Post-mortem returned to draft: Add the five whys.",
        "Post-mortem submitted for review.",
        "Post-mortem published.",
    ]


def test_a_stale_copy_loses_the_race(resolved, human):
    postmortem = postmortem_create(incident=resolved(), by=human)
    stale = Postmortem.objects.get(pk=postmortem.pk)
    ready(postmortem, human)
    with pytest.raises(ConflictError):
        postmortem_submit(postmortem=stale, by=human)


def test_review_suggestion_is_a_day_after_resolution_or_soon(resolved):
    incident = resolved()
    at = review_suggestion(incident, now=incident.resolved_at)
    assert timedelta(hours=24) < at - incident.resolved_at <= timedelta(hours=25) and at.minute == 0
    later = incident.resolved_at + timedelta(days=5)
    assert timedelta(0) < review_suggestion(incident, now=later) - later <= timedelta(hours=1)


# --- the generated timeline ------------------------------------------------------------------------


@pytest.fixture
def realistic(monkeypatch, responder, user_factory, settings):
    settings.ALLOW_LOCAL_PROVIDER = True
    clock = install_clock(monkeypatch, ONSET)
    source, _ = alert_source_create(by=Actor.system(), name="Prometheus", kind="alertmanager")
    scribe = user_factory(username="sam")
    incident = alert_driven_incident(source=source, responder=responder, clock=clock, scribe=scribe)
    return incident, clock


def test_timeline_is_generated_from_the_whole_record(realistic, human):
    incident, _ = realistic
    postmortem = postmortem_create(incident=incident, by=human)

    rows = [
        (e.occurred_at - ONSET, e.source, e.event, e.who)
        for e in postmortem.entries.order_by("occurred_at", "id")
    ]
    who = human.user.get_username()
    minutes = timedelta(minutes=1)
    assert rows[0] == (
        timedelta(0),
        EntrySource.ALERT,
        "Alert InstanceDown started firing (Prometheus).",
        "Automated",
    )
    events = [
        (offset, source, text.split(" (")[0].split(":")[0], person)
        for offset, source, text, person in rows[1:]
    ]
    assert events == [
        (3 * minutes, EntrySource.TIMELINE, "P1 incident opened", "Automated"),
        (3 * minutes, EntrySource.ALERT, "Alert InstanceDown fired and opened this incident.", "Automated"),
        (3 * minutes, EntrySource.ACTION_RUN, "Requested Health check.", "Automated"),
        (3 * minutes + timedelta(seconds=20), EntrySource.ACTION_RUN, "Health check", "Automated"),
        (3 * minutes + timedelta(seconds=20), EntrySource.ACTION_RUN, "Health check", "Automated"),
        (8 * minutes + timedelta(seconds=20), EntrySource.TIMELINE, "Acknowledged by " + who + ".", who),
        (9 * minutes + timedelta(seconds=20), EntrySource.TIMELINE, "Scribe", who),
        (
            19 * minutes + timedelta(seconds=20),
            EntrySource.STATUS_UPDATE,
            "Web tier restarted; watching error rates.",
            who,
        ),
        (
            39 * minutes + timedelta(seconds=20),
            EntrySource.ALERT,
            "Alert InstanceDown resolved.",
            "Automated",
        ),
        (44 * minutes + timedelta(seconds=20), EntrySource.TIMELINE, "Resolved", who),
    ]
    assert not any(e.event.startswith("Post-mortem") for e in postmortem.entries.all())


def test_regenerating_keeps_the_authors_edits_and_adds_what_is_new(realistic, human):
    incident, clock = realistic
    postmortem = postmortem_create(incident=incident, by=human)
    entries = list(postmortem.entries.order_by("occurred_at", "id"))
    pinned, hidden, reworded = entries[1], entries[2], entries[-1]
    timeline_entry_update(entry=pinned, by=human, pinned=True)
    timeline_entry_update(entry=hidden, by=human, hidden=True)
    timeline_entry_update(entry=reworded, by=human, text="Service restored for all users.")
    own = timeline_entry_add(
        postmortem=postmortem,
        by=human,
        occurred_at=ONSET + timedelta(minutes=30),
        text="Root cause identified.",
    )
    clock.advance(minutes=30)
    from incidents.services import incident_note_add

    incident_note_add(
        incident=Incident.objects.get(pk=incident.pk), by=human, message="Follow-up ticket OPS-12."
    )

    assert timeline_regenerate(postmortem=postmortem, by=human) == 1

    by_id = {e.pk: e for e in TimelineEntry.objects.filter(postmortem=postmortem)}
    assert by_id[pinned.pk].pinned and by_id[hidden.pk].hidden
    assert by_id[reworded.pk].shown == "Service restored for all users."
    assert by_id[reworded.pk].event.startswith("Resolved")  # The generated wording is still there.
    assert by_id[own.pk].shown == "Root cause identified." and by_id[own.pk].source == EntrySource.AUTHOR
    assert len(by_id) == len(entries) + 2
    assert timeline_regenerate(postmortem=postmortem, by=human) == 0


def test_generated_entries_cannot_be_moved_or_emptied(realistic, human):
    incident, _ = realistic
    postmortem = postmortem_create(incident=incident, by=human)
    entry = postmortem.entries.first()
    with pytest.raises(ValidationError):
        timeline_entry_update(entry=entry, by=human, occurred_at=timezone.now())
    restored = timeline_entry_update(entry=entry, by=human, text="")
    assert restored.shown == entry.event


# --- Markdown --------------------------------------------------------------------------------------


def sections(markdown: str) -> dict[str, str]:
    """`## Heading` -> the text up to the next `## ` heading."""
    out, current = {}, None
    for line in markdown.splitlines():
        if line.startswith("## "):
            current = line[3:]
            out[current] = ""
        elif current:
            out[current] += line + "\n"
    return {k: v.strip() for k, v in out.items()}


def test_markdown_follows_the_template_section_by_section(realistic, human, approver_actor, user_factory):
    incident, _ = realistic
    postmortem = postmortem_create(incident=incident, by=human)
    postmortem_update(
        postmortem=postmortem,
        by=human,
        data={
            "executive_summary": "For 44 minutes the storefront returned errors.",
            "users_affected": "40%",
            "data_loss": True,
            "data_loss_details": "Two carts | lost",
            "financial_impact": "About 3,000 EUR",
            "root_cause": "Connection pool exhausted after a deploy.",
            "five_whys": [
                {"question": "Why did checkout fail?", "answer": "No database connections."},
                {"question": "Why were there none?", "answer": ""},
            ],
            "contributing_factors": "- No pool alert\n* Friday deploy\n\n",
            "what_went_well": "Alert fired in 3 minutes",
            "what_could_be_improved": "Runbook was stale",
            "lessons_learned": "Watch the pool.",
            "supporting_links": [{"title": "Dashboard", "url": "https://grafana.example.com/d/1"}],
        },
    )
    owner = user_factory(username="olivia", first_name="Olivia", last_name="Ops")
    action_item_create(
        postmortem=postmortem,
        by=human,
        data={
            "description": "Alert on pool | usage",
            "kind": "monitoring",
            "owner": owner,
            "due_date": ONSET.date(),
        },
    )
    hidden = postmortem.entries.filter(source=EntrySource.STATUS_UPDATE).get()
    timeline_entry_update(entry=hidden, by=human, hidden=True)

    text = postmortem_markdown(Postmortem.objects.get(pk=postmortem.pk))
    head, _, _ = text.partition("\n## ")
    assert head.splitlines()[0] == f"# Post-mortem: {incident.reference} {incident.title}"
    assert "**Date**: 2026-11-02" in head and "**Status**: Draft" in head and "**Severity**: P1" in head
    assert f"**Authors**: {human.user.get_username()}" in head

    parts = sections(text)
    assert list(parts) == [
        "Executive Summary",
        "Impact",
        "Detection",
        "Timeline",
        "Root Cause Analysis",
        "Resolution",
        "Response Analysis",
        "Lessons Learned",
        "Action Items",
        "Supporting Documentation",
    ]
    assert parts["Executive Summary"] == "For 44 minutes the storefront returned errors."
    assert "- **Duration**: 2026-11-02 14:00 UTC to 2026-11-02 14:44 UTC (44 min)" in parts["Impact"]
    assert "- **Affected Users**: 40%" in parts["Impact"]
    assert "- **Data Loss**: Yes: Two carts | lost" in parts["Impact"]
    assert "- **Alert**: InstanceDown (Prometheus)" in parts["Detection"]
    assert "- **Time to detect**: 3 min after onset" in parts["Detection"]
    timeline = parts["Timeline"].splitlines()
    assert timeline[:2] == ["| Time | Event | Who |", "|------|-------|-----|"]
    assert (
        timeline[2]
        == "| 2026-11-02 14:00 UTC | Alert InstanceDown started firing (Prometheus). | Automated |"
    )
    assert not any("Status update" in row for row in timeline)  # Hidden by the author.
    root = parts["Root Cause Analysis"]
    assert "Connection pool exhausted after a deploy." in root
    assert "1. **Why did checkout fail?**\n   - No database connections." in root
    assert "2. **Why were there none?**\n   - _No answer yet._" in root
    assert "### Contributing Factors\n\n- No pool alert\n- Friday deploy" in root
    assert parts["Resolution"].startswith("Restarted the web tier.")
    assert "### What Went Well\n\n- Alert fired in 3 minutes" in parts["Response Analysis"]
    assert "### What Could Be Improved\n\n- Runbook was stale" in parts["Response Analysis"]
    assert parts["Lessons Learned"] == "Watch the pool."
    assert parts["Action Items"].splitlines()[2] == (
        "| Alert on pool \\| usage | Monitoring | Olivia Ops | 2026-11-02 | Open |"
    )
    assert parts["Supporting Documentation"] == "- [Dashboard](https://grafana.example.com/d/1)"

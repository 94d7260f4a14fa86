"""The post-mortem's generated timeline (from the whole incident record, regenerated around the
authors' edits) and the Markdown export that renders it with the sections."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from alerts.services import alert_source_create
from common.actor import Actor
from incidents.models import Incident
from postmortems.choices import EntrySource
from postmortems.markdown import postmortem_markdown
from postmortems.models import Postmortem, TimelineEntry
from postmortems.services import (
    action_item_create,
    postmortem_create,
    postmortem_update,
    timeline_entry_add,
    timeline_entry_update,
    timeline_regenerate,
)
from tests.incidents.support import install_clock
from tests.postmortems.support import ONSET, alert_driven_incident

pytestmark = pytest.mark.django_db


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

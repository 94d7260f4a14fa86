"""The post-mortem admin: the list (constant queries), the sections form saved through
postmortem_update (five whys and links typed as text), the lifecycle buttons by status and
permission, the editable timeline, Markdown download, creating one from an incident, the incident
page's panels, action items (filters, transitions, bulk), and read-only viewers."""

from datetime import timedelta
from functools import partial

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents.models import TimelineEvent
from incidents.services import incident_note_add
from postmortems.admin.forms import links_parse, whys_parse, whys_text
from postmortems.choices import EntrySource, PostmortemStatus
from postmortems.models import Postmortem, TimelineEntry
from postmortems.services import postmortem_create, postmortem_update
from tests.admin_support import admin_url, flashed, form_data
from tests.postmortems.admin_support import buttons, logged_in, ready

url = partial(admin_url, "postmortems")

pytestmark = pytest.mark.django_db


# --- Helpers ---------------------------------------------------------------------------------------


# --- Text formats ----------------------------------------------------------------------------------


def test_whys_and_links_round_trip():
    whys = [{"question": "Why 502?", "answer": "Pool exhausted."}, {"question": "Why?", "answer": ""}]
    assert whys_parse(whys_text(whys)) == whys
    assert whys_parse("Q: Why did it fail\nbecause of load?\nA: Too many\nconnections.") == [
        {"question": "Why did it fail because of load?", "answer": "Too many connections."}
    ]
    assert links_parse("Dashboard | https://grafana.example.com/d/1\nhttps://x.example.com/pr/2") == [
        {"title": "Dashboard", "url": "https://grafana.example.com/d/1"},
        {"title": "", "url": "https://x.example.com/pr/2"},
    ]


# --- List ------------------------------------------------------------------------------------------


def test_changelist_pinned_query_count(admin_client, resolved, actor, django_assert_num_queries):
    postmortem_create(incident=resolved(title="First outage"), by=actor)
    with django_assert_num_queries(7):
        response = admin_client.get(url("postmortem_changelist"))
    assert response.status_code == 200
    for n in range(9):
        postmortem_create(incident=resolved(title=f"Outage {n}"), by=actor)
    with django_assert_num_queries(7):
        response = admin_client.get(url("postmortem_changelist"))
    page = response.content.decode()
    assert "Outage 8" in page and "mitigate-badge" in page
    assert response.context["cl"].result_count == 10


def test_changelist_filters_and_search(admin_client, resolved, actor):
    first = postmortem_create(incident=resolved(title="Database failover"), by=actor)
    postmortem_create(incident=resolved(title="Cache stampede"), by=actor)
    ready(first, actor)

    def titles(query: str) -> set[str]:
        response = admin_client.get(url("postmortem_changelist") + query)
        return {pm.incident.title for pm in response.context["cl"].result_list}

    assert titles("?q=failover") == {"Database failover"}
    assert titles(f"?q={first.incident.reference}") == {"Database failover"}
    assert titles("?severity=P2") == {"Database failover", "Cache stampede"}
    assert titles("?status=draft") == {"Database failover", "Cache stampede"}
    assert titles("?status=published") == set()


# --- Sections --------------------------------------------------------------------------------------


def test_sections_round_trip(client, responder, postmortem, service_factory):
    client = logged_in(client, responder)
    page = client.get(url("postmortem_change", postmortem.pk))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Time to detect" in body and "after onset" in body and "None: opened by a person" in body
    web = service_factory(name="Web")
    data = form_data(
        page,
        executive_summary="Checkout failed.",
        root_cause="Connection pool exhausted.",
        five_whys="Q: Why did checkout fail?\nA: No DB connections.\n\nQ: Why none?\nA: Pool too small.",
        supporting_links="Dashboard | https://grafana.example.com/d/1",
        services_impacted=[str(web.pk)],
        data_loss="on",
    )
    response = client.post(url("postmortem_change", postmortem.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    postmortem.refresh_from_db()
    assert postmortem.executive_summary == "Checkout failed."
    assert postmortem.data_loss is True
    assert postmortem.five_whys == [
        {"question": "Why did checkout fail?", "answer": "No DB connections."},
        {"question": "Why none?", "answer": "Pool too small."},
    ]
    assert postmortem.supporting_links == [{"title": "Dashboard", "url": "https://grafana.example.com/d/1"}]
    assert list(postmortem.services_impacted.all()) == [web]
    again = client.get(url("postmortem_change", postmortem.pk)).content.decode()
    assert "Q: Why none?\nA: Pool too small." in again
    assert "Dashboard | https://grafana.example.com/d/1" in again


@pytest.mark.parametrize(
    "whys, message",
    [
        ("A: an answer first", "an answer needs its question first"),
        ("Q: Why?\nA: one\nA: two", "already has an answer"),
        ("just text", "start with Q:"),
        ("\n".join(f"Q: Why {n}?" for n in range(11)), "At most 10 whys"),
    ],
)
def test_bad_five_whys_are_a_form_error_and_nothing_is_saved(admin_client, postmortem, whys, message):
    page = admin_client.get(url("postmortem_change", postmortem.pk))
    data = form_data(page, executive_summary="Changed", five_whys=whys)
    response = admin_client.post(url("postmortem_change", postmortem.pk), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert message in " ".join(errors["five_whys"])
    postmortem.refresh_from_db()
    assert postmortem.executive_summary == "" and postmortem.five_whys == []


def test_bad_link_is_a_form_error(admin_client, postmortem):
    page = admin_client.get(url("postmortem_change", postmortem.pk))
    data = form_data(page, supporting_links="Runbook | ftp://files.example.com/x")
    response = admin_client.post(url("postmortem_change", postmortem.pk), data)
    assert response.status_code == 200
    assert "not an http(s) URL" in " ".join(response.context["adminform"].form.errors["supporting_links"])


def test_removing_every_author_is_refused_by_the_service_or_the_form(admin_client, postmortem):
    page = admin_client.get(url("postmortem_change", postmortem.pk))
    data = form_data(page, authors=[])
    response = admin_client.post(url("postmortem_change", postmortem.pk), data)
    assert response.status_code == 200
    assert "authors" in response.context["adminform"].form.errors
    assert postmortem.authors.exists()


# --- Lifecycle -------------------------------------------------------------------------------------


def test_buttons_follow_status_and_permission(client, responder, approver, postmortem, actor):
    client = logged_in(client, responder)
    assert buttons(client.get(url("postmortem_change", postmortem.pk))) == {"submit"}

    # Submitting without the required sections is refused with the reason, nothing changes.
    response = client.post(url("postmortem_transition", postmortem.pk, "submit"), {"seen_status": "draft"})
    assert response.status_code == 302
    assert any("executive summary" in m.lower() for m in flashed(response))
    postmortem.refresh_from_db()
    assert postmortem.status == PostmortemStatus.DRAFT

    ready(postmortem, actor)
    response = client.post(url("postmortem_transition", postmortem.pk, "submit"), {"seen_status": "draft"})
    postmortem.refresh_from_db()
    assert postmortem.status == PostmortemStatus.IN_REVIEW

    page = client.get(url("postmortem_change", postmortem.pk))
    assert buttons(page) == {"return_to_draft"}  # A responder cannot publish.
    assert client.get(url("postmortem_transition", postmortem.pk, "publish")).status_code == 403
    assert client.post(url("postmortem_transition", postmortem.pk, "publish"), {}).status_code == 403

    # Return to draft asks why; the reason goes on the incident's timeline.
    form = client.get(url("postmortem_transition", postmortem.pk, "return_to_draft"))
    assert form.status_code == 200 and "reason" in form.context["form"].fields
    client.post(
        url("postmortem_transition", postmortem.pk, "return_to_draft"),
        {"seen_status": "in_review", "reason": "Five whys stop too early."},
    )
    postmortem.refresh_from_db()
    assert postmortem.status == PostmortemStatus.DRAFT
    assert TimelineEvent.objects.filter(message__contains="Five whys stop too early.").exists()

    client.post(url("postmortem_transition", postmortem.pk, "submit"), {"seen_status": "draft"})
    client.force_login(approver)
    page = client.get(url("postmortem_change", postmortem.pk))
    assert buttons(page) == {"return_to_draft", "publish"}
    confirm = client.get(url("postmortem_transition", postmortem.pk, "publish"))
    assert confirm.status_code == 200 and "responder@example.com" in confirm.content.decode()
    client.post(url("postmortem_transition", postmortem.pk, "publish"), {"seen_status": "in_review"})
    postmortem.refresh_from_db()
    assert postmortem.status == PostmortemStatus.PUBLISHED

    # Published is final: no buttons, no form, no saves.
    page = client.get(url("postmortem_change", postmortem.pk))
    assert buttons(page) == set()
    assert 'name="executive_summary"' not in page.content.decode()
    assert client.post(url("postmortem_change", postmortem.pk), {}).status_code == 403


def test_stale_page_gets_a_conflict(admin_client, postmortem, actor):
    ready(postmortem, actor)
    response = admin_client.post(
        url("postmortem_transition", postmortem.pk, "submit"), {"seen_status": "in_review"}
    )
    assert any("changed while you were looking" in m for m in flashed(response))
    postmortem.refresh_from_db()
    assert postmortem.status == PostmortemStatus.DRAFT


def test_schedule_review_defaults_to_the_suggestion(
    client, responder, postmortem, django_capture_on_commit_callbacks
):
    client = logged_in(client, responder)
    page = client.get(url("postmortem_review", postmortem.pk))
    assert page.status_code == 200
    initial = page.context["form"].initial
    assert initial["attendees"] == [responder]
    at = timezone.localtime(initial["at"])
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            url("postmortem_review", postmortem.pk),
            {"at": at.strftime("%Y-%m-%dT%H:%M"), "attendees": [responder.pk]},
        )
    assert response.status_code == 302
    assert len(callbacks) == 1  # The invitation goes after commit.
    postmortem.refresh_from_db()
    assert postmortem.review_at == at.replace(second=0, microsecond=0)

    past = (timezone.localtime() - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(url("postmortem_review", postmortem.pk), {"at": past, "attendees": [responder.pk]})
    assert response.status_code == 200
    assert "cannot be in the past" in " ".join(response.context["form"].errors["at"])


# --- Timeline --------------------------------------------------------------------------------------


def test_timeline_edits_survive_regeneration(client, responder, postmortem, actor):
    client = logged_in(client, responder)
    generated = list(postmortem.entries.order_by("occurred_at", "id"))
    assert len(generated) >= 2
    first, second = generated[0], generated[1]
    ops = lambda op, **data: client.post(url("postmortem_timeline", postmortem.pk, op), data)  # noqa: E731

    ops("pin", entry=first.pk)
    ops("hide", entry=second.pk)
    ops("reword", entry=first.pk, text="Responder took the incident.")
    when = timezone.localtime(first.occurred_at) + timedelta(minutes=1)
    response = ops(
        "add",
        **{"timeline-occurred_at": when.strftime("%Y-%m-%dT%H:%M"), "timeline-text": "Root cause found"},
    )
    assert response.status_code == 302 and response["Location"].endswith("#timeline")
    bad = ops("add", **{"timeline-occurred_at": "", "timeline-text": "No time"})
    assert any("When" in m for m in flashed(bad))

    incident_note_add(incident=postmortem.incident, by=actor, message="Vendor confirmed the fix.")
    response = ops("regenerate")
    assert any("1 new entry" in m for m in flashed(response))

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.pinned and first.text == "Responder took the incident."
    assert second.hidden
    assert TimelineEntry.objects.filter(
        postmortem=postmortem, source=EntrySource.AUTHOR, event="Root cause found"
    ).exists()
    assert postmortem.entries.filter(event="Vendor confirmed the fix.").exists()

    page = client.get(url("postmortem_change", postmortem.pk)).content.decode()
    assert "Responder took the incident." in page and "Regenerate from the incident" in page

    ops("unpin", entry=first.pk)
    ops("show", entry=second.pk)
    ops("reword", entry=first.pk, text="")
    first.refresh_from_db()
    second.refresh_from_db()
    assert not first.pinned and first.text == "" and not second.hidden
    assert (
        client.get(url("postmortem_timeline", postmortem.pk, "pin")).status_code == 302
    )  # GET changes nothing.


# --- Markdown --------------------------------------------------------------------------------------


def test_markdown_download(client, viewer, postmortem, actor):
    ready(postmortem, actor)
    client = logged_in(client, viewer)
    response = client.get(url("postmortem_markdown", postmortem.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    reference = postmortem.incident.reference
    assert response["Content-Disposition"] == f'attachment; filename="{reference}-postmortem.md"'
    text = response.content.decode()
    assert text.startswith(f"# Post-mortem: {reference}")
    assert "Checkout failed for 40 min." in text
    page = client.get(url("postmortem_change", postmortem.pk)).content.decode()
    assert "Markdown preview" in page and f"# Post-mortem: {reference}" in page


# --- From the incident -----------------------------------------------------------------------------


def test_create_for_incident(client, responder, resolved):
    incident = resolved()
    client = logged_in(client, responder)
    confirm = client.get(url("postmortem_create_for", incident.pk))
    assert confirm.status_code == 200
    assert not Postmortem.objects.exists()  # Following the link changes nothing.
    response = client.post(url("postmortem_create_for", incident.pk))
    postmortem = Postmortem.objects.get(incident=incident)
    assert response["Location"] == url("postmortem_change", postmortem.pk)
    assert postmortem.resolution.startswith("Rolled back the deploy.")
    assert postmortem.entries.exists()
    again = client.get(url("postmortem_create_for", incident.pk))
    assert again["Location"] == url("postmortem_change", postmortem.pk)


def test_viewer_cannot_create(client, viewer, resolved):
    incident = resolved()
    client = logged_in(client, viewer)
    assert client.post(url("postmortem_create_for", incident.pk)).status_code == 403
    assert not Postmortem.objects.exists()


def test_add_page_creates_through_the_service(admin_client, resolved):
    incident = resolved()
    page = admin_client.get(url("postmortem_add"))
    assert page.status_code == 200
    response = admin_client.post(url("postmortem_add"), {"incident": incident.pk})
    postmortem = Postmortem.objects.get(incident=incident)
    assert (
        response["Location"].startswith(url("postmortem_change", postmortem.pk)[:-1])
        or response.status_code == 302
    )
    assert postmortem.entries.exists()


def test_incident_page_panels(client, responder, resolved, actor, service_factory):
    web = service_factory(name="Web")
    earlier = resolved(title="Checkout returns 502 errors", services=[web])
    earlier_pm = postmortem_create(incident=earlier, by=actor)
    postmortem_update(postmortem=earlier_pm, by=actor, data={"root_cause": "Pool too small."})
    incident = resolved(title="Checkout returns 502", services=[web])
    client = logged_in(client, responder)

    page = client.get(reverse("admin:incidents_incident_change", args=[incident.pk]))
    body = page.content.decode()
    assert url("postmortem_create_for", incident.pk) in body and "Create post-mortem" in body
    assert "Related incidents" in body and earlier.reference in body
    assert "same service: Web" in body and "Pool too small." in body

    # The incident form still saves with the panels on it.
    data = form_data(page, title="Checkout returns 502 (EU)")
    response = client.post(reverse("admin:incidents_incident_change", args=[incident.pk]), data)
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.title == "Checkout returns 502 (EU)"

    postmortem = postmortem_create(incident=incident, by=actor)
    body = client.get(reverse("admin:incidents_incident_change", args=[incident.pk])).content.decode()
    assert url("postmortem_change", postmortem.pk) in body and "Create post-mortem" not in body

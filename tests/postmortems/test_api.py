"""Post-mortems REST API: drafting from an incident, sections, the lifecycle and who may drive it,
the Markdown download, the editable timeline, related incidents, and query counts (action items:
test_api_action_items.py)."""

from datetime import timedelta

import pytest
from django.urls import resolve
from django.utils import timezone

from incidents.services import incident_note_add
from postmortems.choices import EntrySource, PostmortemStatus
from postmortems.models import ActionItem, Postmortem, TimelineEntry
from postmortems.services import action_item_create
from tests.actions.api_support import api_url, token_client
from tests.postmortems.api_support import SECTIONS, item_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def approver(user_factory):
    return user_factory(username="approver", groups=["Approver"])


# --- Drafting and sections ----------------------------------------------------------------------


def test_create_from_incident_then_a_second_is_409(responder_client, responder, resolved_incident):
    incident = resolved_incident()

    created = responder_client.post(api_url("postmortems"), {"incident": incident.reference})

    assert created.status_code == 201, created.data
    assert created.data["incident"] == incident.reference
    assert created.data["status"] == PostmortemStatus.DRAFT
    assert created.data["authors"] == [responder.username]
    assert created.data["services_impacted"] == ["checkout"]
    assert created.data["resolution"].startswith("Rolled back")
    assert created.data["duration_seconds"] == int(
        (incident.resolved_at - incident.started_at).total_seconds()
    )
    assert created.data["time_to_detect_seconds"] == 0
    assert created.data["first_alert"] is None
    assert created.data["action_items"] == []
    assert created.data["available_transitions"] == ["submit"]

    again = responder_client.post(api_url("postmortems"), {"incident": incident.pk})
    assert again.status_code == 409
    assert again.data["code"] == "exists"
    missing = responder_client.post(api_url("postmortems"), {"incident": "INC-1999-0001"})
    assert missing.status_code == 400 and missing.data["incident"]
    assert Postmortem.objects.count() == 1


def test_sections_authors_and_services_update(
    responder_client, make_postmortem, user_factory, service_factory
):
    postmortem = make_postmortem()
    writer = user_factory(username="writer")
    service_factory(slug="payments")

    changed = responder_client.patch(
        api_url("postmortems", postmortem),
        {
            **SECTIONS,
            "five_whys": [{"question": "Why did checkout fail?", "answer": "The deploy broke it."}],
            "supporting_links": [{"title": "Dashboard", "url": "https://grafana.example.com/d/1"}],
            "data_loss": True,
            "authors": ["writer", writer.pk],
            "services_impacted": ["payments", "checkout"],
        },
    )

    assert changed.status_code == 200, changed.data
    assert changed.data["executive_summary"] == SECTIONS["executive_summary"]
    assert changed.data["five_whys"] == [
        {"question": "Why did checkout fail?", "answer": "The deploy broke it."}
    ]
    assert changed.data["data_loss"] is True
    assert changed.data["authors"] == ["writer"]
    assert sorted(changed.data["services_impacted"]) == ["checkout", "payments"]


def test_bad_input_is_a_field_error_and_saves_nothing(responder_client, make_postmortem):
    postmortem = make_postmortem(ready=True)
    url = api_url("postmortems", postmortem)

    bad_whys = responder_client.patch(
        url, {"executive_summary": "Rewritten", "five_whys": [{"answer": "no question"}]}, format="json"
    )
    bad_links = responder_client.patch(url, {"supporting_links": [{"url": "ftp://x"}]}, format="json")
    read_only = responder_client.patch(url, {"status": "published"})
    no_author = responder_client.patch(url, {"authors": []})
    unknown_user = responder_client.patch(url, {"authors": ["nobody"]})

    assert bad_whys.status_code == 400
    assert bad_whys.data["code"] == "invalid"
    assert bad_whys.data["five_whys"] == ["Why 1: needs a question (text) and an answer (text)."]
    assert bad_links.status_code == 400 and bad_links.data["supporting_links"]
    assert read_only.status_code == 400 and read_only.data["status"]
    assert no_author.status_code == 400 and no_author.data["authors"]
    assert unknown_user.status_code == 400 and unknown_user.data["authors"]
    postmortem.refresh_from_db()
    assert postmortem.executive_summary == SECTIONS["executive_summary"]
    assert postmortem.five_whys == [] and postmortem.status == PostmortemStatus.DRAFT


# --- Lifecycle ----------------------------------------------------------------------------------


def test_lifecycle_and_who_may_publish(responder_client, approver, make_postmortem):
    postmortem = make_postmortem(ready=True)
    approver_client = token_client(approver)

    early = approver_client.post(api_url("postmortems", postmortem, "publish"))
    assert early.status_code == 409
    assert early.data["code"] == "transition_not_allowed"

    submitted = responder_client.post(api_url("postmortems", postmortem, "submit"))
    assert submitted.status_code == 200, submitted.data
    assert submitted.data["status"] == PostmortemStatus.IN_REVIEW
    assert submitted.data["submitted_at"]
    assert responder_client.post(api_url("postmortems", postmortem, "publish")).status_code == 403

    back = responder_client.post(
        api_url("postmortems", postmortem, "return-to-draft"), {"reason": "More whys"}
    )
    assert back.status_code == 200 and back.data["status"] == PostmortemStatus.DRAFT
    responder_client.post(api_url("postmortems", postmortem, "submit"))

    published = approver_client.post(api_url("postmortems", postmortem, "publish"))
    assert published.status_code == 200, published.data
    assert published.data["status"] == PostmortemStatus.PUBLISHED
    assert published.data["available_transitions"] == []
    frozen = responder_client.patch(api_url("postmortems", postmortem), {"root_cause": "Changed"})
    assert frozen.status_code == 409
    assert Postmortem.objects.get(pk=postmortem.pk).root_cause == SECTIONS["root_cause"]


def test_submit_needs_summary_and_root_cause(responder_client, make_postmortem):
    postmortem = make_postmortem()

    refused = responder_client.post(api_url("postmortems", postmortem, "submit"))

    assert refused.status_code == 400
    assert set(refused.data) >= {"executive_summary", "root_cause"}
    assert Postmortem.objects.get(pk=postmortem.pk).status == PostmortemStatus.DRAFT


def test_schedule_review(responder_client, make_postmortem, user_factory, django_capture_on_commit_callbacks):
    postmortem = make_postmortem()
    attendee = user_factory(username="reviewer")
    at = timezone.now() + timedelta(days=1)

    with django_capture_on_commit_callbacks():
        scheduled = responder_client.post(
            api_url("postmortems", postmortem, "schedule-review"),
            {"at": at.isoformat(), "attendees": ["reviewer", attendee.pk]},
        )
    nobody = responder_client.post(api_url("postmortems", postmortem, "schedule-review"), {"attendees": []})

    assert scheduled.status_code == 200, scheduled.data
    assert scheduled.data["review_attendees"] == ["reviewer"]
    assert scheduled.data["review_at"]
    assert nobody.status_code == 400 and nobody.data["attendees"]


# --- Markdown -----------------------------------------------------------------------------------


def test_markdown_download(client_as, make_postmortem):
    postmortem = make_postmortem(ready=True)
    reference = postmortem.incident.reference
    client = client_as("Viewer")

    response = client.get(api_url("postmortems", postmortem, "markdown"))
    asked = client.get(api_url("postmortems", postmortem, "markdown"), HTTP_ACCEPT="text/markdown")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{reference}-postmortem.md"'
    text = response.content.decode()
    for heading in ("## Executive Summary", "## Timeline", "## Root Cause Analysis", "## Action Items"):
        assert heading in text
    assert SECTIONS["executive_summary"] in text and SECTIONS["root_cause"] in text
    assert asked.status_code == 200 and asked.content == response.content
    assert client_as("anonymous").get(api_url("postmortems", postmortem, "markdown")).status_code == 401


# --- Timeline -----------------------------------------------------------------------------------


def test_timeline_edits_survive_regeneration(responder_client, make_postmortem, actor):
    postmortem = make_postmortem()
    url = api_url("postmortems", postmortem, "timeline")
    entries = responder_client.get(url).data
    assert len(entries) >= 3 and all(e["source"] != EntrySource.AUTHOR for e in entries)
    pinned, hidden, reworded = entries[0]["id"], entries[1]["id"], entries[2]["id"]

    def entry_url(entry_id):
        return f"{url}entries/{entry_id}/"

    assert responder_client.patch(entry_url(pinned), {"pinned": True}).status_code == 200
    assert responder_client.patch(entry_url(hidden), {"hidden": True}).status_code == 200
    assert responder_client.patch(entry_url(reworded), {"text": "Rollback decided"}).data["shown"] == (
        "Rollback decided"
    )
    moved = responder_client.patch(entry_url(pinned), {"occurred_at": timezone.now().isoformat()})
    assert moved.status_code == 400 and moved.data["occurred_at"]
    added = responder_client.post(
        f"{url}entries/", {"occurred_at": timezone.now().isoformat(), "text": "Root cause identified"}
    )
    assert added.status_code == 201 and added.data["source"] == EntrySource.AUTHOR
    incident_note_add(incident=postmortem.incident, by=actor, message="Customer emails answered.")

    regenerated = responder_client.post(url)

    assert regenerated.status_code == 200, regenerated.data
    assert regenerated.data["added"] == 1
    assert regenerated.data["total"] == len(entries) + 1  # One hidden, one author entry, one new.
    by_id = {e["id"]: e for e in responder_client.get(url, {"include_hidden": "true"}).data}
    assert by_id[pinned]["pinned"] is True
    assert by_id[hidden]["hidden"] is True
    assert by_id[reworded]["text"] == "Rollback decided"
    assert by_id[added.data["id"]]["event"] == "Root cause identified"
    assert hidden not in {e["id"] for e in responder_client.get(url).data}
    assert any(e["event"] == "Customer emails answered." for e in by_id.values())

    generated = responder_client.delete(entry_url(hidden))
    assert generated.status_code == 400
    assert responder_client.delete(entry_url(added.data["id"])).status_code == 204
    assert not TimelineEntry.objects.filter(pk=added.data["id"]).exists()
    assert responder_client.patch(entry_url(999999), {"pinned": True}).status_code == 404


def test_timeline_entry_of_another_postmortem_is_404(responder_client, make_postmortem):
    mine, other = make_postmortem(), make_postmortem(title="Login slow")
    foreign = other.entries.first()

    response = responder_client.patch(
        api_url("postmortems", mine, f"timeline/entries/{foreign.pk}"), {"pinned": True}
    )

    assert response.status_code == 404
    assert TimelineEntry.objects.get(pk=foreign.pk).pinned is False


def test_postmortem_filters(responder_client, make_postmortem, service_factory):
    first = make_postmortem()
    auth = service_factory(slug="auth")
    second = make_postmortem(ready=True, title="Login slow", services=[auth])
    responder_client.post(api_url("postmortems", second, "submit"))

    def ids(**params) -> list[int]:
        response = responder_client.get(api_url("postmortems"), params)
        assert response.status_code == 200, response.data
        return [row["id"] for row in response.data["results"]]

    assert ids() == [second.pk, first.pk]
    assert ids(status="in_review") == [second.pk]
    assert ids(service="auth") == [second.pk]
    assert ids(service=str(auth.pk)) == [second.pk]
    assert ids(incident=first.incident.reference) == [first.pk]
    assert ids(incident=str(first.incident.pk)) == [first.pk]


# --- Related incidents --------------------------------------------------------------------------


def test_related_incidents(client_as, make_postmortem, resolved_incident, actor):
    earlier = make_postmortem(ready=True, title="Checkout returns 502 after deploy")
    current = resolved_incident(title="Checkout returns 502 again")
    unrelated = resolved_incident(title="Disk full on backup host", services=[])
    client = client_as("Viewer")

    response = client.get(api_url("incidents", current, "related"))

    assert response.status_code == 200, response.data
    rows = {row["reference"]: row for row in response.data}
    assert earlier.incident.reference in rows
    assert unrelated.reference not in rows
    row = rows[earlier.incident.reference]
    assert row["postmortem"] == earlier.pk
    assert row["root_cause"] == SECTIONS["root_cause"]
    assert row["priority"] == "P2" and row["status"] == "resolved" and row["detected_at"]
    assert any(reason.startswith("same service") for reason in row["reasons"])
    assert client.get(api_url("incidents", current, "related"), {"limit": "0"}).status_code == 400
    assert client.get(api_url("incidents", 999999, "related")).status_code == 404
    assert client_as("anonymous").get(api_url("incidents", current, "related")).status_code == 401


def test_related_route_is_not_shadowed_by_the_incidents_router():
    assert resolve("/api/v1/incidents/1/related/").url_name == "incident-related"
    assert resolve("/api/v1/incidents/1/").url_name == "incident-detail"


# --- Query counts -------------------------------------------------------------------------------

# Token, user and group permissions, count, page, authors.
POSTMORTEM_LIST_QUERIES = 6


@pytest.mark.parametrize("size", [1, 10])
def test_postmortem_list_runs_a_constant_number_of_queries(
    viewer, make_postmortem, size, django_assert_num_queries
):
    for i in range(size):
        make_postmortem(title=f"Incident {i}")
    client = token_client(viewer)

    with django_assert_num_queries(POSTMORTEM_LIST_QUERIES):
        listed = client.get(api_url("postmortems"))

    assert len(listed.data["results"]) == size


# --- Who may do what ----------------------------------------------------------------------------


@pytest.mark.parametrize("group", ["anonymous", "Viewer", "Responder"])
def test_read_access(client_as, make_postmortem, actor, group):
    postmortem = make_postmortem()
    item = action_item_create(postmortem=postmortem, by=actor, data=item_data(actor.user))
    client = client_as(group)
    expected = 401 if group == "anonymous" else 200

    for url in (
        api_url("postmortems"),
        api_url("postmortems", postmortem),
        api_url("postmortems", postmortem, "timeline"),
        api_url("action-items"),
        api_url("action-items", item),
    ):
        assert client.get(url).status_code == expected, url


def test_viewer_is_read_only(client_as, make_postmortem, resolved_incident, actor):
    postmortem = make_postmortem(ready=True)
    item = action_item_create(postmortem=postmortem, by=actor, data=item_data(actor.user))
    entry = postmortem.entries.first()
    viewer = client_as("Viewer")
    anonymous = client_as("anonymous")
    incident = resolved_incident(title="Another one")
    before = (Postmortem.objects.count(), ActionItem.objects.count(), TimelineEntry.objects.count())

    writes = [
        ("post", api_url("postmortems"), {"incident": incident.pk}),
        ("patch", api_url("postmortems", postmortem), {"root_cause": "x"}),
        ("post", api_url("postmortems", postmortem, "submit"), {}),
        ("post", api_url("postmortems", postmortem, "schedule-review"), {"attendees": ["viewer-member"]}),
        ("post", api_url("postmortems", postmortem, "timeline"), {}),
        ("post", api_url("postmortems", postmortem, "timeline/entries"), {"text": "x"}),
        ("patch", api_url("postmortems", postmortem, f"timeline/entries/{entry.pk}"), {"pinned": True}),
        ("delete", api_url("postmortems", postmortem, f"timeline/entries/{entry.pk}"), {}),
        ("post", api_url("action-items"), {"postmortem": postmortem.pk}),
        ("patch", api_url("action-items", item), {"description": "x"}),
        ("post", api_url("action-items", item, "complete"), {}),
    ]
    for method, url, body in writes:
        assert getattr(viewer, method)(url, body).status_code == 403, (method, url)
        assert getattr(anonymous, method)(url, body).status_code == 401, (method, url)
    assert (Postmortem.objects.count(), ActionItem.objects.count(), TimelineEntry.objects.count()) == before
    assert Postmortem.objects.get(pk=postmortem.pk).status == PostmortemStatus.DRAFT


def test_schema_documents_the_postmortems_api(admin_user):
    schema = token_client(admin_user).get("/api/schema/", {"format": "json"}).json()

    paths = schema["paths"]
    for path in (
        "/api/v1/postmortems/",
        "/api/v1/postmortems/{id}/submit/",
        "/api/v1/postmortems/{id}/publish/",
        "/api/v1/postmortems/{id}/return-to-draft/",
        "/api/v1/postmortems/{id}/schedule-review/",
        "/api/v1/postmortems/{id}/timeline/",
        "/api/v1/postmortems/{id}/timeline/entries/",
        "/api/v1/postmortems/{id}/timeline/entries/{entry_id}/",
        "/api/v1/action-items/",
        "/api/v1/action-items/{id}/drop/",
        "/api/v1/incidents/{id}/related/",
    ):
        assert path in paths, path
    markdown = paths["/api/v1/postmortems/{id}/markdown/"]["get"]["responses"]["200"]["content"]
    assert "text/markdown" in markdown

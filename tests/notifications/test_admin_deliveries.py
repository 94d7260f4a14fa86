"""The delivery ledger in the admin (list, detail, Retry), the incident page's Notifications panel,
and message templates with their preview (issue 12)."""

import pytest
from django.urls import reverse

from notifications.models import Delivery, MessageTemplate
from tests.notifications.conftest import WEBHOOK_SECRET
from tests.notifications.support import SYSTEM, dead_delivery, incident_deliveries, webhook_channel

pytestmark = pytest.mark.django_db

DELIVERIES = reverse("admin:notifications_delivery_changelist")


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


def retry(client, *deliveries: Delivery, follow: bool = True):
    return client.post(
        DELIVERIES,
        {"action": "retry", "_selected_action": [d.pk for d in deliveries]},
        follow=follow,
    )


# --- Deliveries -------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [2, 6])
def test_the_delivery_list_runs_the_same_queries_however_long(
    staff, webhook_receiver, open_incident, rows, django_assert_num_queries
):
    channel = webhook_channel(webhook_receiver)
    for _ in range(rows // 2):
        incident_deliveries(open_incident(), channel)
        dead_delivery(webhook_receiver, channel)

    # The same for 2 rows and for 6: channel, user and incident are joined to the rows.
    with django_assert_num_queries(7):
        response = staff.get(DELIVERIES)

    assert response.status_code == 200
    assert WEBHOOK_SECRET not in response.content.decode()


def test_the_delivery_list_filters_and_searches(staff, webhook_receiver, open_incident):
    channel = webhook_channel(webhook_receiver)
    dead = dead_delivery(webhook_receiver, channel)
    [routed] = incident_deliveries(open_incident(title="Checkout down"), channel)

    dead_only = staff.get(DELIVERIES, {"status__exact": "dead"})
    by_kind = staff.get(DELIVERIES, {"event_kind__exact": "incident_opened"})
    by_channel = staff.get(DELIVERIES, {"channel__id__exact": channel.pk})
    searched = staff.get(DELIVERIES, {"q": "HTTP 400"})

    assert [d.pk for d in dead_only.context["cl"].result_list] == [dead.pk]
    assert [d.pk for d in by_kind.context["cl"].result_list] == [routed.pk]
    assert {d.pk for d in by_channel.context["cl"].result_list} == {dead.pk, routed.pk}
    assert [d.pk for d in searched.context["cl"].result_list] == [dead.pk]


def test_a_delivery_page_is_read_only_with_payload_error_and_attempts(staff, webhook_receiver):
    channel = webhook_channel(webhook_receiver)
    delivery = dead_delivery(webhook_receiver, channel)

    response = staff.get(reverse("admin:notifications_delivery_change", args=[delivery.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert response.context["adminform"].form.fields == {}  # Nothing to edit.
    assert "Webhook refused the message: HTTP 400 Bad Request." in page
    assert "delivery-payload" in page
    assert "Attempts" in page
    assert WEBHOOK_SECRET not in page
    assert 'name="_save"' not in page


def test_retry_sends_a_dead_delivery_again(staff, webhook_receiver, django_capture_on_commit_callbacks):
    channel = webhook_channel(webhook_receiver)
    delivery = dead_delivery(webhook_receiver, channel)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = retry(staff, delivery)

    assert "Retrying 1 delivery." in response.content.decode()
    delivery = Delivery.objects.get(pk=delivery.pk)
    assert delivery.status == "pending" and delivery.attempts == 0
    assert delivery.error.startswith("Retried by admin.")
    assert len(callbacks) == 1  # Its send, enqueued after commit.


def test_retrying_a_delivery_in_the_wrong_state_is_a_message_not_a_crash(staff, webhook_receiver):
    channel = webhook_channel(webhook_receiver)
    from notifications.services.channels import channel_test_send

    sent = channel_test_send(channel=channel, by=SYSTEM)

    response = retry(staff, sent)

    assert response.status_code == 200
    assert "not retried: Only failed or dead deliveries can be retried; this one is sent." in (
        response.content.decode()
    )
    assert Delivery.objects.get(pk=sent.pk).status == "sent"


def test_someone_without_the_permission_has_no_retry_action(client, viewer, webhook_receiver):
    from django.contrib.auth.models import Permission

    channel = webhook_channel(webhook_receiver)
    delivery = dead_delivery(webhook_receiver, channel)
    viewer.is_staff = True
    viewer.save()
    viewer.user_permissions.add(Permission.objects.get(codename="view_delivery"))
    client.force_login(viewer)

    page = client.get(DELIVERIES)
    retry(client, delivery)

    assert page.status_code == 200
    assert 'value="retry"' not in page.content.decode()
    assert Delivery.objects.get(pk=delivery.pk).status == "dead"


# --- The incident page ------------------------------------------------------------------------


def test_the_incident_page_says_who_was_told_what_and_when(staff, webhook_receiver, open_incident):
    incident = open_incident(title="Checkout down")
    channel = webhook_channel(webhook_receiver, name="Payments hook")
    [delivery] = incident_deliveries(incident, channel)
    other = incident_deliveries(open_incident(title="Other"), channel)

    response = staff.get(reverse("admin:incidents_incident_change", args=[incident.pk]))

    page = response.content.decode()
    assert "Notifications" in page
    assert "channel Payments hook" in page
    assert reverse("admin:notifications_delivery_change", args=[delivery.pk]) in page
    assert reverse("admin:notifications_delivery_change", args=[other[0].pk]) not in page
    assert "Incident opened" in page


# --- Templates --------------------------------------------------------------------------------

PREVIEW = reverse("admin:notifications_messagetemplate_preview")


def test_a_template_edit_is_saved_through_template_save(staff):
    template = MessageTemplate.objects.get(event_kind="resolved", audience="internal")

    response = staff.post(
        reverse("admin:notifications_messagetemplate_change", args=[template.pk]),
        {
            "event_kind": "resolved",
            "audience": "internal",
            "subject": "Fixed: {{ incident.reference }}",
            "body": "All good.",
        },
    )

    assert response.status_code == 302
    template.refresh_from_db()
    assert template.subject == "Fixed: {{ incident.reference }}"


def test_bad_template_syntax_is_a_form_error_and_saves_nothing(staff):
    template = MessageTemplate.objects.get(event_kind="resolved", audience="internal")
    before = template.body

    response = staff.post(
        reverse("admin:notifications_messagetemplate_change", args=[template.pk]),
        {"event_kind": "resolved", "audience": "internal", "subject": "ok", "body": "{% if %}broken"},
    )

    assert response.status_code == 200
    assert "Template error" in response.context["adminform"].form.errors["body"][0]
    template.refresh_from_db()
    assert template.body == before


def test_the_preview_renders_an_edit_against_a_real_incident(staff, open_incident):
    incident = open_incident(title="Checkout returns 502")
    template = MessageTemplate.objects.get(event_kind="incident_opened", audience="internal")
    page = staff.get(reverse("admin:notifications_messagetemplate_change", args=[template.pk]))
    assert f'formaction="{PREVIEW}"' in page.content.decode()

    response = staff.post(
        PREVIEW,
        {
            "event_kind": "incident_opened",
            "audience": "internal",
            "subject": "EDITED {{ incident.reference }}",
            "body": "Now: {{ incident.title }}",
            "incident": incident.pk,
        },
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert f"EDITED {incident.reference}" in page
    assert "Now: Checkout returns 502" in page
    template.refresh_from_db()
    assert "EDITED" not in template.subject  # A preview saves nothing.


def test_a_preview_of_bad_syntax_is_a_form_error_not_a_500(staff):
    response = staff.post(
        PREVIEW,
        {"event_kind": "incident_opened", "subject": "{% if %}", "body": "{% for %}"},
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert "Template error" in form.errors["subject"][0]
    assert "Template error" in form.errors["body"][0]


def test_a_preview_that_fails_while_rendering_is_a_form_error(staff, open_incident):
    incident = open_incident()

    response = staff.post(
        PREVIEW,
        {
            "event_kind": "incident_opened",
            "subject": "x",
            "body": "{{ incident.title|date:'%' }}{% include 'missing.txt' %}",
            "incident": incident.pk,
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors


def test_templates_are_not_deleted(staff):
    template = MessageTemplate.objects.first()

    response = staff.get(reverse("admin:notifications_messagetemplate_delete", args=[template.pk]))

    assert response.status_code == 403


def test_a_dead_delivery_page_has_a_retry_button(staff, webhook_receiver, django_capture_on_commit_callbacks):
    delivery = dead_delivery(webhook_receiver, webhook_channel(webhook_receiver))
    retry_url = reverse("admin:notifications_delivery_retry", args=[delivery.pk])
    assert (
        f'action="{retry_url}"'
        in staff.get(reverse("admin:notifications_delivery_change", args=[delivery.pk])).content.decode()
    )

    with django_capture_on_commit_callbacks(execute=False):
        first = staff.post(retry_url, follow=True)
    second = staff.post(retry_url, follow=True)

    assert f"Retrying delivery #{delivery.pk} now." in first.content.decode()
    assert "Not retried: Only failed or dead deliveries can be retried; this one is pending." in (
        second.content.decode()
    )
    assert Delivery.objects.get(pk=delivery.pk).status == "pending"
    assert 'data-tool="retry"' not in second.content.decode()
    assert staff.get(retry_url).status_code == 405


def test_a_sent_delivery_page_has_no_retry_button(staff, webhook_receiver):
    from notifications.services.channels import channel_test_send

    sent = channel_test_send(channel=webhook_channel(webhook_receiver), by=SYSTEM)

    page = staff.get(reverse("admin:notifications_delivery_change", args=[sent.pk])).content.decode()

    assert 'data-tool="retry"' not in page

"""The notifications admin: channels with write-only secrets and a real test send, rules through
rule_save, contact methods through contact_method_save (issue 12)."""

import pytest
from django.urls import reverse

from notifications.choices import ChannelKind, EventKind
from notifications.models import Channel, ContactMethod, Delivery, NotificationRule
from notifications.services.configuration import contact_method_save
from tests.notifications.conftest import WEBHOOK_SECRET
from tests.notifications.support import SYSTEM, dead_delivery, webhook_channel

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:notifications_channel_changelist")
ADD = reverse("admin:notifications_channel_add")


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


def change_url(channel: Channel) -> str:
    return reverse("admin:notifications_channel_change", args=[channel.pk])


def channel_form(**changes) -> dict:
    data = {
        "name": "Ops webhook",
        "kind": ChannelKind.WEBHOOK,
        "enabled": "on",
        "config": '{"url": "https://hooks.example.com/mitigate"}',
        "new_secret": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


# --- Channels ---------------------------------------------------------------------------------


def test_the_channel_list_runs_a_constant_number_of_queries(
    staff, webhook_receiver, django_assert_num_queries
):
    for index in range(5):
        webhook_channel(webhook_receiver, name=f"Hook {index}")

    with django_assert_num_queries(5):  # Session, user, count, rows, and the kind filter's page.
        response = staff.get(CHANGELIST)

    assert response.status_code == 200
    assert WEBHOOK_SECRET not in response.content.decode()


def test_adding_a_channel_stores_the_secret_and_never_shows_it(staff):
    response = staff.post(ADD, channel_form(new_secret="whsec-typed-in-the-admin"))

    assert response.status_code == 302, response.context["adminform"].form.errors
    channel = Channel.objects.get(name="Ops webhook")
    assert channel.secret == "whsec-typed-in-the-admin"
    page = staff.get(change_url(channel)).content.decode()
    assert "whsec-typed-in-the-admin" not in page
    assert "set" in page and "Set (stored encrypted)" in page


def test_an_empty_secret_keeps_the_stored_one(staff, webhook_receiver):
    channel = webhook_channel(webhook_receiver)

    response = staff.post(
        change_url(channel), channel_form(name="Renamed", config=f'{{"url": "{webhook_receiver.url}/x"}}')
    )

    assert response.status_code == 302
    channel.refresh_from_db()
    assert (channel.name, channel.secret) == ("Renamed", WEBHOOK_SECRET)


def test_a_missing_secret_and_kind_settings_are_form_errors(staff):
    response = staff.post(ADD, channel_form(kind=ChannelKind.SLACK_BOT, config="{}"))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "needs its secret" in errors["new_secret"][0]
    assert "Missing setting(s): channel" in errors["config"][0]
    assert not Channel.objects.filter(name="Ops webhook").exists()


def test_a_webhook_url_that_is_not_http_is_a_form_error(staff):
    response = staff.post(ADD, channel_form(config='{"url": "file:///etc/passwd"}', new_secret="k"))

    assert response.status_code == 200
    assert '"url" must be an http(s) URL.' in response.context["adminform"].form.errors["config"]
    assert not Channel.objects.filter(name="Ops webhook").exists()


def test_config_that_is_not_an_object_is_a_form_error(staff):
    response = staff.post(ADD, channel_form(config="[1, 2]", new_secret="k"))

    assert response.status_code == 200
    assert "Settings must be a JSON object." in response.context["adminform"].form.errors["config"]


def test_send_test_message_reaches_the_receiver_and_shows_the_result(staff, webhook_receiver):
    channel = webhook_channel(webhook_receiver)
    page = staff.get(change_url(channel)).content.decode()
    send_url = reverse("admin:notifications_channel_send_test", args=[channel.pk])
    assert f'action="{send_url}"' in page

    response = staff.post(send_url, follow=True)

    [request] = webhook_receiver.verified
    assert request.json["event"] == EventKind.TEST
    delivery = Delivery.objects.get()
    assert delivery.status == "sent"
    page = response.content.decode()
    assert f"Test message sent to {channel.name}" in page
    assert f"delivery #{delivery.pk}" in page
    assert WEBHOOK_SECRET not in page


def test_a_refused_test_message_shows_the_provider_error(staff, webhook_receiver):
    channel = webhook_channel(webhook_receiver)
    webhook_receiver.fail(400, body={"error": "no such hook"})

    response = staff.post(reverse("admin:notifications_channel_send_test", args=[channel.pk]), follow=True)

    page = response.content.decode()
    assert "was not sent (dead (not retried)" in page
    assert Delivery.objects.get().status == "dead"


def test_send_test_is_a_post_only(staff, webhook_receiver):
    channel = webhook_channel(webhook_receiver)

    response = staff.get(reverse("admin:notifications_channel_send_test", args=[channel.pk]))

    assert response.status_code == 405
    assert webhook_receiver.requests == []


def test_a_disabled_channel_sends_no_test_and_can_be_enabled_again(staff, webhook_receiver):
    channel = webhook_channel(webhook_receiver)
    Channel.objects.filter(pk=channel.pk).update(
        enabled=False, disabled_reason="3 permanent failures", permanent_failures=3
    )
    page = staff.get(change_url(channel)).content.decode()
    enable_url = reverse("admin:notifications_channel_enable", args=[channel.pk])
    assert f'action="{enable_url}"' in page

    refused = staff.post(reverse("admin:notifications_channel_send_test", args=[channel.pk]), follow=True)
    assert "The channel is disabled" in refused.content.decode()
    assert webhook_receiver.requests == []

    staff.post(enable_url)

    channel.refresh_from_db()
    assert (channel.enabled, channel.permanent_failures, channel.disabled_reason) == (True, 0, "")
    assert channel.secret == WEBHOOK_SECRET


def test_deleting_a_channel_goes_through_the_service(staff, webhook_receiver):
    channel = webhook_channel(webhook_receiver)

    response = staff.post(reverse("admin:notifications_channel_delete", args=[channel.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not Channel.objects.filter(name="Ops webhook").exists()


def test_someone_without_the_permission_cannot_send_a_test(client, viewer, webhook_receiver):
    channel = webhook_channel(webhook_receiver)
    viewer.is_staff = True
    viewer.save()
    client.force_login(viewer)

    response = client.post(reverse("admin:notifications_channel_send_test", args=[channel.pk]))

    assert response.status_code == 403
    assert webhook_receiver.requests == []


# --- Rules ------------------------------------------------------------------------------------


def rule_form(**changes) -> dict:
    data = {
        "name": "P1 to ops",
        "position": "10",
        "enabled": "on",
        "event_kinds": [EventKind.INCIDENT_OPENED, EventKind.RESOLVED],
        "teams": "payments, platform",
        "roles": ["commander"],
        "bundle_seconds": "0",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_a_rule_is_saved_with_its_relations(staff, webhook_receiver, priorities):
    channel = webhook_channel(webhook_receiver)

    response = staff.post(
        reverse("admin:notifications_notificationrule_add"),
        rule_form(channels=[channel.pk], priorities=[priorities["P1"].pk], stop="on"),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    rule = NotificationRule.objects.get(name="P1 to ops")
    assert rule.event_kinds == ["incident_opened", "resolved"]
    assert rule.teams == ["payments", "platform"]
    assert rule.stop and list(rule.channels.all()) == [channel]
    assert list(rule.priorities.all()) == [priorities["P1"]]


def test_a_rule_without_event_kinds_is_a_form_error_and_writes_nothing(staff):
    response = staff.post(reverse("admin:notifications_notificationrule_add"), rule_form(event_kinds=[]))

    assert response.status_code == 200
    assert "Choose at least one event kind." in response.context["adminform"].form.errors["event_kinds"]
    assert not NotificationRule.objects.filter(name="P1 to ops").exists()


def test_an_incident_channel_needs_incident_opened(staff):
    response = staff.post(
        reverse("admin:notifications_notificationrule_add"),
        rule_form(event_kinds=[EventKind.RESOLVED], create_incident_channel="on"),
    )

    assert response.status_code == 200
    assert "create_incident_channel" in response.context["adminform"].form.errors


def test_the_rule_list_runs_a_constant_number_of_queries(staff, webhook_receiver, django_assert_num_queries):
    channel = webhook_channel(webhook_receiver)
    from notifications.services.configuration import rule_save

    for index in range(4):
        rule_save(by=SYSTEM, name=f"R{index}", event_kinds=["resolved"], channels=[channel])

    # Session, user, two counts, rows, and one prefetch per relation (5).
    with django_assert_num_queries(10):
        response = staff.get(reverse("admin:notifications_notificationrule_changelist"))

    assert response.status_code == 200


def test_deleting_a_rule_goes_through_rule_delete(staff):
    from notifications.services.configuration import rule_save

    rule = rule_save(by=SYSTEM, name="Old", event_kinds=["resolved"])

    response = staff.post(
        reverse("admin:notifications_notificationrule_delete", args=[rule.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not NotificationRule.objects.filter(pk=rule.pk).exists()


# --- Contact methods --------------------------------------------------------------------------


def test_a_contact_method_is_checked_by_the_service(staff, responder):
    url = reverse("admin:notifications_contactmethod_add")

    bad = staff.post(url, {"user": responder.pk, "kind": "sms", "address": "0151 123", "enabled": "on"})
    good = staff.post(
        url, {"user": responder.pk, "kind": "sms", "address": "+4915112345678", "enabled": "on"}
    )

    assert "E.164" in bad.context["adminform"].form.errors["address"][0]
    assert good.status_code == 302
    assert ContactMethod.objects.get().address == "+4915112345678"


def test_editing_a_contact_method_keeps_its_person(staff, responder):
    method = contact_method_save(by=SYSTEM, user=responder, kind="email", address="r@example.com")

    response = staff.post(
        reverse("admin:notifications_contactmethod_change", args=[method.pk]),
        {"kind": "email", "address": "new@example.com"},
    )

    assert response.status_code == 302
    method.refresh_from_db()
    assert (method.user, method.address, method.enabled) == (responder, "new@example.com", False)


def test_a_responder_manages_only_their_own_contact_methods(client, responder, viewer):
    theirs = contact_method_save(by=SYSTEM, user=viewer, kind="sms", address="+4915100000001")
    client.force_login(responder)

    added = client.post(
        reverse("admin:notifications_contactmethod_add"),
        {"kind": "sms", "address": "+4915100000002", "enabled": "on"},
    )
    listed = client.get(reverse("admin:notifications_contactmethod_changelist")).content.decode()
    other = client.get(reverse("admin:notifications_contactmethod_change", args=[theirs.pk]))
    refused = client.post(
        reverse("admin:notifications_contactmethod_change", args=[theirs.pk]),
        {"kind": "sms", "address": "+4915100000003", "enabled": "on"},
    )

    assert added.status_code == 302
    mine = ContactMethod.objects.get(user=responder)
    assert mine.address == "+4915100000002"
    assert "+4915100000002" in listed
    assert "+4915100000001" not in listed
    assert other.status_code == 302  # Django's "does not exist" redirect: the row is not theirs to see.
    assert refused.status_code == 302
    assert ContactMethod.objects.get(pk=theirs.pk).address == "+4915100000001"


def test_viewers_and_responders_see_the_deliveries_responders_retry_admins_see_all_contacts(
    responder, viewer, user_factory
):
    admin = user_factory(username="boss", groups=["Admin"])

    assert viewer.has_perm("notifications.view_delivery")
    assert not viewer.has_perm("notifications.change_delivery")
    assert responder.has_perm("notifications.change_delivery")
    assert not responder.has_perm("notifications.change_channel")
    assert not responder.has_perm("notifications.view_contactmethod")
    assert admin.has_perm("notifications.view_contactmethod")
    assert admin.has_perm("notifications.change_channel")


def test_a_dead_delivery_from_the_test_page_is_listed(staff, webhook_receiver):
    channel = webhook_channel(webhook_receiver)
    delivery = dead_delivery(webhook_receiver, channel)

    page = staff.get(reverse("admin:notifications_delivery_changelist")).content.decode()

    assert reverse("admin:notifications_delivery_change", args=[delivery.pk]) in page


def test_every_notifications_page_renders(staff, webhook_receiver, responder, open_incident):
    from notifications.models import MessageTemplate
    from notifications.services.configuration import rule_save

    channel = webhook_channel(webhook_receiver)
    rule = rule_save(by=SYSTEM, name="R", event_kinds=["resolved"], channels=[channel])
    method = contact_method_save(by=SYSTEM, user=responder, kind="email", address="r@example.com")
    delivery = dead_delivery(webhook_receiver, channel)
    template = MessageTemplate.objects.first()
    urls = [
        reverse("admin:app_list", args=["notifications"]),
        ADD,
        change_url(channel),
        reverse("admin:notifications_notificationrule_add"),
        reverse("admin:notifications_notificationrule_change", args=[rule.pk]),
        reverse("admin:notifications_messagetemplate_changelist"),
        reverse("admin:notifications_messagetemplate_add"),
        reverse("admin:notifications_messagetemplate_change", args=[template.pk]),
        reverse("admin:notifications_contactmethod_changelist"),
        reverse("admin:notifications_contactmethod_add"),
        reverse("admin:notifications_contactmethod_change", args=[method.pk]),
        reverse("admin:notifications_delivery_change", args=[delivery.pk]),
    ]

    for url in urls:
        response = staff.get(url)
        assert response.status_code == 200, url
        assert WEBHOOK_SECRET not in response.content.decode(), url


def test_a_contact_method_carries_its_page_delay(staff, responder):
    url = reverse("admin:notifications_contactmethod_add")
    fields = {"user": responder.pk, "kind": "email", "address": "r@example.com", "enabled": "on"}

    bad = staff.post(url, {**fields, "page_delay_minutes": "-1"})
    good = staff.post(url, {**fields, "page_delay_minutes": "2"})

    assert "page_delay_minutes" in bad.context["adminform"].form.errors
    assert good.status_code == 302
    assert ContactMethod.objects.get().page_delay_minutes == 2

"""Issue 12: how rules choose recipients: priority, service and team filters, order and "stop
here", roles, users and groups, contact kinds, customer channels, drills, and the default rule.
The real router and sender deliver to local receivers (see test_routing.py for each event kind)."""

import pytest
from django.core import mail

from incidents.choices import Role
from incidents.services import (
    incident_acknowledge,
    incident_role_assign,
    status_update_create,
)
from notifications.choices import ChannelKind, ContactKind, EventKind, RecipientRole
from notifications.models import Channel, Delivery
from notifications.services.channels import channel_save
from notifications.services.configuration import contact_method_save
from tests.factories import ServiceFactory, UserFactory
from tests.notifications.conftest import TWILIO_SID, TWILIO_TOKEN
from tests.notifications.support_flow import SYSTEM, hits_of, rule, webhook_channel

pytestmark = pytest.mark.django_db


def kinds(receiver, path=None) -> list[str]:
    return [body["event"] for body in hits_of(receiver, path)]


def mailed() -> list[tuple[str, ...]]:
    """The recipients of each email sent, in order."""
    return [tuple(message.to) for message in mail.outbox]


# --- rule matching ----------------------------------------------------------------------------------


def test_priority_service_and_team_filters(
    worker, webhook_receiver, no_default_rules, open_incident, priorities
):
    checkout = ServiceFactory(slug="checkout", name="Checkout", owner_team="payments")
    search = ServiceFactory(slug="search", name="Search", owner_team="discovery")
    opened = [EventKind.INCIDENT_OPENED]
    rule(
        "P1 only",
        opened,
        priorities=[priorities["P1"]],
        channels=[webhook_channel(webhook_receiver, "a", "/a")],
    )
    rule(
        "Checkout only", opened, services=[checkout], channels=[webhook_channel(webhook_receiver, "b", "/b")]
    )
    rule(
        "Discovery team", opened, teams=["discovery"], channels=[webhook_channel(webhook_receiver, "c", "/c")]
    )

    with worker.after():
        p1_checkout = open_incident(priority=priorities["P1"], services=[checkout])
    with worker.after():
        p3_search = open_incident(priority=priorities["P3"], services=[search])
    with worker.after():
        open_incident(priority=priorities["P4"])

    def ids(path):
        return [body["incident"]["id"] for body in hits_of(webhook_receiver, path)]

    assert ids("/a") == [p1_checkout.pk]
    assert ids("/b") == [p1_checkout.pk]
    assert ids("/c") == [p3_search.pk]


def test_rules_are_read_in_order_and_stop_here_ends_the_reading(
    worker, webhook_receiver, no_default_rules, open_incident, priorities
):
    opened = [EventKind.INCIDENT_OPENED]
    rule("Last", opened, position=30, channels=[webhook_channel(webhook_receiver, "last", "/last")])
    rule(
        "P1 stops here",
        opened,
        position=10,
        stop=True,
        priorities=[priorities["P1"]],
        channels=[webhook_channel(webhook_receiver, "first", "/first")],
    )
    rule(
        "Disabled",
        opened,
        position=5,
        enabled=False,
        channels=[webhook_channel(webhook_receiver, "off", "/off")],
    )

    with worker.after():
        p1 = open_incident(priority=priorities["P1"])
    with worker.after():
        p2 = open_incident(priority=priorities["P2"])

    assert [b["incident"]["id"] for b in hits_of(webhook_receiver, "/first")] == [p1.pk]
    assert [b["incident"]["id"] for b in hits_of(webhook_receiver, "/last")] == [p2.pk]
    assert hits_of(webhook_receiver, "/off") == []


def test_roles_users_and_groups_each_get_one_message(
    worker, no_default_rules, open_incident, actor, priorities
):
    commander = UserFactory(username="cmdr", email="cmdr@example.com")
    assignee = UserFactory(username="assignee", email="assignee@example.com")
    named = UserFactory(username="named", email="named@example.com")
    UserFactory(username="oncall", email="oncall@example.com", groups=["Approver"])
    owner = UserFactory(username="owner", email="owner@example.com")
    from django.contrib.auth.models import Group

    payments = Group.objects.create(name="payments")
    owner.groups.add(payments)
    UserFactory(username="inactive", email="inactive@example.com", is_active=False).groups.add(payments)
    checkout = ServiceFactory(slug="checkout", name="Checkout", owner_team="payments")
    rule(
        "Everyone",
        [EventKind.INCIDENT_OPENED],
        roles=[RecipientRole.COMMANDER, RecipientRole.ASSIGNEE, RecipientRole.SERVICE_OWNERS],
        users=[named, commander],  # The commander named twice still gets one message.
        groups=[Group.objects.get(name="Approver")],
    )

    with worker.after():
        open_incident(priority=priorities["P2"], services=[checkout], commander=commander, assignee=assignee)

    assert sorted(mailed()) == [
        ("assignee@example.com",),
        ("cmdr@example.com",),
        ("named@example.com",),
        ("oncall@example.com",),
        ("owner@example.com",),
    ]


def test_contact_kinds_use_the_person_s_methods_and_fall_back_to_the_account_email(
    worker, twilio_api, settings, no_default_rules, open_incident
):
    settings.NOTIFICATIONS_TWILIO_CREDENTIALS = f"{TWILIO_SID}:{TWILIO_TOKEN}"
    settings.NOTIFICATIONS_SMS_FROM = "+15005550006"
    with_phone = UserFactory(username="phone", email="phone@example.com")
    contact_method_save(by=SYSTEM, user=with_phone, kind=ContactKind.SMS, address="+4915112345678")
    with_work_mail = UserFactory(username="work", email="private@example.com")
    contact_method_save(by=SYSTEM, user=with_work_mail, kind=ContactKind.EMAIL, address="work@example.com")
    plain = UserFactory(username="plain", email="plain@example.com")
    rule(
        "SMS and email",
        [EventKind.INCIDENT_OPENED],
        users=[with_phone, with_work_mail, plain],
        contact_kinds=[ContactKind.SMS, ContactKind.EMAIL],
    )

    with worker.after():
        open_incident()

    assert [m["to"] for m in twilio_api.messages] == ["+4915112345678"]
    # Their own email method wins over the account's address; without one, the account's is used.
    assert sorted(mailed()) == [("phone@example.com",), ("plain@example.com",), ("work@example.com",)]


def test_the_default_rule_tells_the_ops_channel_of_p1_and_p2_only(worker, open_incident, priorities):
    ops = Channel.objects.get(name="Ops")
    assert not ops.enabled  # No address at migration time: created disabled, nothing sent.
    with worker.after():
        open_incident(priority=priorities["P1"])
    assert mail.outbox == []

    channel_save(
        by=SYSTEM, channel=ops, name="Ops", kind=ChannelKind.EMAIL, config={"to": ["ops@example.com"]}
    )
    for code in ("P1", "P2", "P3"):
        with worker.after():
            open_incident(title=f"A {code} incident", priority=priorities[code])

    assert [message.to for message in mail.outbox] == [["ops@example.com"], ["ops@example.com"]]
    assert ["A P1 incident" in m.body for m in mail.outbox] == [True, False]
    assert ["A P2 incident" in m.body for m in mail.outbox] == [False, True]


def test_two_long_addresses_sharing_a_prefix_both_get_the_message(worker, no_default_rules, open_incident):
    user = UserFactory(username="long")
    prefix = "incident.notifications@" + "a" * 60 + "." + "b" * 20
    first, second = f"{prefix}.one.example.com", f"{prefix}.two.example.com"
    assert len(first) > 80 and first[:80] == second[:80]
    for address in (first, second):
        contact_method_save(by=SYSTEM, user=user, kind=ContactKind.EMAIL, address=address)
    rule("Long", [EventKind.INCIDENT_OPENED], users=[user])

    with worker.after():
        open_incident()

    assert sorted(mailed()) == [(first,), (second,)]
    assert Delivery.objects.filter(status="sent").count() == 2


def test_a_customer_channel_gets_only_the_customer_notices(
    worker, webhook_receiver, no_default_rules, open_incident, actor
):
    """A channel that speaks to customers (config audience "customer") gets the kinds that have a
    customer notice, in its words; an internal update routed to it by a broad rule stays internal."""
    customers = webhook_channel(webhook_receiver, "Customers", "/customers", audience="customer")
    rule(
        "Updates to everyone",
        [EventKind.UPDATE_INTERNAL, EventKind.UPDATE_PUBLIC, EventKind.SLA_RESPONSE_BREACHED],
        channels=[customers],
    )
    incident = incident_acknowledge(incident=open_incident(), by=actor)

    with worker.after():
        status_update_create(
            incident=incident,
            by=actor,
            message="Internal: db-7 password rotated by hand.",
            visibility="internal",
        )
    with worker.after():
        status_update_create(
            incident=incident, by=actor, message="We are restoring checkout.", visibility="public"
        )

    [body] = hits_of(webhook_receiver)
    assert body["event"] == "update_public"
    assert body["subject"] == "Service disruption update"
    assert "We are restoring checkout." in body["text"]
    assert not Delivery.objects.filter(event_kind="update_internal").exists()


def test_a_disabled_email_method_is_not_replaced_by_the_account_address(
    worker, no_default_rules, open_incident
):
    """The account's address stands in only for someone who set up no email method; who turned
    theirs off (on leave, say) hears nothing by email."""
    away = UserFactory(username="away", email="away@example.com")
    contact_method_save(
        by=SYSTEM, user=away, kind=ContactKind.EMAIL, address="away.work@example.com", enabled=False
    )
    present = UserFactory(username="present", email="present@example.com")
    rule("Opened", [EventKind.INCIDENT_OPENED], users=[away, present])

    with worker.after():
        open_incident()

    assert mailed() == [("present@example.com",)]


def test_deactivated_people_in_incident_roles_are_not_told(worker, no_default_rules, open_incident, actor):
    gone = UserFactory(username="gone", email="gone@example.com")
    left = UserFactory(username="left", email="left@example.com")
    here = UserFactory(username="here", email="here@example.com")
    rule(
        "Roles",
        [EventKind.UPDATE_INTERNAL],
        roles=[RecipientRole.COMMANDER, RecipientRole.ASSIGNEE, RecipientRole.COMMUNICATIONS_LEAD],
    )
    incident = open_incident(commander=gone, assignee=here)
    incident_role_assign(incident=incident, by=actor, role=Role.COMMUNICATIONS_LEAD, user=left)
    type(gone).objects.filter(pk__in=[gone.pk, left.pk]).update(is_active=False)

    with worker.after():
        status_update_create(incident=incident, by=actor, message="Looking into it.")

    assert mailed() == [("here@example.com",)]


def test_a_drill_is_told_as_a_drill_and_never_to_customers(
    worker, webhook_receiver, no_default_rules, open_incident
):
    """Responders hear of a drill like of the real thing, but marked, so nobody takes it for an
    outage; customers never hear of it."""
    responders = webhook_channel(webhook_receiver, "Responders", "/responders")
    customers = webhook_channel(webhook_receiver, "Customers", "/customers", audience="customer")
    rule("Opened", [EventKind.INCIDENT_OPENED], channels=[responders, customers])

    with worker.after():
        drill = open_incident(title="Game day: primary database lost", is_drill=True)
    with worker.after():
        real = open_incident(title="Checkout returns 502")

    [told_drill, told_real] = hits_of(webhook_receiver, "/responders")
    assert told_drill["subject"].startswith("[DRILL] ")
    assert drill.reference in told_drill["subject"]
    assert "[DRILL]" not in told_real["subject"]
    assert [b["incident"]["id"] for b in hits_of(webhook_receiver, "/customers")] == [real.pk]

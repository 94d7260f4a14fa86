"""The escalation engine's services, run step by step in this process (the worker tests run it on
real workers): policy choice, thresholds, step order and timing, repeats, stale and repeated
messages, stopping on acknowledgement, and the contact methods' own delays."""

from datetime import date, time, timedelta
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from django.db.models import F
from django.urls import NoReverseMatch, include, path, resolve, reverse
from django.utils import timezone

from alerts.models import AlertRule
from common.actor import Actor, Source
from config.urls import urlpatterns as site_urlpatterns
from incidents.models import TimelineEvent
from incidents.services.incidents import incident_update
from incidents.services.lifecycle import incident_acknowledge
from notifications.choices import ChannelKind, ContactKind, DeliveryStatus
from notifications.models import Channel, ContactMethod, Delivery
from notifications.services.channels import channel_save
from notifications.services.configuration import contact_method_save
from oncall import urls as oncall_urls
from oncall.acklinks import ack_token_read
from oncall.choices import PageMode, PageStatus
from oncall.models import (
    EscalationPolicy,
    EscalationStep,
    Layer,
    LayerMember,
    Override,
    Page,
    PageStep,
    PolicyAlertRule,
    PolicyService,
    Schedule,
)
from oncall.services import paging
from tests.enqueued import enqueued
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()
STEP = "oncall.tasks.page_step_run"

# Until the acknowledge views are merged, the ack route these tests reverse: the real one when it is
# there (see the `ack_route` fixture).
ack_patterns = [path("ack/<str:token>/", lambda request, token: None, name="ack"), *oncall_urls.urlpatterns]
# First: of two "oncall" namespaces, reverse() reads the first.
urlpatterns = [path("oncall/", include((ack_patterns, "oncall"))), *site_urlpatterns]


@pytest.fixture(autouse=True)
def ack_route(settings):
    try:
        reverse("oncall:ack", args=["x"])
    except NoReverseMatch:
        settings.ROOT_URLCONF = __name__


def token_of(url: str) -> str:
    """The token of an acknowledge link, whatever the route's shape."""
    match = resolve(urlsplit(url).path)
    return (list(match.kwargs.values()) or list(match.args))[0]


def person(name: str, *, sms: str = "", sms_delay: int = 0, email_delay: int = 1) -> User:
    user = UserFactory(username=name, groups=["Responder"])
    contact_method_save(by=SYSTEM, user=user, kind=ContactKind.EMAIL, address=f"{name}@example.com")
    if sms:
        contact_method_save(by=SYSTEM, user=user, kind=ContactKind.SMS, address=sms)
    ContactMethod.objects.filter(user=user, kind=ContactKind.SMS).update(page_delay_minutes=sms_delay)
    ContactMethod.objects.filter(user=user, kind=ContactKind.EMAIL).update(page_delay_minutes=email_delay)
    return user


def policy_with(name: str, *steps: tuple[int, list], repeat_count: int = 0, **fields) -> EscalationPolicy:
    """Steps as (delay_minutes, [users and channels])."""
    policy = EscalationPolicy.objects.create(name=name, repeat_count=repeat_count, **fields)
    for position, (delay, targets) in enumerate(steps):
        step = EscalationStep.objects.create(policy=policy, position=position, delay_minutes=delay)
        step.users.set([t for t in targets if isinstance(t, User)])
        step.channels.set([t for t in targets if isinstance(t, Channel)])
    return policy


def run_due(page: Page) -> Page:
    """Run the page's next step as its scheduled message would, moving its due time to now first
    (the policy's minutes are real minutes in these tests)."""
    page = Page.objects.get(pk=page.pk)
    shift = page.next_step_at - timezone.now()
    Page.objects.filter(pk=page.pk).update(next_step_at=F("next_step_at") - shift)
    # The steps that ran move back with it, as if the time had passed (the timeline says how long).
    PageStep.objects.filter(page=page).update(due_at=F("due_at") - shift, ran_at=F("ran_at") - shift)
    page = Page.objects.get(pk=page.pk)
    paging.page_step_run(page_id=page.pk, task_id=page.task_id)
    page = Page.objects.get(pk=page.pk)
    return page


def notes(incident) -> list[str]:
    return list(
        TimelineEvent.objects.filter(incident=incident, details__has_key="escalation")
        .order_by("id")
        .values_list("message", flat=True)
    )


@pytest.fixture
def alice():
    return person("alice", sms="+15550000001", sms_delay=0, email_delay=1)


@pytest.fixture
def bob():
    return person("bob")


@pytest.fixture
def checkout(service_factory):
    return service_factory(name="checkout", slug="checkout")


@pytest.mark.parametrize(
    ("code", "page_threshold", "notify_threshold", "mode"),
    [
        ("P1", "P2", "P3", PageMode.PAGE),
        ("P2", "P2", "P3", PageMode.PAGE),
        ("P3", "P2", "P3", PageMode.NOTIFY),
        ("P4", "P2", "P3", None),
        ("P3", "P2", "", None),
        ("P2", "P1", "P3", PageMode.NOTIFY),
        ("P5", "P2", "P5", PageMode.NOTIFY),
    ],
)
def test_priority_against_thresholds(code, page_threshold, notify_threshold, mode):
    policy = EscalationPolicy(page_threshold=page_threshold, notify_threshold=notify_threshold)
    assert paging.page_mode(policy=policy, priority_code=code) == mode


def test_p1_on_a_service_opens_a_page_due_at_once(
    open_incident, priorities, checkout, alice, django_capture_on_commit_callbacks
):
    policy = policy_with("Checkout", (0, [alice]))
    PolicyService.objects.create(policy=policy, service=checkout)
    incident = open_incident(priority=priorities["P1"], services=[checkout])
    before = timezone.now()
    with django_capture_on_commit_callbacks() as callbacks:
        page = paging.page_open(incident=incident)
    assert page.policy == policy and page.mode == PageMode.PAGE and page.status == PageStatus.ESCALATING
    assert len(page.reply_code) == 4 and page.reply_code.isdigit()
    assert before <= page.next_step_at <= timezone.now()
    assert enqueued(callbacks) == [STEP] and callbacks[0].keywords["task_id"] == page.task_id
    assert notes(incident) == ["Paging through the escalation policy Checkout."]
    assert paging.page_open(incident=incident) == page  # a repeated message
    assert Page.objects.count() == 1


def test_p3_notifies_and_p4_does_not_page(open_incident, priorities, checkout, alice):
    PolicyService.objects.create(policy=policy_with("Checkout", (0, [alice])), service=checkout)
    assert (
        paging.page_open(incident=open_incident(priority=priorities["P3"], services=[checkout])).mode
        == "notify"
    )
    assert paging.page_open(incident=open_incident(priority=priorities["P4"], services=[checkout])) is None
    assert Page.objects.count() == 1


def test_no_policy_no_page(open_incident, priorities, checkout):
    assert paging.page_open(incident=open_incident(priority=priorities["P1"], services=[checkout])) is None


def test_the_alert_rules_policy_comes_before_the_services(open_incident, priorities, checkout, alice, bob):
    from alerts.models import Alert, AlertSource

    PolicyService.objects.create(policy=policy_with("Service's", (0, [alice])), service=checkout)
    by_rule = policy_with("Rule's", (0, [bob]))
    rule = AlertRule.objects.create(name="Checkout 5xx", priority=priorities["P1"])
    PolicyAlertRule.objects.create(policy=by_rule, rule=rule)
    incident = open_incident(priority=priorities["P1"], services=[checkout])
    source = AlertSource.objects.create(name="prom", kind="alertmanager")
    Alert.objects.create(
        source=source,
        fingerprint="f1",
        incident=incident,
        rule=rule,
        starts_at=timezone.now(),
        received_at=timezone.now(),
        last_received_at=timezone.now(),
    )
    assert paging.page_open(incident=incident).policy == by_rule


def test_a_second_service_by_name_decides(open_incident, priorities, service_factory, alice, bob):
    zeta, api = service_factory(name="zeta", slug="zeta"), service_factory(name="api", slug="api")
    PolicyService.objects.create(policy=policy_with("Zeta", (0, [alice])), service=zeta)
    PolicyService.objects.create(policy=policy_with("API", (0, [bob])), service=api)
    incident = open_incident(priority=priorities["P1"], services=[zeta, api])
    assert paging.page_open(incident=incident).policy.name == "API"


def test_an_acknowledged_incident_is_not_paged(open_incident, priorities, checkout, alice, actor):
    PolicyService.objects.create(policy=policy_with("Checkout", (0, [alice])), service=checkout)
    incident = incident_acknowledge(
        incident=open_incident(priority=priorities["P1"], services=[checkout]), by=actor
    )
    assert paging.page_open(incident=incident) is None


def test_steps_run_in_order_with_each_contact_methods_delay(
    open_incident, priorities, checkout, alice, bob, settings
):
    settings.ONCALL_MINUTE_SECONDS = 60
    ops = channel_save(
        by=SYSTEM,
        name="ops",
        kind=ChannelKind.WEBHOOK,
        config={"url": "http://127.0.0.1:9/h"},
        secret="s" * 16,
    )
    PolicyService.objects.create(
        policy=policy_with("Checkout", (0, [alice, ops]), (5, [bob])), service=checkout
    )
    incident = open_incident(priority=priorities["P1"], services=[checkout])
    page = paging.page_open(incident=incident)

    page = run_due(page)
    first = PageStep.objects.get(page=page, loop=0, position=0)
    assert first.ran_at >= first.due_at
    sms = Delivery.objects.get(user=alice, contact_kind=ContactKind.SMS)
    email = Delivery.objects.get(user=alice, contact_kind=ContactKind.EMAIL)
    assert sms.event_key == email.event_key == f"page:{page.pk}:0:0:u{alice.pk}"
    assert sms.rule is None and sms.event_kind == "page" and sms.status == DeliveryStatus.PENDING
    # SMS at once, email a minute later: from the step's run, on the delivery rows.
    assert email.next_attempt_at - sms.next_attempt_at == pytest.approx(
        timedelta(minutes=1), abs=timedelta(seconds=1)
    )
    claim = ack_token_read(token_of(sms.event["details"]["ack_url"]))
    assert (claim.page_id, claim.user_id) == (page.pk, alice.pk)
    channel_delivery = Delivery.objects.get(channel=ops)
    assert ack_token_read(token_of(channel_delivery.event["details"]["ack_url"])).user_id is None
    assert page.position == 1 and page.loop == 0
    assert page.next_step_at == first.due_at + timedelta(minutes=5)

    page = run_due(page)
    assert Delivery.objects.filter(user=bob).count() == 1  # an email only (no SMS method)
    assert page.status == PageStatus.EXHAUSTED
    assert [(s.loop, s.position) for s in PageStep.objects.filter(page=page)] == [(0, 0), (0, 1)]
    assert notes(incident) == [
        "Paging through the escalation policy Checkout.",
        "Paged alice (SMS now, email in 1 min), #ops (step 1).",
        "No acknowledgement after 5 min: escalated to bob (email in 1 min) (step 2).",
        "Nobody acknowledged after 1 pass.",
    ]


def test_the_next_step_is_due_from_the_last_due_time_not_from_a_late_run(
    open_incident, priorities, checkout, alice, bob
):
    PolicyService.objects.create(policy=policy_with("Checkout", (0, [alice]), (5, [bob])), service=checkout)
    page = paging.page_open(incident=open_incident(priority=priorities["P1"], services=[checkout]))
    due = page.next_step_at - timedelta(minutes=3)  # the worker ran it three minutes late
    Page.objects.filter(pk=page.pk).update(next_step_at=due)
    paging.page_step_run(page_id=page.pk, task_id=page.task_id)
    page = Page.objects.get(pk=page.pk)
    assert page.next_step_at == due + timedelta(minutes=5)
    assert PageStep.objects.get(page=page).due_at == due


def test_the_policy_repeats_then_the_page_is_exhausted(open_incident, priorities, checkout, alice, bob):
    PolicyService.objects.create(
        policy=policy_with("Checkout", (0, [alice]), (5, [bob]), repeat_count=1), service=checkout
    )
    incident = open_incident(priority=priorities["P1"], services=[checkout])
    page = paging.page_open(incident=incident)
    page = run_due(page)
    page = run_due(page)
    assert (page.loop, page.position, page.status) == (1, 0, PageStatus.ESCALATING)
    before_wrap = PageStep.objects.get(page=page, loop=0, position=1).due_at
    assert page.next_step_at == before_wrap + timedelta(
        minutes=5
    )  # the last step's people get their 5 minutes
    page = run_due(page)
    page = run_due(page)
    assert page.status == PageStatus.EXHAUSTED and page.ended_at is not None
    assert [(s.loop, s.position) for s in PageStep.objects.filter(page=page)] == [
        (0, 0),
        (0, 1),
        (1, 0),
        (1, 1),
    ]
    assert Delivery.objects.filter(user=alice, contact_kind="sms").count() == 2
    assert notes(incident)[-1] == "Nobody acknowledged after 2 passes."


def test_notify_mode_runs_the_first_step_once(
    open_incident, priorities, checkout, alice, bob, django_capture_on_commit_callbacks
):
    PolicyService.objects.create(
        policy=policy_with("Checkout", (0, [alice]), (5, [bob]), repeat_count=3), service=checkout
    )
    page = paging.page_open(incident=open_incident(priority=priorities["P3"], services=[checkout]))
    with django_capture_on_commit_callbacks() as callbacks:
        page = run_due(page)
    assert page.status == PageStatus.NOTIFIED and PageStep.objects.filter(page=page).count() == 1
    assert enqueued(callbacks, "oncall.") == []
    assert not Delivery.objects.filter(user=bob).exists()


@pytest.mark.parametrize(
    ("steps", "next_step", "paged"),
    [
        # Step 1 told alice of a P3; as a P1 the escalation goes on with step 2 (bob), at once.
        (((0, "alice"), (5, "bob")), (0, 1), "bob"),
        # A single step: it runs again, as a page this time (its second pass).
        (((0, "alice"),), (1, 0), "alice"),
    ],
)
def test_a_notified_p3_raised_to_p1_starts_escalating(
    open_incident,
    priorities,
    checkout,
    alice,
    bob,
    django_capture_on_commit_callbacks,
    steps,
    next_step,
    paged,
):
    people = {"alice": alice, "bob": bob}
    policy = policy_with("Checkout", *[(delay, [people[name]]) for delay, name in steps])
    PolicyService.objects.create(policy=policy, service=checkout)
    incident = open_incident(priority=priorities["P3"], services=[checkout])
    page = run_due(paging.page_open(incident=incident))
    assert page.status == PageStatus.NOTIFIED

    incident_update(incident=incident, by=SYSTEM, changes={"priority": priorities["P1"]})
    paging.page_open(incident=incident)  # What the listener's task does on priority_changed.
    page = Page.objects.get(pk=page.pk)
    assert (page.status, page.mode, (page.loop, page.position)) == ("escalating", "page", next_step)
    assert page.next_step_at <= timezone.now() and page.ended_at is None
    assert notes(incident)[-1] == "Now P1: paging through the escalation policy Checkout."

    before = set(Delivery.objects.values_list("pk", flat=True))
    page = run_due(page)
    assert {d.user.username for d in Delivery.objects.exclude(pk__in=before)} == {paged}
    # Raised again (P1 -> P2 -> P1) while escalating: nothing restarts.
    assert paging.page_open(incident=incident).pk == page.pk
    assert PageStep.objects.filter(page=page).count() == 2


def test_a_stale_or_early_message_does_nothing(open_incident, priorities, checkout, alice):
    PolicyService.objects.create(policy=policy_with("Checkout", (0, [alice])), service=checkout)
    page = paging.page_open(incident=open_incident(priority=priorities["P1"], services=[checkout]))
    paging.page_step_run(page_id=page.pk, task_id="an-older-message")
    Page.objects.filter(pk=page.pk).update(next_step_at=timezone.now() + timedelta(minutes=1))
    paging.page_step_run(page_id=page.pk, task_id=page.task_id)
    assert not PageStep.objects.exists() and not Delivery.objects.exists()
    page = Page.objects.get(pk=page.pk)
    assert page.position == 0 and page.status == PageStatus.ESCALATING


def test_a_step_already_run_is_not_run_again(open_incident, priorities, checkout, alice):
    PolicyService.objects.create(policy=policy_with("Checkout", (0, [alice]), (5, [alice])), service=checkout)
    page = paging.page_open(incident=open_incident(priority=priorities["P1"], services=[checkout]))
    PageStep.objects.create(page=page, loop=0, position=0, due_at=page.next_step_at, ran_at=timezone.now())
    task_id = page.task_id
    page = run_due(page)
    assert page.task_id == task_id and page.position == 0
    assert not Delivery.objects.exists()


def test_a_step_with_nobody_says_so_and_moves_on(open_incident, priorities, checkout, alice):
    gone = UserFactory(username="gone", is_active=False)
    PolicyService.objects.create(policy=policy_with("Checkout", (0, [gone]), (2, [alice])), service=checkout)
    incident = open_incident(priority=priorities["P1"], services=[checkout])
    page = run_due(paging.page_open(incident=incident))
    assert page.position == 1 and not Delivery.objects.exists()
    assert notes(incident)[-1] == "Nobody to page at step 1: moving on."
    assert PageStep.objects.get(page=page).notified == []


def test_acknowledging_stops_the_page_and_cancels_what_waits(
    open_incident, priorities, checkout, alice, actor, django_capture_on_commit_callbacks
):
    PolicyService.objects.create(policy=policy_with("Checkout", (0, [alice]), (5, [alice])), service=checkout)
    incident = open_incident(priority=priorities["P1"], services=[checkout])
    page = run_due(paging.page_open(incident=incident))
    sms = Delivery.objects.get(contact_kind="sms")
    Delivery.objects.filter(pk=sms.pk).update(status=DeliveryStatus.SENDING)  # a worker is sending it
    with django_capture_on_commit_callbacks() as callbacks:
        incident_acknowledge(incident=incident, by=Actor(user=alice, source=Source.PAGE_LINK))
    stop = [c for c in callbacks if getattr(c, "args", None) and c.args[0] == "oncall.tasks.page_stop"]
    assert len(stop) == 1
    ids = stop[0].args[1]
    from oncall.tasks import page_stop

    page_stop.apply(kwargs=ids, throw=True)
    page = Page.objects.get(pk=page.pk)
    assert (
        page.status == PageStatus.ACKNOWLEDGED and page.ended_by == alice and page.end_source == "page_link"
    )
    assert Delivery.objects.get(contact_kind="email").status == DeliveryStatus.CANCELLED
    assert Delivery.objects.get(contact_kind="sms").status == DeliveryStatus.SENDING
    assert notes(incident)[-1] == "Escalation stopped: acknowledged by alice via page link."
    paging.page_step_run(page_id=page.pk, task_id=page.task_id)  # the next step's message, now stale
    assert PageStep.objects.count() == 1


def test_a_step_finding_the_incident_acknowledged_stops_instead(
    open_incident, priorities, checkout, alice, actor
):
    PolicyService.objects.create(policy=policy_with("Checkout", (0, [alice])), service=checkout)
    incident = open_incident(priority=priorities["P1"], services=[checkout])
    page = paging.page_open(incident=incident)
    incident_acknowledge(incident=incident, by=actor)  # its stop message is not run here
    page = run_due(page)
    assert page.status == PageStatus.ACKNOWLEDGED and not PageStep.objects.exists()


def test_stop_without_a_page_or_twice_is_harmless(open_incident, priorities, checkout, alice):
    incident = open_incident(priority=priorities["P1"])
    assert paging.page_stop(incident_id=incident.pk, status="resolved", by=SYSTEM) is None
    PolicyService.objects.create(policy=policy_with("Checkout", (0, [alice])), service=checkout)
    page = paging.page_open(incident=open_incident(priority=priorities["P1"], services=[checkout]))
    paging.page_stop(incident_id=page.incident_id, status="dismissed", by=SYSTEM)
    assert paging.page_stop(incident_id=page.incident_id, status="resolved", by=SYSTEM).status == "dismissed"


def test_the_sweeper_resends_only_overdue_steps(
    open_incident, priorities, checkout, alice, settings, django_capture_on_commit_callbacks
):
    settings.ONCALL_SWEEP_GRACE_SECONDS = 10
    PolicyService.objects.create(policy=policy_with("Checkout", (0, [alice])), service=checkout)
    late = paging.page_open(incident=open_incident(priority=priorities["P1"], services=[checkout]))
    fresh = paging.page_open(incident=open_incident(priority=priorities["P1"], services=[checkout]))
    Page.objects.filter(pk=late.pk).update(next_step_at=timezone.now() - timedelta(seconds=11))
    with django_capture_on_commit_callbacks() as callbacks:
        assert paging.pages_sweep() == 1
    old_task = late.task_id
    late = Page.objects.get(pk=late.pk)
    assert late.task_id != old_task and enqueued(callbacks) == [STEP]
    assert callbacks[0].keywords["task_id"] == late.task_id and callbacks[0].args[1] == {"page_id": late.pk}
    paging.page_step_run(page_id=late.pk, task_id=old_task)  # the lost message turns up: stale
    assert not PageStep.objects.exists()
    paging.page_step_run(page_id=late.pk, task_id=late.task_id)
    assert PageStep.objects.filter(page=late).count() == 1
    fresh = Page.objects.get(pk=fresh.pk)
    assert PageStep.objects.filter(page=fresh).count() == 0


def test_the_listener_opens_on_creation_and_priority_raise_and_stops_on_the_end(
    open_incident, priorities, actor, django_capture_on_commit_callbacks
):
    from incidents.services import incident_update
    from incidents.services.lifecycle import incident_dismiss

    with django_capture_on_commit_callbacks() as callbacks:
        incident = open_incident(priority=priorities["P3"])
    assert enqueued(callbacks, "oncall.") == ["oncall.tasks.page_open"]
    with django_capture_on_commit_callbacks() as callbacks:
        incident_update(incident=incident, by=actor, changes={"priority": priorities["P1"]})
    assert enqueued(callbacks, "oncall.") == ["oncall.tasks.page_open"]
    with django_capture_on_commit_callbacks() as callbacks:
        incident_dismiss(incident=incident, by=actor, reason="False alarm")
    stops = [
        c.args[1] for c in callbacks if getattr(c, "args", None) and c.args[0] == "oncall.tasks.page_stop"
    ]
    assert [s["status"] for s in stops] == ["dismissed"]


def test_page_messages_carry_the_ack_link_and_the_sms_reply_code(
    open_incident, priorities, checkout, alice, settings
):
    from notifications.integrations import sms as sms_integration
    from notifications.services.sending import delivery_message

    settings.ONCALL_SMS_ONE_CLICK_ACK = True
    PolicyService.objects.create(policy=policy_with("Checkout", (0, [alice])), service=checkout)
    incident = open_incident(priority=priorities["P1"], services=[checkout], title="Checkout down")
    page = run_due(paging.page_open(incident=incident))

    sms = delivery_message(Delivery.objects.get(contact_kind="sms"))
    one_click = ack_token_read(token_of(sms.url))
    assert one_click.one_click and one_click.user_id == alice.pk
    text = sms_integration.body(sms)
    # The reply code, and the one-click link (short enough for the SMS integration's link limit).
    assert f"Reply ACK {page.reply_code}" in text
    assert text.endswith(f" {sms.url}") and len(text) <= sms_integration.LIMIT
    assert text.startswith(f"PAGE [P1] {incident.reference} Checkout down")

    email = delivery_message(Delivery.objects.get(contact_kind="email"))
    assert "Reply ACK" not in email.subject and "Reply ACK" not in email.text
    assert not ack_token_read(token_of(email.url)).one_click
    assert f"Acknowledge: {email.url}" in email.text and "step 1" in email.text


def schedule_with(name: str, *layers: list[User]) -> Schedule:
    """Layers of one member each, on call all day every day; the later ones on top."""
    schedule = Schedule.objects.create(name=name, time_zone="Europe/Berlin")
    for level, members in enumerate(layers, start=1):
        layer = Layer.objects.create(
            schedule=schedule,
            name=f"Layer {level}",
            level=level,
            rotation_unit="days",
            start_date=date(2026, 1, 1),
            handoff_time=time(9, 0),
        )
        for position, user in enumerate(members):
            LayerMember.objects.create(layer=layer, user=user, position=position)
    return schedule


@pytest.mark.parametrize(("all_layers", "paged"), [(False, {"bob"}), (True, {"alice", "bob"})])
def test_schedules_page_whoever_is_on_call_when_the_step_runs(
    open_incident, priorities, checkout, alice, bob, all_layers, paged
):
    primary = schedule_with("Primary", [alice], [bob])
    empty = schedule_with("Empty")
    policy = policy_with("Checkout", (0, []))
    step = policy.steps.get()
    step.schedules.set([primary, empty])
    EscalationStep.objects.filter(pk=step.pk).update(notify_all_oncall=all_layers)
    PolicyService.objects.create(policy=policy, service=checkout)
    incident = open_incident(priority=priorities["P1"], services=[checkout])
    page = run_due(paging.page_open(incident=incident))
    assert set(Delivery.objects.values_list("user__username", flat=True)) == paged
    assert notes(incident)[-2].endswith("(step 1). Nobody on call on Empty.")
    assert PageStep.objects.get(page=page).notified[-1] == "Nobody on call on Empty."


def test_an_override_is_paged_instead_of_the_layer(open_incident, priorities, checkout, alice, bob):
    primary = schedule_with("Primary", [alice])
    now = timezone.now()
    Override.objects.create(
        schedule=primary, user=bob, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1)
    )
    policy = policy_with("Checkout", (0, []))
    policy.steps.get().schedules.set([primary])
    PolicyService.objects.create(policy=policy, service=checkout)
    run_due(paging.page_open(incident=open_incident(priority=priorities["P1"], services=[checkout])))
    assert set(Delivery.objects.values_list("user__username", flat=True)) == {"bob"}


def test_the_page_template_fits_the_template_rows():
    """The migration writes the defaults into MessageTemplate rows (PostgreSQL enforces the length)."""
    from notifications.models import MessageTemplate
    from notifications.rendering.defaults import DEFAULTS

    subject, _ = DEFAULTS[("page", "internal")]
    assert len(subject) <= MessageTemplate._meta.get_field("subject").max_length


def test_a_steps_queries_grow_only_with_the_deliveries_it_writes(
    open_incident, priorities, checkout, alice, bob, django_assert_num_queries
):
    PolicyService.objects.create(policy=policy_with("Checkout", (0, [alice, bob])), service=checkout)
    page = paging.page_open(incident=open_incident(priority=priorities["P1"], services=[checkout]))
    Page.objects.filter(pk=page.pk).update(next_step_at=timezone.now())
    # Page, steps, the step row, users, schedules, contact methods, channels, the step's notes, the
    # step before it, two timeline events (the step; the end), the page; and per delivery an insert
    # in savepoints.
    with django_assert_num_queries(16 + 3 * 5):
        paging.page_step_run(page_id=page.pk, task_id=page.task_id)
    assert Delivery.objects.count() == 3

"""Issue 13: escalation on real Celery workers (processes of their own, prefork as the Procfile
runs them) on an isolated corner of Redis, against the test database, with minutes compressed to
half a second: an unacknowledged P1 escalates step by step and stops when acknowledged through the
API, the page's signed link or Slack's Acknowledge button (a forged click refused); a worker
SIGKILLed between steps delays the next step but the sweeper still gets it run; two workers and
every step's message published three times page once per step."""

from collections import Counter
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User

from common.actor import Actor, Source
from common.outbox import task_publish
from incidents.models import TimelineEvent
from incidents.services import incident_create
from notifications.choices import ChannelKind, ContactKind
from notifications.models import Channel, Delivery, NotificationRule
from notifications.services.configuration import contact_method_save
from oncall.choices import PageStatus
from oncall.models import EscalationPolicy, EscalationStep, Page, PageStep, PolicyService
from oncall.services import paging
from tests.factories import UserFactory
from tests.incidents.api_support import incidents_url, token_client
from tests.notifications.receivers import SlackApi
from tests.notifications.support_workers import redis_broker  # noqa: F401 (fixture)
from tests.oncall.test_slack_interactivity import SECRET as SLACK_SECRET
from tests.oncall.test_slack_interactivity import TOKEN as SLACK_TOKEN
from tests.oncall.test_slack_interactivity import payload as slack_payload
from tests.oncall.test_slack_interactivity import post as slack_post
from tests.oncall.test_slack_interactivity import signed as slack_signed
from tests.worker_processes import Worker, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
MINUTE_SECONDS = 0.5
STEP = "oncall.tasks.page_step_run"
SYSTEM = Actor.system(Source.TASK, label="tests")


@pytest.fixture
def paging_workers(tmp_path, redis_broker, settings):  # noqa: F811 (the fixture above)
    settings.ONCALL_MINUTE_SECONDS = MINUTE_SECONDS
    started: list[Worker] = []

    def start(name: str) -> Worker:
        worker = Worker(
            tmp_path,
            redis_broker[0],
            name,
            "--queues",
            "paging,notifications,deliveries",
            "--pool",
            "prefork",
            "--concurrency",
            "2",
            env={"ONCALL_MINUTE_SECONDS": str(MINUTE_SECONDS)},
        )
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def no_default_rules():
    """Only pages reach people here: the migration's default rules are out of the way."""
    NotificationRule.objects.all().delete()


def person(name: str) -> User:
    user = UserFactory(username=name, groups=["Responder"])
    contact_method_save(by=SYSTEM, user=user, kind=ContactKind.EMAIL, address=f"{name}@example.com")
    return user


def policy(service, *steps: tuple[int, list[User]], repeat_count: int = 0) -> EscalationPolicy:
    made = EscalationPolicy.objects.create(name=f"{service.name} policy", repeat_count=repeat_count)
    for position, (delay, users) in enumerate(steps):
        step = EscalationStep.objects.create(policy=made, position=position, delay_minutes=delay)
        step.users.set(users)
    PolicyService.objects.create(policy=made, service=service)
    return made


def steps_of(page_id: int) -> list[tuple[int, int]]:
    return list(PageStep.objects.filter(page_id=page_id).values_list("loop", "position"))


def notes(incident) -> list[str]:
    events = TimelineEvent.objects.filter(incident=incident, details__has_key="escalation").order_by("id")
    return list(events.values_list("message", flat=True))


def test_an_unacknowledged_p1_escalates_until_acknowledged_through_the_api(
    paging_workers, priorities, service_factory, no_default_rules
):
    alice, bob, carol = person("alice"), person("bob"), person("carol")
    checkout = service_factory(name="checkout", slug="checkout")
    # Step 3 is far off (20 min = 10 s): the acknowledgement comes between steps 2 and 3.
    policy(checkout, (0, [alice]), (2, [bob]), (20, [carol]))
    paging_workers("first")

    incident = incident_create(
        by=SYSTEM, title="Checkout down", priority=priorities["P1"], services=[checkout]
    )
    page = wait_for(lambda: Page.objects.filter(incident=incident).first(), "the page to open")
    wait_for(lambda: steps_of(page.pk) == [(0, 0), (0, 1)], "steps 1 and 2 to run, in order")
    [first, second] = PageStep.objects.filter(page=page)
    assert second.due_at > first.due_at

    response = token_client(bob).post(incidents_url(incident, "acknowledge"))
    assert response.status_code == 200, response.content
    page = wait_for(
        lambda: Page.objects.filter(pk=page.pk, status=PageStatus.ACKNOWLEDGED).first(), "the page to stop"
    )
    assert page.ended_by == bob and page.end_source == "api" and page.next_step_at is None
    assert steps_of(page.pk) == [(0, 0), (0, 1)]
    assert set(Delivery.objects.filter(event_kind="page").values_list("user__username", flat=True)) == {
        "alice",
        "bob",
    }
    assert notes(incident) == [
        "Paging through the escalation policy checkout policy.",
        "Paged alice (email now) (step 1).",
        "No acknowledgement after 2 min: escalated to bob (email now) (step 2).",
        "Escalation stopped: acknowledged by bob via api.",
    ]


def test_a_worker_killed_between_steps_delays_the_next_step_but_the_sweeper_gets_it_run(
    paging_workers, priorities, service_factory, no_default_rules, settings
):
    settings.ONCALL_SWEEP_GRACE_SECONDS = 1
    alice, bob = person("alice"), person("bob")
    checkout = service_factory(name="checkout", slug="checkout")
    policy(checkout, (0, [alice]), (4, [bob]))
    doomed = paging_workers("doomed")

    incident = incident_create(
        by=SYSTEM, title="Checkout down", priority=priorities["P1"], services=[checkout]
    )
    page = wait_for(lambda: Page.objects.filter(incident=incident).first(), "the page to open")
    wait_for(lambda: steps_of(page.pk) == [(0, 0)], "step 1 to run")
    # The step 2 message waits in the doomed worker (an eta it holds, unacknowledged): gone with it.
    doomed.kill()
    paging_workers("survivor")
    wait_for(
        lambda: paging.pages_sweep() >= 0 and steps_of(page.pk) == [(0, 0), (0, 1)],
        "the sweeper to get step 2 run",
    )
    page = wait_for(
        lambda: Page.objects.filter(pk=page.pk, status=PageStatus.EXHAUSTED).first(), "the page to end"
    )
    assert Delivery.objects.filter(user=bob, event_kind="page").count() == 1


def test_two_workers_and_repeated_messages_page_once_per_step(
    paging_workers, priorities, service_factory, no_default_rules
):
    people = [person(f"person{i}") for i in range(3)]
    checkout = service_factory(name="checkout", slug="checkout")
    # Due in 2 s: the repeated messages are published before the first one is due.
    policy(checkout, (4, people[:2]), (1, people[2:]))
    first, second = paging_workers("first"), paging_workers("second")
    incidents = [
        incident_create(by=SYSTEM, title=f"Down {i}", priority=priorities["P1"], services=[checkout])
        for i in range(10)
    ]
    pages = wait_for(
        lambda: (found := list(Page.objects.filter(incident__in=incidents))) and len(found) == 10 and found,
        "the pages to open",
    )
    for page in pages:
        for _ in range(2):
            task_publish(STEP, {"page_id": page.pk}, task_id=page.task_id, eta=page.next_step_at)
    wait_for(
        lambda: Page.objects.filter(incident__in=incidents, status=PageStatus.EXHAUSTED).count() == 10,
        "every page to run its two steps",
        seconds=90,
    )
    assert Counter(PageStep.objects.values_list("page_id", "loop", "position")) == {
        (page.pk, 0, position): 1 for page in pages for position in (0, 1)
    }
    assert Delivery.objects.filter(event_kind="page").count() == 10 * 3
    assert (
        Counter(
            Delivery.objects.filter(event_kind="page").values_list("event_key", "target_key")
        ).most_common(1)[0][1]
        == 1
    )
    assert f"{STEP}[" in first.log() and f"{STEP}[" in second.log(), (first.log() + second.log())[-3000:]


@pytest.mark.parametrize("how", ["page_link", "slack"])
def test_escalation_stops_when_acknowledged_from_the_page_link_or_slack(
    paging_workers, priorities, service_factory, no_default_rules, settings, client, how
):
    alice, bob, carol = person("alice"), person("bob"), person("carol")
    checkout = service_factory(name="checkout", slug="checkout")
    policy(checkout, (0, [alice]), (2, [bob]), (20, [carol]))
    paging_workers("first")

    incident = incident_create(
        by=SYSTEM, title="Checkout down", priority=priorities["P1"], services=[checkout]
    )
    page = wait_for(lambda: Page.objects.filter(incident=incident).first(), "the page to open")
    wait_for(lambda: steps_of(page.pk) == [(0, 0), (0, 1)], "steps 1 and 2 to run, in order")

    if how == "page_link":
        # The link bob's page carried, opened as bob and acknowledged with its button (a POST).
        delivery = Delivery.objects.get(event_kind="page", user=bob)
        link = urlsplit(delivery.event["details"]["ack_url"]).path
        client.force_login(bob)
        assert client.get(link).status_code == 200
        assert Page.objects.get(pk=page.pk).status == PageStatus.ESCALATING  # Opening changes nothing.
        response = client.post(link)
    else:
        slack_api = SlackApi(token=SLACK_TOKEN).start()
        settings.NOTIFICATIONS_SLACK_API_URL = f"{slack_api.url}/api/"
        settings.SLACK_SIGNING_SECRET = SLACK_SECRET
        Channel.objects.create(
            name="Slack", kind=ChannelKind.SLACK_BOT, config={"channel": "C0OPS"}, secret=SLACK_TOKEN
        )
        slack_api.add_user("U0BOB", "bob@example.com")
        body = slack_payload(incident.pk, user="U0BOB")
        try:
            # A forged click first: refused, and the escalation goes on.
            forged = slack_post(client, body, slack_signed(body, secret="not-the-secret"))
            assert forged.status_code == 401
            assert Page.objects.get(pk=page.pk).status == PageStatus.ESCALATING
            response = slack_post(client, body)
        finally:
            slack_api.stop()
    assert response.status_code == 200, response.content

    page = wait_for(
        lambda: Page.objects.filter(pk=page.pk, status=PageStatus.ACKNOWLEDGED).first(), "the page to stop"
    )
    assert page.ended_by == bob and page.end_source == how and page.next_step_at is None
    assert steps_of(page.pk) == [(0, 0), (0, 1)]
    assert notes(incident)[-1] == f"Escalation stopped: acknowledged by bob via {Source(how).label.lower()}."

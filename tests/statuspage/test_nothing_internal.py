"""Nothing internal ever reaches the public page: a Mitigate incident full of internal text (its
title, description, internal status updates, an alert's labels, its responders' names and
addresses, its reference and service) is linked to a public incident, and every public URL, found by
walking statuspage.urls so routes added later are covered too, is read and searched for it."""

import contextlib
import html
import json
from datetime import timedelta
from urllib.parse import unquote, urlsplit

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, reverse
from django.utils import timezone

from alerts.parsers import parse
from alerts.services import alert_source_create, alerts_ingest
from alerts.services.processing import alert_incident_create
from common.actor import Actor, Source
from incidents.choices import Phase, Visibility
from incidents.services import incident_update
from incidents.services.lifecycle import incident_acknowledge
from incidents.services.status_updates import status_update_create
from statuspage import urls as statuspage_urls
from statuspage.choices import ComponentStatus, PublicStatus
from statuspage.services.from_incident import status_update_publish
from tests.factories import UserFactory
from tests.statuspage.support_json import (
    component_make,
    incident_make,
    maintenance_make,
    operator_fixture,  # noqa: F401
    page_cache_fixture,  # noqa: F401
    page_moved_on,
    settings_set,
    update_post,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("page_cache")]

# Path arguments we know how to fill: the page's public incidents' ids, its components' ids. Any
# other argument (a logo digest, a subscriber's token) has no value an outsider could know without
# being sent it, so that route is left out (and the links the pages show are followed instead).
INCIDENT_ARGS = {"pk", "id", "incident", "incident_id", "public_incident", "public_incident_id"}
COMPONENT_ARGS = {"component", "component_id"}
MAX_PAGES = 400


def routes(patterns, prefix: str = "statuspage"):
    """(route name, argument names) of every named route under statuspage.urls."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}:{entry.namespace}" if entry.namespace else prefix
            yield from routes(entry.url_patterns, namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{prefix}:{entry.name}", set(entry.pattern.regex.groupindex)


def public_urls(incident_ids: list[int], component_ids: list[int]) -> tuple[list[str], list[str]]:
    urls, skipped = [], []
    for name, args in routes(statuspage_urls.urlpatterns):
        if not args:
            urls.append(reverse(name))
        elif len(args) == 1 and args <= INCIDENT_ARGS:
            arg = next(iter(args))
            urls += [reverse(name, kwargs={arg: pk}) for pk in incident_ids]
        elif len(args) == 1 and args <= COMPONENT_ARGS:
            arg = next(iter(args))
            urls += [reverse(name, kwargs={arg: pk}) for pk in component_ids]
        else:
            skipped.append(name)
    return urls, skipped


def links(body: str) -> list[str]:
    """The /status/ links of a page (href and src), so pages reached only by a link are read too."""
    found = []
    for chunk in body.split('="')[1:]:
        value = html.unescape(chunk.split('"', 1)[0])
        path = urlsplit(value).path if value.startswith(("/", "http://testserver/")) else ""
        if path.startswith("/status/"):
            found.append(path)
    return found


def everything_public(client: Client, start: list[str]) -> dict[str, str]:
    """Read every URL in `start` and every /status/ page they link to; the bodies by URL."""
    bodies: dict[str, str] = {}
    queue = list(dict.fromkeys(start))
    while queue and len(bodies) < MAX_PAGES:
        url = queue.pop(0)
        if url in bodies:
            continue
        response = client.get(url)
        assert response.status_code < 500, (url, response.status_code)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode("utf-8", errors="replace")
        bodies[url] = text
        if "html" in response.get("Content-Type", ""):
            queue += [link for link in links(text) if link not in bodies]
    return bodies


def readable_forms(text: str) -> str:
    """The body as a reader sees it, whatever the escaping: HTML entities, JSON escapes, %xx."""
    forms = [text, html.unescape(text), unquote(text)]
    with contextlib.suppress(ValueError):
        forms.append(json.dumps(json.loads(text), ensure_ascii=False))
    return "\n".join(forms).lower()


def test_no_public_url_shows_anything_internal(client, operator, service_factory):
    service = service_factory(name="Payments primary DB (internal)", slug="payments-db-7-internal")
    payments = component_make("Payments")
    payments.services.add(service)
    component_make("Website")
    responder = UserFactory(
        username="priya.oncall",
        first_name="Priya",
        last_name="Zephyrine-Oncall",
        email="priya.zephyrine@corp-secret.example",
        groups=["Responder"],
    )
    by = Actor(user=responder, source=Source.ADMIN)

    # An alert, its labels, and the incident a person opens from it.
    source, _token = alert_source_create(by=Actor.system(), name="Prometheus internal", kind="alertmanager")
    payload = {
        "version": "4",
        "status": "firing",
        "receiver": "mitigate",
        "alerts": [
            {
                "status": "firing",
                "labels": {
                    "alertname": "PaymentsDbReplicaLagSecret",
                    "instance": "db-7.internal:9100",
                    "job": "payments-db-secret-job",
                    "severity": "critical",
                },
                "annotations": {
                    "summary": "Replica db-7.internal lagging 900s",
                    "description": "Vault token s.HUNTER2VAULTTOKEN rotated badly on db-7.",
                },
                "startsAt": (timezone.now() - timedelta(minutes=5)).isoformat(),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.corp-secret.example:9090/graph",
                "fingerprint": "secretfp",
            }
        ],
    }
    [alert] = alerts_ingest(source=source, payload=parse("alertmanager", payload), raw=payload)
    incident = alert_incident_create(alert=alert, by=by)
    incident = incident_update(
        incident=incident,
        by=by,
        changes={
            "title": "SECRET: payments DB credentials exposed on db-7",
            "description": incident.description + "\nCustomer ACME-CORP-4471 data at risk; root pw hunter2.",
            "services": [service],
            "assignee": responder,
            "commander": responder,
        },
    )
    incident_acknowledge(incident=incident, by=by)
    status_update_create(
        incident=incident, by=by, message="INTERNAL ONLY: failing over db-7 to db-8.internal, do not share."
    )
    status_update_create(
        incident=incident,
        by=by,
        message="INTERNAL ONLY: Priya paged the DBA on-call about hunter2.",
        visibility=Visibility.INTERNAL,
        phase=Phase.IDENTIFIED,
    )
    # The one thing a person chose to publish; the page's incident gets a title of its own.
    public_note = status_update_create(
        incident=incident,
        by=by,
        message="We have found the cause of failed payments and are fixing it.",
        visibility=Visibility.PUBLIC,
        phase=Phase.IDENTIFIED,
    )
    published = status_update_publish(status_update=public_note)
    linked = published.public_incident
    update_post(operator, linked, PublicStatus.MONITORING, "A fix is in place; we are watching.")

    # More of what the pages list: a resolved incident, a maintenance window, one running.
    past = incident_make(operator, "Slow logins", components={payments: ComponentStatus.DEGRADED})
    update_post(operator, past, PublicStatus.RESOLVED, "Logins are fast again.")
    now = timezone.now()
    upcoming = maintenance_make(
        operator, "Payments upgrade", now + timedelta(days=2), now + timedelta(days=3)
    )
    page_moved_on()

    internal = [
        incident.title,
        "payments DB credentials",
        incident.reference,
        "hunter2",
        "HUNTER2VAULTTOKEN",
        "ACME-CORP-4471",
        "INTERNAL ONLY",
        "db-8.internal",
        "db-7.internal",
        "instance=db-7.internal:9100",
        "PaymentsDbReplicaLagSecret",
        "payments-db-secret-job",
        "prometheus.corp-secret.example",
        "Prometheus internal",
        service.name,
        service.slug,
        responder.username,
        responder.get_full_name(),
        responder.last_name,
        responder.email,
        operator.user.email,
    ]
    incident_ids = [linked.pk, past.pk, upcoming.pk]
    start, skipped = public_urls(incident_ids, [payments.pk])
    # The JSON API, the feeds and the home page at least: a regression in the walk is not a pass.
    for name in ("index", "feed_atom", "feed_rss", "json_summary", "json_incidents"):
        assert reverse(f"statuspage:{name}") in start, (name, skipped)

    for mode in ("public", "private"):
        if mode == "private":  # Staff reading an internal status page see the same public page.
            settings_set(private=True)
            client.force_login(operator.user)
        bodies = everything_public(client, start)
        assert reverse("statuspage:json_summary") in bodies
        shown = bodies[reverse("statuspage:json_incidents")]
        assert "We have found the cause of failed payments" in shown  # The published update is there.
        for url, body in bodies.items():
            readable = readable_forms(body)
            leaks = [secret for secret in internal if secret.lower() in readable]
            assert not leaks, f"{mode} {url} shows {leaks}"

"""Create incident from alert: the form's prefill (title, priority from the rule or the severity,
services from the rule, description), the responder's changes going through the one
alert_incident_create, the refusal for an alert already in an incident, hostile alert text shown
escaped, and the page's query count."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from alerts.incident_prefill import alert_incident_prefill
from alerts.models import Alert
from alerts.services import alert_rule_save
from alerts.services.processing import alert_incident_create
from common.actor import Actor, Source
from incidents.choices import EventKind
from incidents.models import Incident
from tests.hostile import HOSTILE

pytestmark = pytest.mark.django_db

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def form_url(alert: Alert) -> str:
    return reverse("admin:alerts_alert_create_incident", args=[alert.pk])


def make_alert(source, name: str = "CheckoutErrors", severity: str = "critical", **kwargs) -> Alert:
    now = timezone.now()
    kwargs.setdefault("labels", {"alertname": name, "severity": severity, "instance": "web-1"})
    kwargs.setdefault(
        "annotations",
        {
            "summary": "5xx above 5%",
            "description": "Checkout fails for many users.",
            "runbook": "wiki/checkout",
        },
    )
    return Alert.objects.create(
        source=source,
        fingerprint=f"fp-{name}-{Alert.objects.count()}",
        name=name,
        severity=severity,
        starts_at=now,
        received_at=now,
        last_received_at=now,
        **kwargs,
    )


@pytest.fixture
def checkout_rule(service_factory, priorities):
    service = service_factory(name="Checkout", slug="checkout")
    return alert_rule_save(
        by=Actor.system(),
        data={
            "name": "Checkout errors",
            "matchers": [{"label": "alertname", "op": "eq", "value": "CheckoutErrors"}],
            "priority": priorities["P4"],
            "service": service,
        },
    )


# --- Prefill -----------------------------------------------------------------------------------------


def test_prefill_without_a_rule_maps_the_severity(source, priorities):
    alert = make_alert(source, name="DiskFull", severity="critical")

    prefill = alert_incident_prefill(alert=alert)

    assert prefill.title == "DiskFull: 5xx above 5%"
    assert prefill.priority == priorities["P1"]
    assert (prefill.services, prefill.rule, prefill.priority_source) == ([], None, "severity critical")
    assert prefill.description.startswith("Checkout fails for many users.\n")
    for line in ("- instance: web-1", "- severity: critical", "- runbook: wiki/checkout"):
        assert line in prefill.description.splitlines()


def test_prefill_takes_priority_and_services_from_the_matching_rule(source, checkout_rule, priorities):
    alert = make_alert(source, severity="critical")

    prefill = alert_incident_prefill(alert=alert)

    assert prefill.priority == priorities["P4"]
    assert [s.slug for s in prefill.services] == ["checkout"]
    assert (prefill.rule, prefill.priority_source) == (checkout_rule, "rule Checkout errors")


def test_form_is_prefilled_from_the_alert(admin_client, source, checkout_rule, priorities):
    alert = make_alert(source)

    response = admin_client.get(form_url(alert))

    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["title"] == "CheckoutErrors: 5xx above 5%"
    assert form.initial["priority"] == priorities["P4"]
    assert form.initial["description"] == alert_incident_prefill(alert=alert).description
    html = response.content.decode()
    assert "Checkout errors" in html and "Checkout" in html
    assert reverse("admin:alerts_alertrule_change", args=[checkout_rule.pk]) in html


# --- Creating ----------------------------------------------------------------------------------------


def test_responder_changes_the_prefill_before_creating(
    client, source, checkout_rule, priorities, user_factory
):
    responder = user_factory(username="ana", groups=["Responder"])
    oncall = user_factory(username="bo", groups=["Responder"])
    alert = make_alert(source)
    client.force_login(responder)

    response = client.post(
        form_url(alert),
        {
            "title": "Checkout down in eu-west",
            "priority": priorities["P1"].pk,
            "assignee": oncall.pk,
            "description": "Customers cannot pay.",
        },
    )

    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:incidents_incident_change", args=[incident.pk])
    assert (incident.title, incident.priority, incident.assignee, incident.description) == (
        "Checkout down in eu-west",
        priorities["P1"],
        oncall,
        "Customers cannot pay.",
    )
    assert [s.slug for s in incident.services.all()] == ["checkout"]
    assert incident.created_by == responder
    alert.refresh_from_db()
    assert alert.incident == incident and not alert.opened_incident
    [attached] = incident.timeline_events.filter(kind=EventKind.ALERT_ATTACHED)
    assert attached.actor == responder
    assert attached.message == "ana opened this incident from alert CheckoutErrors."
    assert attached.details["changed_from_alert"] == ["description", "priority", "title"]
    assert attached.details["alert"] == alert.pk


def test_creating_with_the_prefill_as_it_is(admin_client, source, admin_user):
    alert = make_alert(source, name="DiskFull", severity="warning")
    page = admin_client.get(form_url(alert))
    initial = page.context["form"].initial

    response = admin_client.post(
        form_url(alert),
        {
            "title": initial["title"],
            "priority": initial["priority"].pk,
            "description": initial["description"],
        },
    )

    assert response.status_code == 302
    incident = Incident.objects.get()
    assert (incident.title, incident.priority.code, incident.assignee) == (
        "DiskFull: 5xx above 5%",
        "P3",
        None,
    )
    [attached] = incident.timeline_events.filter(kind=EventKind.ALERT_ATTACHED)
    assert attached.details["changed_from_alert"] == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"title": ""}, "title"), ({"title": "x" * 201}, "title"), ({"priority": "999999"}, "priority")],
)
def test_bad_input_is_a_form_error_and_creates_nothing(admin_client, source, priorities, changes, field):
    alert = make_alert(source)
    data = {"title": "Checkout", "priority": priorities["P2"].pk, "description": "", **changes}

    response = admin_client.post(form_url(alert), data)

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Incident.objects.exists()
    assert Alert.objects.get(pk=alert.pk).incident is None


def test_service_refuses_a_blank_title_and_writes_nothing(source, responder):
    alert = make_alert(source)
    with pytest.raises(ValidationError) as exc:
        alert_incident_create(alert=alert, by=Actor(user=responder, source=Source.API), title="   ")
    assert "title" in exc.value.message_dict
    assert not Incident.objects.exists()
    assert Alert.objects.get(pk=alert.pk).incident is None


# --- Refusals ----------------------------------------------------------------------------------------


def test_an_alert_already_in_an_incident_is_refused_with_a_link(admin_client, source, priorities):
    alert = make_alert(source)
    admin_client.post(form_url(alert), {"title": "First", "priority": priorities["P2"].pk, "description": ""})
    incident = Incident.objects.get()

    page = admin_client.get(form_url(alert))
    again = admin_client.post(form_url(alert), {"title": "Second", "priority": priorities["P2"].pk})

    assert page.status_code == 200 and "form" not in page.context
    html = page.content.decode()
    assert "already belongs to" in html
    assert reverse("admin:incidents_incident_change", args=[incident.pk]) in html
    assert again.status_code == 409
    assert Incident.objects.count() == 1


def test_a_viewer_may_not_create(client, viewer, source, priorities):
    alert = make_alert(source)
    client.force_login(viewer)
    assert client.get(form_url(alert)).status_code == 403
    assert client.post(form_url(alert), {"title": "x", "priority": priorities["P2"].pk}).status_code == 403
    assert not Incident.objects.exists()


def test_an_unknown_alert_is_404(admin_client):
    assert admin_client.get(reverse("admin:alerts_alert_create_incident", args=[999999])).status_code == 404
    assert admin_client.get("/admin/alerts/alert/abc/create-incident/").status_code == 404


# --- Where the form is offered -----------------------------------------------------------------------


def test_alert_page_and_list_link_to_the_form_until_the_alert_is_in_an_incident(
    admin_client, source, priorities
):
    alert = make_alert(source)
    change = reverse("admin:alerts_alert_change", args=[alert.pk])
    changelist = reverse("admin:alerts_alert_changelist")
    assert form_url(alert) in admin_client.get(change).content.decode()
    assert form_url(alert) in admin_client.get(changelist).content.decode()

    alert_incident_create(alert=alert, by=Actor.system())

    assert form_url(alert) not in admin_client.get(change).content.decode()
    assert form_url(alert) not in admin_client.get(changelist).content.decode()


# --- Hostile text ------------------------------------------------------------------------------------


def test_hostile_alert_text_is_shown_escaped(admin_client, source):
    values = {**HOSTILE, "html": XSS}
    alert = make_alert(
        source,
        name=XSS[:255],
        labels={f"label{n}": value for n, value in enumerate(values.values())},
        annotations={"summary": XSS, "description": "\n".join(values.values())},
    )

    response = admin_client.get(form_url(alert))

    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html
    form = response.context["form"]
    assert form.initial["description"] == alert_incident_prefill(alert=alert).description


@pytest.mark.parametrize("name", ["command substitution", "quotes mixed", "unicode", "newline"])
def test_hostile_text_creates_an_incident_as_written(admin_client, source, priorities, name):
    value = HOSTILE[name]
    alert = make_alert(source, annotations={"summary": value, "description": value})
    page = admin_client.get(form_url(alert))
    initial = page.context["form"].initial

    response = admin_client.post(
        form_url(alert),
        {"title": initial["title"], "priority": priorities["P3"].pk, "description": initial["description"]},
    )

    assert response.status_code == 302
    incident = Incident.objects.get()
    assert incident.title == " ".join(initial["title"].split())
    assert value.strip() in incident.description


# --- Queries -----------------------------------------------------------------------------------------


def test_form_page_runs_a_fixed_number_of_queries(
    admin_client, source, checkout_rule, user_factory, django_assert_num_queries
):
    alert = make_alert(source)
    admin_client.get(form_url(alert))  # Warm the session and the content types.
    # 9: the matched rules have no responses, so theirs are not read (alerts.selectors._enabled_rules).
    with django_assert_num_queries(9):
        admin_client.get(form_url(alert))
    for n in range(5):
        user_factory(username=f"responder{n}", groups=["Responder"])
        alert_rule_save(
            by=Actor.system(),
            data={
                "name": f"Rule {n}",
                "matchers": [{"label": "alertname", "op": "eq", "value": "CheckoutErrors"}],
            },
        )
    with django_assert_num_queries(9):
        response = admin_client.get(form_url(alert))
    assert response.status_code == 200

"""The drills admin: a scenario's Start button, a run's Cancel button and timings, the report page
(timings, responders, edit through the service, Markdown download), schedules, and changelists at
a constant number of queries."""

import pytest
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from common.actor import Actor, Source
from drills.choices import DrillStatus
from drills.models import DrillReport, DrillRun, DrillScenario, DrillSchedule
from drills.services import drill_run_cancel, drill_run_start
from incidents.services import incident_acknowledge
from tests.admin_support import change_url, changelist, flashed, form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def responder_client(client, responder):
    client.force_login(responder)
    return client


@pytest.fixture
def admin_client_(client, admin_user):
    client.force_login(admin_user)
    return client


def start_url(scenario) -> str:
    return reverse("admin:drills_drillscenario_start", args=[scenario.pk])


def test_the_scenario_page_has_a_start_button_that_starts_a_drill(responder_client, responder, scenario):
    made = scenario()
    page = responder_client.get(change_url(made))
    assert page.status_code == 200 and 'data-tool="start-drill"' in page.content.decode()

    response = responder_client.post(start_url(made))

    run = DrillRun.objects.get()
    assert response.status_code == 302 and response.url == change_url(run)
    assert run.status == DrillStatus.RUNNING and run.incident.is_drill
    assert run.started_by == responder and list(run.participants.all()) == [responder]


def test_start_is_a_post_and_needs_the_permission(client, viewer, scenario):
    made = scenario()
    client.force_login(viewer)
    assert client.get(start_url(made)).status_code == 405
    assert client.post(start_url(made)).status_code == 403
    assert 'data-tool="start-drill"' not in client.get(change_url(made)).content.decode()
    assert not DrillRun.objects.exists()


def test_a_refused_start_is_a_message_not_an_error(responder_client, scenario):
    made = scenario(enabled=False)
    response = responder_client.post(start_url(made), follow=True)
    assert response.status_code == 200
    assert any("disabled" in message for message in flashed(response))
    assert not DrillRun.objects.exists()


def test_the_run_page_shows_timings_and_cancels_with_a_reason(responder_client, responder, scenario):
    run = drill_run_start(scenario=scenario(), by=Actor(user=responder, source=Source.ADMIN))
    incident_acknowledge(incident=run.incident, by=Actor(user=responder, source=Source.ADMIN))

    page = responder_client.get(change_url(run)).content.decode()
    assert 'data-tool="cancel-drill"' in page
    assert 'data-timing="acknowledge"' in page and run.incident.reference in page

    response = responder_client.post(
        reverse("admin:drills_drillrun_cancel", args=[run.pk]), {"reason": "Real incident"}
    )
    assert response.status_code == 302
    run = DrillRun.objects.get(pk=run.pk)
    assert run.status == DrillStatus.CANCELLED and run.cancel_reason == "Real incident"
    assert 'data-tool="cancel-drill"' not in responder_client.get(change_url(run)).content.decode()

    again = responder_client.post(reverse("admin:drills_drillrun_cancel", args=[run.pk]), follow=True)
    assert any("cancelled already" in message for message in flashed(again))


def test_the_report_page_shows_timings_and_responders_and_saves_through_the_service(
    responder_client, responder, scenario
):
    by = Actor(user=responder, source=Source.ADMIN)
    run = drill_run_start(scenario=scenario(), by=by)
    incident_acknowledge(incident=run.incident, by=by)
    drill_run_cancel(run=run, by=by)
    report = DrillReport.objects.get(run=run)

    page = responder_client.get(change_url(report))
    html = page.content.decode()
    assert 'data-timing="detect"' in html and 'data-timing="resolve"' in html
    assert "Time to acknowledge" in html and "<li>responder (Assignee)</li>" in html
    assert 'data-tool="drill-report-markdown"' in html

    bad = responder_client.post(change_url(report), form_data(page, score="11"))
    assert bad.status_code == 200 and bad.context["adminform"].form.errors
    assert DrillReport.objects.get(pk=report.pk).score is None

    saved = responder_client.post(change_url(report), form_data(page, score="9", observations="Quick."))
    assert saved.status_code == 302
    report = DrillReport.objects.get(pk=report.pk)
    assert (report.score, report.observations) == (9, "Quick.")

    download = responder_client.get(reverse("admin:drills_drillreport_markdown", args=[report.pk]))
    assert download.status_code == 200 and download["Content-Type"].startswith("text/markdown")
    assert "**Score**: 9/10" in download.content.decode()


def test_an_admin_adds_a_scenario_through_the_form(admin_client_, priorities):
    page = admin_client_.get(reverse("admin:drills_drillscenario_add"))
    data = form_data(page, name="Memory pressure", kind="memory_pressure", priority=str(priorities["P3"].pk))
    data.update(alert_labels="{}", alert_annotations="{}")
    response = admin_client_.post(reverse("admin:drills_drillscenario_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert DrillScenario.objects.get().priority == priorities["P3"]

    refused = admin_client_.post(
        reverse("admin:drills_drillscenario_add"),
        {**data, "name": "Synthetic", "start_mode": "synthetic_alert"},
    )
    assert refused.status_code == 200 and "source" in refused.context["adminform"].form.errors


def test_an_admin_schedules_a_drill_with_a_crontab(admin_client_, scenario, responder):
    made = scenario()
    add = reverse("admin:drills_drillschedule_add")
    page = admin_client_.get(add)
    data = form_data(
        page,
        name="Monthly DB drill",
        scenario=str(made.pk),
        crontab="0 10 1 * *",
        participants=[str(responder.pk)],
    )
    response = admin_client_.post(add, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    schedule = DrillSchedule.objects.get()
    assert list(schedule.participants.all()) == [responder]
    assert schedule.periodic_task.task == "drills.tasks.start_scheduled_drill"
    assert (schedule.periodic_task.crontab.minute, schedule.periodic_task.crontab.day_of_month) == ("0", "1")

    bad = admin_client_.post(add, {**data, "name": "Bad", "crontab": "every day"})
    assert bad.status_code == 200 and "crontab" in bad.context["adminform"].form.errors
    assert (
        DrillSchedule.objects.count() == 1
        and PeriodicTask.objects.filter(task__startswith="drills").count() == 1
    )


@pytest.mark.parametrize("model", [DrillRun, DrillReport, DrillScenario])
def test_changelists_run_a_constant_number_of_queries(
    admin_client_, responder, scenario, django_assert_num_queries, model
):
    by = Actor(user=responder, source=Source.ADMIN)

    def make(n: int, offset: int) -> None:
        for i in range(n):
            drill_run_cancel(run=drill_run_start(scenario=scenario(name=f"S{offset + i}"), by=by), by=by)

    admin_client_.get(changelist(model))  # Warm up the session and content-type caches.
    make(1, 0)
    with django_assert_num_queries(QUERIES[model]):
        assert admin_client_.get(changelist(model)).status_code == 200
    make(5, 1)
    with django_assert_num_queries(QUERIES[model]):
        response = admin_client_.get(changelist(model))
    assert len(response.context["cl"].result_list) == 6


# Session, user, count(s), the page; runs also prefetch participants and count for the date drill-down.
QUERIES = {DrillRun: 8, DrillReport: 6, DrillScenario: 6}


def test_a_drill_incidents_page_links_to_its_drill_then_to_its_report(responder_client, responder, scenario):
    by = Actor(user=responder, source=Source.ADMIN)
    run = drill_run_start(scenario=scenario(), by=by)
    assert f'href="{change_url(run)}"' in responder_client.get(change_url(run.incident)).content.decode()

    drill_run_cancel(run=run, by=by)
    report = DrillReport.objects.get(run=run)
    assert f'href="{change_url(report)}"' in responder_client.get(change_url(run.incident)).content.decode()


def test_a_real_incidents_page_has_no_drill_button(responder_client, open_incident):
    incident = open_incident()
    assert "incident-drill" not in responder_client.get(change_url(incident)).content.decode()


def test_the_run_page_reloads_until_the_synthetic_alerts_incident_opens(
    responder_client, responder, scenario, drill_source, drill_rule
):
    from alerts.services.processing import alerts_process
    from drills.choices import StartMode

    made = scenario(start_mode=StartMode.SYNTHETIC_ALERT, source=drill_source)
    run = drill_run_start(scenario=made, by=Actor(user=responder, source=Source.ADMIN))
    waiting = responder_client.get(change_url(run)).content.decode()
    assert 'http-equiv="refresh"' in waiting and "not opened yet" in waiting

    alerts_process(alert_ids=[run.alert_id])
    opened = responder_client.get(change_url(run)).content.decode()
    assert 'http-equiv="refresh"' not in opened and "INC-" in opened

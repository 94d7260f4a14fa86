"""seed_demo (for `make run`)."""

import re
import stat
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Q
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.test import APIClient

from actions.choices import ProviderKind, TargetKind
from actions.models import Action, ActionStep, Provider
from actions.template_library import template_list
from analytics.filters import Filters
from analytics.rollups.read import split
from common.models import ApiToken
from incidents.choices import DismissalReason, EventKind, IncidentStatus
from incidents.models import Incident, RoleAssignment, Service, StatusUpdate, TimelineEvent
from postmortems.choices import POSTMORTEM_PRIORITIES, ActionItemStatus, PostmortemStatus
from postmortems.models import ActionItem, Postmortem
from tests.analytics.test_rollups import rolled_and_direct

S = IncidentStatus
TRANSITION_KINDS = {
    EventKind.ACKNOWLEDGED,
    EventKind.HELD,
    EventKind.RESUMED,
    EventKind.RESOLVED,
    EventKind.AUTO_RESOLVED,
    EventKind.REOPENED,
    EventKind.CLOSED,
    EventKind.DISMISSED,
}


def run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


CREDENTIAL = re.compile(r"^\s+(admin|alice|bob|carol)\s+(\S+)\s+(superuser|Responder|Approver|Viewer)$", re.M)


def login_request():
    # django-axes (login lockout) needs the request the credentials came with.
    return RequestFactory().post("/admin/login/")


def passwords(out: str) -> dict[str, str]:
    found = {user: password for user, password, _ in CREDENTIAL.findall(out)}
    assert set(found) == {"admin", "alice", "bob", "carol"}
    return found


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            Incident,
            TimelineEvent,
            StatusUpdate,
            RoleAssignment,
            Service,
            get_user_model(),
            Provider,
            Action,
            ActionStep,
            Postmortem,
            ActionItem,
        )
    }


class TestSeedDemo:
    @pytest.fixture(autouse=True)
    def debug(self, db, settings, tmp_path):
        settings.DEBUG = True
        settings.VAR_DIR = tmp_path  # The demo's alert token file stays out of the real var/.
        settings.WEB_PORT = 8000  # Whatever PORT the test run was started with.

    def test_creates_a_catalog_users_and_incidents(self):
        out = run("seed_demo", "--no-history")

        assert Service.objects.count() >= 5
        assert all(s.owner_team and s.runbook_url.startswith("https://") for s in Service.objects.all())
        incidents = list(Incident.objects.all())
        assert len(incidents) >= 8
        assert {i.status for i in incidents} == set(S)
        assert "8 demo incidents created" in out

    def test_builds_the_analytics_rollups_so_the_dashboard_reads_them(self):
        run("seed_demo", "--no-history")

        year = Filters.last(365)
        assert split(year) is not None  # the rollups answer
        rolled, direct = rolled_and_direct(year)
        assert rolled == direct

    def test_covers_the_interesting_cases(self):
        run("seed_demo", "--no-history")
        worked = Incident.objects.get(status=S.IN_PROGRESS)
        assert worked.phase
        assert worked.status_updates.values("phase").distinct().count() >= 3
        assert worked.status_updates.filter(visibility="public").exists()
        duplicate = Incident.objects.get(dismissal_reason=DismissalReason.DUPLICATE)
        assert duplicate.status == S.CLOSED and duplicate.duplicate_of is not None
        assert Incident.objects.filter(is_drill=True).exists()
        assert TimelineEvent.objects.filter(kind=EventKind.AUTO_RESOLVED).exists()
        assert Incident.objects.filter(reopen_count__gt=0).exists()
        for kind in (EventKind.PRIORITY_CHANGED, EventKind.ROLE_ASSIGNED, EventKind.NOTE, EventKind.HELD):
            assert TimelineEvent.objects.filter(kind=kind).exists(), kind
        assert Incident.objects.exclude(commander=None).exists()

    def test_closed_p1_and_p2_incidents_have_their_postmortem_in_review_at_least(self):
        run("seed_demo", "--no-history")
        closed = Incident.objects.filter(status=S.CLOSED, priority__code__in=POSTMORTEM_PRIORITIES)
        assert closed.exists()
        for incident in closed:
            postmortem = Postmortem.objects.get(incident=incident)
            assert postmortem.status in (PostmortemStatus.IN_REVIEW, PostmortemStatus.PUBLISHED), incident
            assert postmortem.submitted_at is not None and postmortem.submitted_at <= incident.closed_at
        # A resolved P1/P2 got its draft, as the worker would have made it.
        for incident in Incident.objects.filter(status=S.RESOLVED, priority__code__in=POSTMORTEM_PRIORITIES):
            assert Postmortem.objects.filter(incident=incident).exists(), incident

    def test_a_published_postmortem_with_its_action_items(self):
        run("seed_demo", "--no-history")
        postmortem = Postmortem.objects.get(status=PostmortemStatus.PUBLISHED)
        incident = postmortem.incident
        assert incident.priority.code in POSTMORTEM_PRIORITIES and incident.status == S.CLOSED
        assert postmortem.published_at <= incident.closed_at
        assert (
            incident.resolved_at
            <= postmortem.created_at
            <= postmortem.submitted_at
            <= postmortem.published_at
        )
        for field in (
            "executive_summary",
            "users_affected",
            "failed_transactions",
            "financial_impact",
            "detection",
            "root_cause",
            "resolution",
            "lessons_learned",
        ):
            assert getattr(postmortem, field).strip(), field
        assert len(postmortem.five_whys) == 5
        assert all(why["question"].endswith("?") and why["answer"] for why in postmortem.five_whys)
        for field in ("contributing_factors", "what_went_well", "what_could_be_improved"):
            assert len(getattr(postmortem, field).splitlines()) >= 2, field
        assert postmortem.supporting_links and all(
            link["title"] and link["url"].startswith("https://") for link in postmortem.supporting_links
        )
        assert postmortem.authors.exists()
        assert set(postmortem.services_impacted.all()) == set(incident.services.all())
        # Published by someone allowed to publish, and on the incident's timeline.
        published = TimelineEvent.objects.get(
            incident=incident, kind=EventKind.POSTMORTEM, details__status=PostmortemStatus.PUBLISHED
        )
        assert published.actor.has_perm("postmortems.publish_postmortem")

        items = list(postmortem.action_items.select_related("owner"))
        assert 3 <= len(items) <= 4
        today = timezone.localdate()
        statuses = {item.status for item in items}
        assert {ActionItemStatus.DONE, ActionItemStatus.IN_PROGRESS, ActionItemStatus.OPEN} <= statuses
        assert any(
            i.status in (ActionItemStatus.OPEN, ActionItemStatus.IN_PROGRESS) and i.due_date < today
            for i in items
        )
        assert all(i.completed_at for i in items if i.status == ActionItemStatus.DONE)
        assert {i.owner.username for i in items} <= {"admin", "alice", "bob"}
        assert len({i.kind for i in items}) >= 3

    def test_timelines_are_consistent_and_in_the_last_two_weeks(self):
        run("seed_demo", "--no-history")
        now = timezone.now()
        for incident in Incident.objects.all():
            stamps = [
                incident.started_at,
                incident.detected_at,
                incident.acknowledged_at,
                incident.resolved_at,
                incident.closed_at,
            ]
            stamps = [t for t in stamps if t is not None]
            assert stamps == sorted(stamps), incident
            assert now - timedelta(days=14) <= incident.started_at
            assert incident.closed_at is None or incident.closed_at <= now

            timeline = list(TimelineEvent.objects.filter(incident=incident).order_by("id"))
            times = [e.occurred_at for e in timeline]
            assert times == sorted(times), incident
            assert timeline[0].kind == EventKind.CREATED
            assert timeline[0].occurred_at == incident.detected_at == incident.created_at
            assert times[-1] <= now
            # Written by the services: each transition starts where the previous one ended.
            status = S.NEW
            for event in timeline:
                if event.kind in TRANSITION_KINDS:
                    assert event.details["from"] == status, (incident, event)
                    status = event.details["to"]
            assert status == incident.status, incident

            acknowledged = [e.occurred_at for e in timeline if e.kind == EventKind.ACKNOWLEDGED]
            assert incident.acknowledged_at == (acknowledged[0] if acknowledged else None)
            for update in incident.status_updates.all():
                assert incident.detected_at <= update.created_at <= now
                event = TimelineEvent.objects.get(
                    kind=EventKind.STATUS_UPDATE, details__status_update=update.pk
                )
                assert event.occurred_at == update.created_at
            if incident.next_update_due_at:
                assert incident.next_update_due_at == (
                    max(acknowledged + [u.created_at for u in incident.status_updates.all()])
                    + incident.priority.update_interval
                )

    def test_users_passwords_and_token(self):
        out = run("seed_demo", "--no-history")
        user_model = get_user_model()
        admin = user_model.objects.get(username="admin")
        assert admin.is_superuser and admin.is_staff
        for username, group in [("alice", "Responder"), ("bob", "Approver"), ("carol", "Viewer")]:
            user = user_model.objects.get(username=username)
            assert user.is_staff and not user.is_superuser
            assert list(user.groups.values_list("name", flat=True)) == [group]
        for username, password in passwords(out).items():
            assert authenticate(login_request(), username=username, password=password) is not None, username
            assert len(password) >= 16
        key = re.search(r"API token \(admin\): (\S+)", out).group(1)
        assert APIClient(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/incidents/").status_code == 200
        # Only the hash is stored: the key appears nowhere in the database.
        assert not ApiToken.objects.filter(Q(digest=key) | Q(prefix=key) | Q(name=key)).exists()
        assert "http://127.0.0.1:8000/admin/" in out
        assert "http://127.0.0.1:8000/api/docs/" in out

    def test_running_again_adds_nothing_but_fresh_passwords(self):
        first = run("seed_demo", "--no-history")
        before = counts()
        first_key = re.search(r"API token \(admin\): (\S+)", first).group(1)

        second = run("seed_demo", "--no-history")

        assert counts() == before
        assert "none added" in second
        assert "Post-mortems: 2 (1 published), 4 action items." in second
        old, new = passwords(first), passwords(second)
        for username in old:
            assert old[username] != new[username]
            assert authenticate(login_request(), username=username, password=old[username]) is None
            assert authenticate(login_request(), username=username, password=new[username]) is not None
        # A new key each run, like the passwords; the previous one is revoked.
        second_key = re.search(r"API token \(admin\): (\S+)", second).group(1)
        assert second_key != first_key
        assert APIClient(HTTP_AUTHORIZATION=f"Token {first_key}").get("/api/v1/incidents/").status_code == 401
        assert (
            APIClient(HTTP_AUTHORIZATION=f"Token {second_key}").get("/api/v1/incidents/").status_code == 200
        )
        assert ApiToken.objects.filter(user__username="admin", revoked_at__isnull=True).count() == 1

    def test_leaves_existing_incidents_alone(self, open_incident):
        mine = open_incident()
        out = run("seed_demo", "--no-history")
        assert list(Incident.objects.all()) == [mine]
        assert "1 incidents already present, none added" in out
        assert Service.objects.filter(slug="web").exists()
        passwords(out)

    def test_urls_follow_the_port(self, settings):
        settings.WEB_PORT = 9123  # PORT, or MITIGATE_WEB_PORT under honcho (config/settings.py)
        out = run("seed_demo", "--no-history")
        assert "http://127.0.0.1:9123/admin/" in out
        assert "http://127.0.0.1:9123/api/docs/" in out
        assert ":8000" not in out
        # Another terminal has no PORT: the printed command names the server.
        assert "send_test_alert --source prometheus --url http://127.0.0.1:9123\n" in out

    def test_the_banner_is_filed_for_make_run_to_print_last(self, settings, tmp_path):
        out = run("seed_demo", "--no-history")

        banner = (tmp_path / "demo-banner.txt").read_text()
        assert banner.startswith("=" * 72 + "\nMitigate demo\n") and banner.strip() in out
        assert "send_test_alert --source prometheus\n" in banner  # The default port: no --url.
        assert stat.S_IMODE((tmp_path / "demo-banner.txt").stat().st_mode) == 0o600  # Passwords.

    def test_refuses_to_run_with_debug_off(self, settings):
        settings.DEBUG = False
        with pytest.raises(CommandError, match="DEBUG"):
            run("seed_demo", "--no-history")
        assert counts() == {name: 0 for name in counts()}
        run("seed_demo", "--no-history", force=True)
        assert Incident.objects.count() >= 8

    def test_clones_every_action_template_onto_the_worker(self, settings):
        settings.ALLOW_LOCAL_PROVIDER = True
        out = run("seed_demo", "--no-history")

        worker = Provider.objects.get(name="this-worker")
        assert (worker.kind, worker.enabled) == (ProviderKind.LOCAL, True)
        actions = {a.template_key: a for a in Action.objects.prefetch_related("steps")}
        assert set(actions) == {t.key for t in template_list()}
        for action in actions.values():
            steps = list(action.steps.all())
            assert steps and all(s.target_kind == TargetKind.PROVIDER and s.provider == worker for s in steps)
        # What can run on the worker reads, or writes under /tmp; the rest waits for a real host.
        assert {k for k, a in actions.items() if a.enabled} == {"health-check", "log-collection"}
        disabled = [a for a in actions.values() if not a.enabled]
        assert all(a.description.startswith("Disabled in the demo") for a in disabled)
        endpoint = next(p for p in actions["health-check"].parameters if p["name"] == "endpoint")
        assert endpoint["default"] == "http://127.0.0.1:8000/admin/login/"
        assert f"Actions: {len(actions)} new from the templates" in out
        assert "pick Health check" in out

        before = counts()
        again = run("seed_demo", "--no-history")
        assert counts() == before
        assert "Actions: 0 new" in again

    def test_leaves_actions_out_without_local_providers(self, settings):
        settings.ALLOW_LOCAL_PROVIDER = False
        out = run("seed_demo", "--no-history")
        assert not Provider.objects.exists() and not Action.objects.exists()
        assert "ALLOW_LOCAL_PROVIDER is off" in out
        assert "Run action" not in out

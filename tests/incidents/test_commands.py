"""Management commands: open_incident (for scripts)."""

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError
from django.db import connections

from incidents.choices import EventKind
from incidents.models import Incident, IncidentSequence, TimelineEvent


def run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def nothing_written() -> bool:
    return not (
        Incident.objects.exists() or TimelineEvent.objects.exists() or IncidentSequence.objects.exists()
    )


class TestOpenIncident:
    @pytest.fixture(autouse=True)
    def catalog(self, service_factory):
        service_factory(slug="web", name="Web storefront")
        service_factory(slug="auth-sso", name="Auth / SSO")

    def test_prints_only_the_reference(self):
        out = run("open_incident", "--priority", "P2", "--service", "web", "--title", "Checkout returns 502")
        incident = Incident.objects.get()
        assert out == f"{incident.reference}\n"
        assert re.fullmatch(r"INC-\d{4}-0001", incident.reference)

    def test_opens_through_the_service_as_the_system(self):
        reference = run(
            "open_incident",
            "--priority=p1",
            "--service=web",
            "--service=Auth / SSO",
            "--title=Sign-in fails",
            "--description=Login returns 500 for every user.",
            "--source=log-monitor",
        ).strip()
        incident = Incident.objects.get(reference=reference)
        assert (incident.title, incident.description, incident.priority.code, incident.is_drill) == (
            "Sign-in fails",
            "Login returns 500 for every user.",
            "P1",
            False,
        )
        assert set(incident.services.values_list("slug", flat=True)) == {"web", "auth-sso"}
        assert incident.created_by is None
        assert incident.response_due_at == incident.detected_at + timedelta(minutes=15)
        [created] = TimelineEvent.objects.filter(incident=incident)
        assert (created.kind, created.actor, created.actor_name, created.source) == (
            EventKind.CREATED,
            None,
            "log-monitor",
            "cli",
        )
        assert created.details == {
            "priority": "P1",
            "phase": "triage",
            "services": ["web", "auth-sso"],
            "is_drill": False,
            "origin": "log-monitor",
        }

    def test_drill_and_default_source(self):
        reference = run("open_incident", "--priority", "P4", "--title", "Game day", "--drill").strip()
        incident = Incident.objects.get(reference=reference)
        assert incident.is_drill
        assert not incident.services.exists()
        assert TimelineEvent.objects.get(incident=incident).actor_name == "cli"

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (
                ["--priority", "P9", "--service", "web"],
                "Unknown priority 'P9'; choose one of P1, P2, P3, P4, P5.",
            ),
            (
                ["--priority", "P2", "--service", "web", "--service", "mainframe"],
                "Unknown service 'mainframe'",
            ),
            (["--priority", "P2", "--title", "   "], "title:"),
            (["--priority", "P2", "--source", "x" * 151], "--source is limited to 150 characters."),
        ],
    )
    def test_bad_input_is_a_command_error_and_writes_nothing(self, args, message):
        if "--title" not in args:
            args = [*args, "--title", "Checkout returns 502"]
        with pytest.raises(CommandError) as exc:
            run("open_incident", *args)
        assert message in str(exc.value)
        assert nothing_written()

    def test_a_missing_argument_is_refused(self):
        with pytest.raises(CommandError, match="--title"):
            run("open_incident", "--priority", "P2")
        assert nothing_written()

    @pytest.fixture
    def keep_connection(self, monkeypatch):
        """run_from_argv closes every connection when done, the test's transaction with it."""
        monkeypatch.setattr(connections, "close_all", lambda: None)

    def test_exits_non_zero_from_the_command_line(self, capsys, keep_connection):
        with pytest.raises(SystemExit) as exc:
            execute_from_command_line(["manage.py", "open_incident", "--priority", "P0", "--title", "Down"])
        assert exc.value.code == 1
        captured = capsys.readouterr()
        assert captured.out == ""
        assert "Unknown priority 'P0'" in captured.err
        assert nothing_written()

    def test_succeeds_from_the_command_line(self, capsys, keep_connection):
        execute_from_command_line(
            ["manage.py", "open_incident", "--priority", "P3", "--title", "Slow search"]
        )
        assert capsys.readouterr().out == f"{Incident.objects.get().reference}\n"

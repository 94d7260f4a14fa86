"""The generic payload parser on fixtures written from its specification. Pure unit tests: no database."""

from datetime import UTC, datetime

from alerts.parsers import parse_generic
from tests.alerts.conftest import load
from tests.alerts.support import utc

NOW = datetime(2024, 3, 5, 12, 0, tzinfo=UTC)


def test_generic_single():
    parsed = parse_generic(load("generic_single.json"), now=NOW)
    assert parsed.group_key == ""
    assert parsed.receiver == ""
    assert parsed.truncated_alerts == 0
    [alert] = parsed.alerts
    assert alert.fingerprint == "backup-db-1"
    assert alert.name == "Backup job failed on db-1"
    assert alert.status == "firing"
    assert alert.severity == "critical"
    assert alert.labels == {"service": "postgres", "host": "db-1"}
    assert alert.annotations == {
        "summary": "pg_dump exited 1",
        "runbook_url": "https://wiki.example.com/backups",
    }
    assert alert.starts_at == utc(2024, 3, 5, 2, 0, 5)
    assert alert.ends_at is None
    assert alert.generator_url == "https://cron.example.com/jobs/backup-db-1"
    assert alert.extra == {}


def test_generic_batch():
    parsed = parse_generic(load("generic_batch.json"), now=NOW)
    cert, health = parsed.alerts
    assert cert.name == "Certificate expires in 7 days"
    assert cert.status == "firing"
    assert cert.severity == "warning"
    assert cert.starts_at == utc(2024, 3, 5, 5, 0)
    assert cert.ends_at is None
    assert cert.fingerprint == "c836aae9dcb334db"
    assert health.name == "Health check failing"
    assert health.status == "resolved"
    assert health.severity == "high"  # from the severity label
    assert health.annotations == {}
    assert health.starts_at == utc(2024, 3, 5, 5, 10)
    assert health.ends_at == utc(2024, 3, 5, 5, 14, 27, 250000)


def test_generic_minimal():
    [alert] = parse_generic(load("generic_minimal.json"), now=NOW).alerts
    assert alert.name == "Nightly import did not run"
    assert alert.status == "firing"
    assert alert.severity == ""
    assert alert.labels == {}
    assert alert.annotations == {}
    assert alert.starts_at == NOW
    assert alert.ends_at is None
    assert alert.generator_url == ""
    assert alert.fingerprint == "2e9d69cb22b79672"


def test_generic_default_now_is_the_current_time():
    before = datetime.now(UTC)
    [alert] = parse_generic({"title": "x"}).alerts
    assert before <= alert.starts_at <= datetime.now(UTC)
    assert alert.starts_at.tzinfo is UTC


def test_generic_resolved_without_ends_at_ends_now():
    [alert] = parse_generic({"title": "x", "status": "resolved"}, now=NOW).alerts
    assert alert.ends_at == NOW


def test_generic_firing_ignores_ends_at():
    [alert] = parse_generic({"title": "x", "ends_at": "2024-03-05T10:00:00Z"}, now=NOW).alerts
    assert alert.ends_at is None


def test_generic_empty_batch_is_valid():
    assert parse_generic({"alerts": []}).alerts == []


def test_generic_fingerprint_depends_on_title_and_labels_not_on_time():
    first = parse_generic(
        {"title": "Disk full", "labels": {"host": "a"}, "starts_at": "2024-03-05T10:00:00Z"}
    )
    again = parse_generic({"labels": {"host": "a"}, "title": "Disk full"}, now=NOW)
    other_title = parse_generic({"title": "Disk nearly full", "labels": {"host": "a"}})
    other_host = parse_generic({"title": "Disk full", "labels": {"host": "b"}})
    fingerprints = [p.alerts[0].fingerprint for p in (first, again, other_title, other_host)]
    assert fingerprints[0] == fingerprints[1]
    assert len(set(fingerprints)) == 3

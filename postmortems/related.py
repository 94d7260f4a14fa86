"""Knowledge from the past: earlier incidents that look like this one — on the same services, fired
by the same alerts, or with a similar title — most recent first, each with what its post-mortem
found. The database does the matching (trigram similarity on PostgreSQL, a word match on SQLite),
in a fixed number of queries however many incidents there are."""

import re
from dataclasses import dataclass

from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection
from django.db.models import Q, QuerySet

from alerts.models import Alert
from incidents.models import Incident
from postmortems.models import Postmortem

# pg_trgm's own default threshold for `%`: titles sharing about a third of their trigrams.
SIMILARITY_THRESHOLD = 0.3
# The SQLite fallback matches titles sharing one of these many of the longest words.
TITLE_WORDS = 4
STOPWORDS = {"with", "from", "when", "after", "into", "than", "that", "this", "have", "were", "does"}
ROOT_CAUSE_CHARS = 300


@dataclass(frozen=True)
class RelatedIncident:
    incident: Incident
    reasons: list[str]
    root_cause: str
    postmortem: Postmortem | None


def title_words(title: str) -> list[str]:
    """The longest distinctive words of a title, lower-cased: what the SQLite fallback matches on."""
    words = {w for w in re.findall(r"[a-z0-9]+", title.lower()) if len(w) >= 4 and w not in STOPWORDS}
    return sorted(words, key=lambda w: (-len(w), w))[:TITLE_WORDS]


def _on_postgres() -> bool:
    return connection.vendor == "postgresql"


def _title_match(qs: QuerySet[Incident], title: str) -> tuple[QuerySet[Incident], Q]:
    if _on_postgres():
        return qs.annotate(similarity=TrigramSimilarity("title", title)), Q(
            similarity__gte=SIMILARITY_THRESHOLD
        )
    condition = Q(pk__in=[])
    for word in title_words(title):
        condition |= Q(title__icontains=word)
    return qs, condition


def incidents_related(*, incident: Incident, limit: int = 10) -> list[RelatedIncident]:
    """Up to `limit` incidents detected before this one that share a service or an alert name with
    it or have a similar title, most recent first, with the reasons and their post-mortem's root
    cause. Drills are left out: they are not history."""
    service_ids = list(incident.services.values_list("pk", flat=True))
    alert_names = sorted(
        set(Alert.objects.filter(incident=incident).exclude(name="").values_list("name", flat=True))
    )
    earlier = Incident.objects.filter(detected_at__lt=incident.detected_at, is_drill=False).exclude(
        pk=incident.pk
    )
    earlier, similar_title = _title_match(earlier, incident.title)
    condition = similar_title
    if service_ids:
        condition |= Q(services__in=service_ids)
    if alert_names:
        condition |= Q(alerts__name__in=alert_names)
    matching_ids = earlier.filter(condition).values("pk")

    found, _ = _title_match(
        Incident.objects.filter(pk__in=matching_ids)
        .select_related("priority", "postmortem")
        .prefetch_related("services")
        .order_by("-detected_at", "-id"),
        incident.title,
    )
    found = list(found[:limit])
    if not found:
        return []
    shared_alerts: dict[int, set[str]] = {}
    if alert_names:
        rows = Alert.objects.filter(incident__in=found, name__in=alert_names).values_list(
            "incident_id", "name"
        )
        for incident_id, name in rows:
            shared_alerts.setdefault(incident_id, set()).add(name)
    words = set(title_words(incident.title))
    return [
        _related(other, incident, service_ids, shared_alerts.get(other.pk, set()), words) for other in found
    ]


def _related(
    other: Incident, incident: Incident, service_ids: list[int], alerts: set[str], words: set[str]
) -> RelatedIncident:
    reasons = []
    services = [s.name for s in other.services.all() if s.pk in service_ids]
    if services:
        reasons.append(f"same service: {', '.join(sorted(services))}")
    if alerts:
        reasons.append(f"same alert: {', '.join(sorted(alerts))}")
    similarity = getattr(other, "similarity", None)
    if similarity is not None and similarity >= SIMILARITY_THRESHOLD:
        reasons.append(f"similar title ({similarity:.0%})")
    elif similarity is None and words & set(title_words(other.title)):
        reasons.append(f"similar title (shares {', '.join(sorted(words & set(title_words(other.title))))})")
    postmortem = getattr(other, "postmortem", None)
    root_cause = ""
    if postmortem is not None and postmortem.root_cause.strip():
        root_cause = postmortem.root_cause.strip()
        if len(root_cause) > ROOT_CAUSE_CHARS:
            root_cause = root_cause[: ROOT_CAUSE_CHARS - 1].rstrip() + "…"
    return RelatedIncident(incident=other, reasons=reasons, root_cause=root_cause, postmortem=postmortem)

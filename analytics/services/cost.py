"""Writes of incident costs: hourly rates per team, and each incident's stored cost
(analytics.models.IncidentCost), recomputed from the record by analytics.cost."""

from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, QuerySet

from analytics.cost.record import default_rate, incident_cost_breakdown
from analytics.models import CostGroupKind, HourlyRate, IncidentCost, IncidentCostGroup
from analytics.rollups.services import analytics_rollups_refresh
from common.actor import Actor
from common.tasks import enqueue_on_commit
from incidents.models import Incident

CHANGE_RATES = "analytics.change_hourlyrate"
ADD_RATES = "analytics.add_hourlyrate"
DELETE_RATES = "analytics.delete_hourlyrate"
REPRICE_TASK = "analytics.tasks.incident_costs_reprice_team"


def incident_cost_refresh(*, incident_id: int, now: datetime | None = None) -> IncidentCost | None:
    """Compute the incident's cost from its record and store it (idempotent; None when the
    incident is gone). The incident row is locked so two refreshes store one after the other."""
    with transaction.atomic():
        incident = Incident.objects.select_for_update().filter(pk=incident_id).first()
        if incident is None:
            return None
        breakdown = incident_cost_breakdown(incident, now=now)
        cost, _ = IncidentCost.objects.update_or_create(
            incident=incident,
            defaults={
                "responders": len(breakdown.responders),
                "responder_seconds": breakdown.responder_seconds,
                "meeting_seconds": breakdown.meeting_seconds,
                "team": breakdown.rate.team,
                "rate": breakdown.rate.rate,
                "amount": breakdown.amount,
                "open": breakdown.open,
                "computed_at": breakdown.computed_at,
            },
        )
        incident_cost_groups_store(cost=cost)
        analytics_rollups_refresh(incident_ids=[incident.pk])
    return cost


def incident_cost_groups_store(*, cost: IncidentCost) -> None:
    """The distinct teams and service types of the incident's services (analytics groups by them)."""
    pairs = Incident.services.through.objects.filter(incident_id=cost.pk).values_list(
        "service__owner_team", "service__type"
    )
    wanted = {(CostGroupKind.TEAM, team) for team, _ in pairs} | {
        (CostGroupKind.SERVICE_TYPE, kind) for _, kind in pairs
    }
    stored = {(g.kind, g.key): g.pk for g in IncidentCostGroup.objects.filter(cost=cost)}
    gone = [pk for pair, pk in stored.items() if pair not in wanted]
    if gone:
        IncidentCostGroup.objects.filter(pk__in=gone).delete()
    IncidentCostGroup.objects.bulk_create(
        [IncidentCostGroup(cost=cost, kind=kind, key=key) for kind, key in wanted - set(stored)]
    )


def incident_costs_refresh(*, incidents: QuerySet[Incident], chunk: int = 500) -> int:
    """Refresh the costs of many incidents, each in its own transaction (for the sweep, a rate
    change and the rebuild command); returns how many."""
    done = 0
    for incident_id in incidents.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=chunk):
        if incident_cost_refresh(incident_id=incident_id) is not None:
            done += 1
    return done


def incident_costs_sweep(*, limit: int = 1000) -> int:
    """Beat: recompute the costs that went stale without a refresh of their own: open incidents'
    (their time grows and new responders join), those whose post-mortem changed since (the review
    meeting), rows priced at an earlier default rate, and incidents without a row (a lost message,
    history from before this feature). Up to `limit` of each per run, so a sweep after an upgrade
    works through history in bounded steps (`rebuild_incident_costs` does it all at once)."""
    batches = (
        IncidentCost.objects.filter(open=True),
        IncidentCost.objects.filter(incident__postmortem__updated_at__gt=F("computed_at")),
        IncidentCost.objects.filter(team="").exclude(rate=default_rate()),
    )
    ids = [pk for batch in batches for pk in batch.order_by("pk").values_list("pk", flat=True)[:limit]]
    ids += Incident.objects.filter(cost__isnull=True).order_by("-pk").values_list("pk", flat=True)[:limit]
    return incident_costs_refresh(incidents=Incident.objects.filter(pk__in=set(ids)))


def _rate_clean(*, team: str, rate: object, instance: HourlyRate | None = None) -> tuple[str, Decimal]:
    team = " ".join(str(team or "").split())
    errors: dict[str, list[str]] = {}
    if not team:
        errors["team"] = ["Name the team, as written in its services' owner team."]
    elif HourlyRate.objects.filter(team=team).exclude(pk=getattr(instance, "pk", None)).exists():
        errors["team"] = [f"{team} has a rate already."]
    try:
        value = Decimal(str(rate))
        if not value.is_finite() or value < 0 or value >= Decimal("1e8"):
            raise ValueError
        value = value.quantize(Decimal("0.01"))
    except (ValueError, ArithmeticError):
        errors["rate"] = ["A rate is a number from 0 to 99999999.99."]
        value = Decimal(0)
    if errors:
        raise ValidationError(errors)
    return team, value


def hourly_rate_save(*, by: Actor, team: str, rate: object, instance: HourlyRate | None = None) -> HourlyRate:
    """Add a team's rate or change it; the incidents of the team (old and new name) are repriced
    after commit."""
    by.require(CHANGE_RATES if instance else ADD_RATES, "change hourly rates")
    team, value = _rate_clean(team=team, rate=rate, instance=instance)
    with transaction.atomic():
        if instance is None:
            saved = HourlyRate.objects.create(team=team, rate=value)
            old_team = team
        else:
            saved = HourlyRate.objects.select_for_update().get(pk=instance.pk)
            old_team = saved.team
            saved.team, saved.rate = team, value
            saved.save(update_fields=["team", "rate", "updated_at"])
        for name in {old_team, team}:
            enqueue_on_commit(REPRICE_TASK, team=name)
    return saved


def hourly_rate_delete(*, by: Actor, rate: HourlyRate) -> None:
    """Remove a team's rate: its incidents fall back to another of their teams' rate or the default."""
    by.require(DELETE_RATES, "delete hourly rates")
    with transaction.atomic():
        HourlyRate.objects.filter(pk=rate.pk).delete()
        enqueue_on_commit(REPRICE_TASK, team=rate.team)


def incident_costs_reprice_team(*, team: str) -> int:
    """Recompute the costs of the incidents with a service of this team (a rate of theirs changed)."""
    incidents = Incident.objects.filter(
        pk__in=Incident.services.through.objects.filter(service__owner_team=team).values("incident_id")
    )
    return incident_costs_refresh(incidents=incidents)

"""The demo's two weeks of incidents, each told through the services at its scripted times."""

from datetime import timedelta
from typing import Any

from django.utils import timezone

from common.actor import Actor, Source
from demo.seed.failover import FAILOVER_POSTMORTEM, POOL_ADDRESS, POOL_ALERT, failover_action_items
from demo.seed.story import Story
from incidents.choices import (
    DismissalReason,
    Phase,
    Role,
    RootCauseCategory,
    UsersAffected,
    Visibility,
)
from incidents.models import Incident, Priority, Service
from incidents.services import (
    incident_acknowledge,
    incident_auto_resolve,
    incident_close,
    incident_dismiss,
    incident_hold,
    incident_note_add,
    incident_reopen,
    incident_resolve,
    incident_role_assign,
    incident_update,
    status_update_create,
)
from postmortems.services import (
    action_item_complete,
    action_item_start,
    postmortem_publish,
    postmortem_submit,
    postmortem_update,
)


def incidents_tell(*, services: dict[str, Service], users: dict[str, Any]) -> list[Incident]:
    now = timezone.now().replace(second=0, microsecond=0)
    p = {priority.code: priority for priority in Priority.objects.all()}
    s = services
    alice = Actor(user=users["alice"], source=Source.ADMIN)
    bob = Actor(user=users["bob"], source=Source.API)
    alertmanager = Actor.system(source=Source.SYSTEM, label="alertmanager")
    grafana = Actor.system(source=Source.SYSTEM, label="grafana")
    remediation = Actor.system(source=Source.TASK, label="auto-remediation")
    public = Visibility.PUBLIC

    failover = (
        Story(
            detected_at=now - timedelta(days=9, hours=3),
            impact_before=3,
            by=alertmanager,
            title="Primary database failover",
            description="PostgresPrimaryDown fired; checkout and sign-in return 500.",
            priority=p["P1"],
            services=[s["postgres-primary"], s["web"]],
        )
        .at(3, incident_acknowledge, by=alice)
        .at(4, incident_role_assign, by=alice, role=Role.COMMANDER, user=users["bob"])
        .at(5, incident_role_assign, by=alice, role=Role.TECHNICAL_LEAD, user=users["alice"])
        .at(
            6,
            incident_update,
            by=alice,
            changes={"users_affected": UsersAffected.ALL, "services_down": 2},
        )
        .at(
            8,
            status_update_create,
            by=bob,
            message="Checkout and sign-in are failing. We are on it.",
            visibility=public,
        )
        .at(
            20,
            status_update_create,
            by=alice,
            phase=Phase.IDENTIFIED,
            message="The primary lost its data disk. The replica was promoted, but the app pool "
            "still points at the old primary.",
        )
        .at(28, status_update_create, by=alice, phase=Phase.FIXING, message="Repointing the pool.")
        .at(
            35,
            status_update_create,
            by=bob,
            phase=Phase.MONITORING,
            visibility=public,
            message="A fix is in place and we are monitoring.",
        )
        .at(50, incident_resolve, by=alice, summary="Pool repointed at the promoted replica.")
        .at(
            70,
            incident_reopen,
            by=alice,
            reason="Write errors again: the pool recycled to the old address.",
        )
        .at(
            75,
            status_update_create,
            by=alice,
            phase=Phase.FIXING,
            message="Pinning the pool to the service address instead of the host.",
        )
        .at(95, incident_resolve, by=alice, summary="Pool pinned to the service address and restarted.")
        .at(100, incident_update, by=alice, changes={"root_cause_category": RootCauseCategory.HARDWARE})
        .draft_postmortem(110)
        .postmortem(420, postmortem_update, by=alice, data=FAILOVER_POSTMORTEM)
        .postmortem(1080, postmortem_submit, by=alice)
        .postmortem(1440, postmortem_publish, by=bob)
    )
    today = timezone.localdate(now)
    for minutes, item in enumerate(failover_action_items(users, today), start=1445):
        failover.action_item(minutes, by=bob, **item)
    failover = (
        failover.at(1500, incident_close, by=bob, note="Post-mortem published; action items tracked.")
        .on_item(2900, POOL_ALERT, action_item_start, by=alice)
        .on_item(5800, POOL_ALERT, action_item_complete, by=alice)
        .on_item(7300, POOL_ADDRESS, action_item_start, by=bob)
        .finish()
    )
    duplicate = (
        Story(
            detected_at=failover.detected_at + timedelta(minutes=2),
            by=grafana,
            title="Checkout error rate above 5 %",
            priority=p["P3"],
            services=[s["web"]],
        )
        .at(
            12,
            incident_dismiss,
            by=alice,
            reason="Same outage as the database failover.",
            dismissal_reason=DismissalReason.DUPLICATE,
            duplicate_of=failover,
        )
        .finish()
    )
    drill = (
        Story(
            detected_at=now - timedelta(days=6, hours=5),
            by=bob,
            title="Game day: edge network region failover",
            description="Planned exercise: drain eu-west at the load balancers, fail over to eu-central.",
            priority=p["P3"],
            services=[s["edge-network"]],
            is_drill=True,
        )
        .at(1, incident_acknowledge, by=bob)
        .at(2, incident_role_assign, by=bob, role=Role.COMMANDER, user=users["bob"])
        .at(3, incident_role_assign, by=bob, role=Role.SCRIBE, user=users["alice"])
        .at(10, status_update_create, by=bob, phase=Phase.FIXING, message="eu-west drained.")
        .at(24, incident_note_add, by=alice, message="DNS TTL of 300 s delayed the shift by four minutes.")
        .at(40, status_update_create, by=bob, phase=Phase.MONITORING, message="Traffic on eu-central.")
        .at(45, incident_resolve, by=bob, summary="Failover in 9 minutes; TTL to be lowered to 60 s.")
        .at(60, incident_close, by=bob, note="Drill complete.")
        .finish()
    )
    sso = (
        Story(
            detected_at=now - timedelta(days=4, hours=2),
            impact_before=15,
            by=grafana,
            title="SSO login failures for EU users",
            priority=p["P2"],
            services=[s["auth-sso"]],
        )
        .at(4, incident_acknowledge, by=alice)
        .at(5, incident_role_assign, by=alice, role=Role.COMMANDER, user=users["alice"])
        .at(6, incident_role_assign, by=alice, role=Role.COMMUNICATIONS_LEAD, user=users["bob"])
        .at(
            10,
            status_update_create,
            by=bob,
            visibility=public,
            message="Some customers in Europe cannot sign in. We are investigating.",
        )
        .at(
            30,
            status_update_create,
            by=alice,
            phase=Phase.IDENTIFIED,
            message="The EU identity provider's signing certificate expired at 06:00 UTC.",
        )
        .at(38, status_update_create, by=alice, phase=Phase.FIXING, message="Rotating the certificate.")
        .at(
            50,
            status_update_create,
            by=bob,
            phase=Phase.MONITORING,
            visibility=public,
            message="Sign-in works again; we are monitoring.",
        )
        .at(
            65,
            incident_update,
            by=alice,
            changes={
                "users_affected": UsersAffected.MANY,
                "root_cause_category": RootCauseCategory.CONFIGURATION_CHANGE,
            },
        )
        .at(80, incident_resolve, by=alice, summary="Certificate rotated; expiry alert added at 30 days.")
        .draft_postmortem(81)
        .postmortem(
            1500,
            postmortem_update,
            by=alice,
            data={
                "executive_summary": "For 95 minutes many customers in Europe could not sign in: the "
                "EU identity provider's SAML signing certificate expired and nothing warned us.",
                "root_cause": "The certificate was rotated by hand two years ago; its expiry was on "
                "nobody's calendar and not monitored.",
            },
        )
        .finish()
    )
    storage_lag = (
        Story(
            detected_at=now - timedelta(days=2, hours=1),
            by=bob,
            title="Replication lag on object storage eu-west",
            priority=p["P3"],
            services=[s["object-storage"]],
        )
        .at(15, incident_acknowledge, by=bob)
        .at(20, status_update_create, by=bob, message="Lag at 40 minutes and growing; one shelf degraded.")
        .at(40, incident_note_add, by=bob, message="Vendor case 88213 opened for the failed disk shelf.")
        .at(
            45,
            incident_hold,
            by=bob,
            reason="Waiting on the vendor to replace the disk shelf (case 88213).",
        )
        .at(300, status_update_create, by=bob, message="Vendor engineer booked for tomorrow morning.")
        .finish()
    )
    disk = (
        Story(
            detected_at=now - timedelta(days=1, hours=6),
            by=alertmanager,
            title="Disk usage above 90 % on storage node sn-07",
            priority=p["P4"],
            services=[s["object-storage"]],
        )
        .at(
            12,
            incident_auto_resolve,
            by=remediation,
            summary="Log rotation freed 38 GB; the alert resolved.",
        )
        .finish()
    )
    latency = (
        Story(
            detected_at=now - timedelta(hours=3),
            impact_before=10,
            by=alice,
            title="Checkout latency above 2 s",
            priority=p["P3"],
            services=[s["web"], s["postgres-primary"]],
        )
        .at(6, incident_acknowledge, by=alice)
        .at(8, incident_role_assign, by=alice, role=Role.COMMANDER, user=users["alice"])
        .at(9, incident_role_assign, by=alice, role=Role.TECHNICAL_LEAD, user=users["bob"])
        .at(
            12,
            status_update_create,
            by=alice,
            message="p95 checkout latency at 2.4 s; looking at the database.",
        )
        .at(
            20,
            incident_update,
            by=alice,
            changes={
                "priority": p["P2"],
                "users_affected": UsersAffected.MANY,
                "services_down": 1,
            },
        )
        .at(
            25,
            status_update_create,
            by=bob,
            visibility=public,
            message="Checkout is slow for some customers. We are investigating.",
        )
        .at(
            55,
            incident_note_add,
            by=bob,
            message="orders_by_customer switched to a sequential scan after last night's ANALYZE.",
        )
        .at(
            60,
            status_update_create,
            by=bob,
            phase=Phase.IDENTIFIED,
            message="A missing index on orders(customer_id, created_at).",
        )
        .at(
            95,
            status_update_create,
            by=bob,
            phase=Phase.FIXING,
            message="Building the index concurrently.",
        )
        .at(
            150,
            status_update_create,
            by=alice,
            phase=Phase.MONITORING,
            visibility=public,
            message="Checkout is fast again; we are monitoring.",
        )
        .finish()
    )
    fresh = Story(
        detected_at=now - timedelta(minutes=25),
        impact_before=7,
        by=alertmanager,
        title="Elevated 5xx rate on the storefront",
        description="HighErrorRate: 3.1 % of storefront requests return 5xx (threshold 1 %).",
        priority=p["P3"],
        services=[s["web"], s["payments-api"]],
    ).finish()
    return [failover, duplicate, drill, sso, storage_lag, disk, latency, fresh]

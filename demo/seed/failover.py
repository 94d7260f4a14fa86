"""The finished example: the published post-mortem of the P1 database failover, and what it agreed."""

from datetime import date, timedelta
from typing import Any

from postmortems.choices import ActionItemKind

# The finished example: the published post-mortem of the P1 database failover, and what it agreed.
FAILOVER_POSTMORTEM: dict[str, Any] = {
    "executive_summary": (
        "For 98 minutes the storefront could not take orders and customers could not sign in: the "
        "PostgreSQL primary lost its data disk, and although the replica was promoted within a minute, "
        "the application's connection pool kept connecting to the old primary by host address. A first "
        "fix was undone 20 minutes later when the pool recycled its connections. Pinning the pool to "
        "the database service address ended the outage. 14 orders had to be re-created by hand."
    ),
    "users_affected": "All storefront customers: about 52,000 sessions saw errors",
    "data_loss": True,
    "data_loss_details": (
        "14 orders committed in the last two seconds before the disk failed had not reached the "
        "replica. Support re-created them from the payment provider's records the next morning."
    ),
    "failed_transactions": "18,400 checkout attempts and 6,100 sign-ins failed",
    "financial_impact": "About EUR 31,000 in lost orders (from the same hours of the previous four weeks)",
    "detection": (
        "PostgresPrimaryDown fired in Alertmanager 3 minutes after the first write errors and paged "
        "the on-call responder, who acknowledged 3 minutes later. Customers reported failed checkouts "
        "on social media 6 minutes in."
    ),
    "root_cause": (
        "The primary's data disk failed. Automatic failover promoted the replica correctly, but every "
        "application server resolves the primary's host name once at start-up and the connection pool "
        "reconnects to that cached address, so the application kept writing to a dead host. The first "
        "fix repointed the running pools; their scheduled recycle 20 minutes later reconnected them to "
        "the cached old address."
    ),
    "five_whys": [
        {
            "question": "Why did checkout and sign-in fail?",
            "answer": "Every write went to the old primary, which had lost its data disk.",
        },
        {
            "question": "Why did the application write to the old primary after failover?",
            "answer": "Its connection pool reuses the address resolved at start-up, not the service address.",
        },
        {
            "question": "Why does the pool use a resolved address?",
            "answer": "The pool's configuration predates the move to a service address for the database.",
        },
        {
            "question": "Why was the old configuration not caught?",
            "answer": "Nothing checks pool targets, and failover has never been tested with the application.",
        },
        {
            "question": "Why has failover not been tested end to end?",
            "answer": "Game days covered the edge network only; no one owned a database failover drill.",
        },
    ],
    "contributing_factors": (
        "The first fix repointed running pools but not the configuration they recycle from.\n"
        "Alerting watches the database, not connection errors seen by the application.\n"
        "The replica promotion runbook stops at the database and says nothing about clients.\n"
        "Asynchronous replication allowed the last two seconds of writes to be lost."
    ),
    "resolution": (
        "Pinned the connection pool to the database service address on every application server and "
        "restarted the pools; write errors stopped at once and stayed at zero."
    ),
    "what_went_well": (
        "Automatic failover promoted the replica in under a minute.\n"
        "The page reached the on-call responder within 3 minutes, and roles were assigned at once.\n"
        "Public status updates went out within 8 minutes and every 30 minutes after."
    ),
    "what_could_be_improved": (
        "We declared the incident resolved before the pools had recycled once.\n"
        "Nobody knew which hosts the application actually connected to.\n"
        "Orders lost in replication were found by support, not by a check."
    ),
    "lessons_learned": (
        "A failover is finished when the clients follow it, not when the database does. Test it with "
        "the application attached, and wait one full pool recycle before calling it resolved."
    ),
    "supporting_links": [
        {"title": "Replica promotion runbook", "url": "https://runbooks.example.com/postgres-primary"},
        {
            "title": "Storefront database dashboard during the incident",
            "url": "https://grafana.example.com/d/pg-primary/postgres-primary?from=now-10d&to=now-9d",
        },
        {"title": "Pool pinned to the service address", "url": "https://git.example.com/shop/app/pull/4812"},
    ],
}
POOL_ALERT = "Alert on connection errors seen by the application, per target address."
POOL_ADDRESS = "Check in CI that every connection pool targets the database service address, never a host."
FAILOVER_RUNBOOK = (
    "Extend the replica promotion runbook: repoint clients, wait one pool recycle, verify writes."
)
FAILOVER_DRILL = "Run a database failover game day with the storefront attached, every quarter."


def failover_action_items(users: dict[str, Any], today: date) -> list[dict[str, Any]]:
    """Agreed at the review; by today one is done, one under way, one overdue and one not started."""
    return [
        {
            "description": POOL_ALERT,
            "kind": ActionItemKind.MONITORING,
            "owner": users["alice"],
            "due_date": today - timedelta(days=4),
        },
        {
            "description": POOL_ADDRESS,
            "kind": ActionItemKind.CONFIGURATION,
            "owner": users["bob"],
            "due_date": today + timedelta(days=5),
            "follow_up_url": "https://git.example.com/shop/app/issues/4820",
        },
        {
            "description": FAILOVER_RUNBOOK,
            "kind": ActionItemKind.RUNBOOK,
            "owner": users["alice"],
            "due_date": today - timedelta(days=2),
        },
        {
            "description": FAILOVER_DRILL,
            "kind": ActionItemKind.PROCESS,
            "owner": users["bob"],
            "due_date": today + timedelta(days=30),
        },
    ]

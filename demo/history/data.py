"""The generated history's fixed tables: catalog, checks, targets, weights and texts."""

from actions.choices import Category
from incidents.choices import IncidentStatus, RootCauseCategory, ServiceType
from postmortems.choices import ActionItemKind, ActionItemStatus, PostmortemStatus

MARKER = "Synthetic history (generate_history)."
BATCH_SIZE = 10_000
S = IncidentStatus
R = RootCauseCategory
A = ActionItemStatus
P = PostmortemStatus
RUNBOOKS = "https://runbooks.example.com"
SOURCE_SLUG = "history"

# slug, name, type, owner team, tier, how incident-prone (relative), its dominating root cause.
SERVICES = [
    ("web", "Web storefront", ServiceType.WEB, "Storefront", 1, 1.6, (R.DEPLOYMENT, 0.45)),
    ("payments-api", "Payments API", ServiceType.WEB, "Payments", 1, 1.3, (R.DEPENDENCY, 0.45)),
    ("checkout-worker", "Checkout worker", ServiceType.OTHER, "Payments", 2, 0.7, None),
    (
        "postgres-primary",
        "PostgreSQL primary",
        ServiceType.DATABASE,
        "Data platform",
        1,
        1.0,
        (R.RESOURCE_EXHAUSTION, 0.45),
    ),
    ("redis-cache", "Redis cache", ServiceType.DATABASE, "Platform", 2, 0.8, (R.CAPACITY, 0.4)),
    ("auth-sso", "Auth / SSO", ServiceType.AUTH, "Identity", 1, 0.8, (R.CONFIGURATION_CHANGE, 0.4)),
    ("object-storage", "Object storage", ServiceType.STORAGE, "Storage", 2, 0.6, None),
    ("backup-vault", "Backup vault", ServiceType.STORAGE, "Data platform", 3, 0.3, None),
    ("edge-network", "Edge network", ServiceType.NETWORK, "Network", 1, 0.7, (R.NETWORK, 0.5)),
    ("internal-dns", "Internal DNS", ServiceType.NETWORK, "Platform", 2, 0.4, None),
    ("search", "Search", ServiceType.OTHER, "Discovery", 2, 0.5, None),
    ("data-pipeline", "Data pipeline", ServiceType.OTHER, "Data platform", 3, 0.6, None),
]
BASE_ROOT_CAUSES = {
    R.CONFIGURATION_CHANGE: 0.2,
    R.DEPLOYMENT: 0.2,
    R.RESOURCE_EXHAUSTION: 0.15,
    R.CAPACITY: 0.1,
    R.DEPENDENCY: 0.12,
    R.NETWORK: 0.08,
    R.HARDWARE: 0.05,
    R.SECURITY: 0.03,
    R.UNKNOWN: 0.07,
}
# Alert names are <Target><Check>, as Prometheus rules usually are: (check, title template) per type.
CHECKS = {
    ServiceType.WEB: [
        ("HighLatency", "p99 latency above 2 s on {t}"),
        ("Http5xxRate", "5xx rate above 5% on {t}"),
        ("InstanceDown", "{t} instances down"),
        ("ErrorBudgetBurn", "error budget burning fast on {t}"),
    ],
    ServiceType.DATABASE: [
        ("ReplicationLag", "replication lag over 60 s on {t}"),
        ("DiskAlmostFull", "disk almost full on {t}"),
        ("ConnectionsExhausted", "connection pool exhausted on {t}"),
        ("SlowQueries", "slow queries piling up on {t}"),
    ],
    ServiceType.AUTH: [
        ("LoginErrors", "sign-in errors on {t}"),
        ("TokenLatency", "token issuance slow on {t}"),
        ("IdpUnreachable", "identity provider unreachable via {t}"),
    ],
    ServiceType.STORAGE: [
        ("BucketErrors", "request errors on the {t} bucket"),
        ("VolumeFull", "{t} volume nearly full"),
        ("ReplicationBacklog", "replication backlog on {t}"),
    ],
    ServiceType.NETWORK: [
        ("PacketLoss", "packet loss in {t}"),
        ("DnsFailures", "DNS resolution failures in {t}"),
        ("LoadBalancerUnhealthy", "unhealthy load balancer targets in {t}"),
    ],
    ServiceType.OTHER: [
        ("QueueBacklog", "queue backlog on {t}"),
        ("JobFailures", "job failures on {t}"),
        ("HighMemory", "memory pressure on {t}"),
    ],
}
TARGETS = {
    "web": ["checkout", "cart", "search", "login", "orders", "images"],
    "payments-api": ["charge", "refund", "acquirer-a", "acquirer-b", "wallets"],
    "checkout-worker": ["orders", "emails", "invoices", "stock"],
    "postgres-primary": ["db-1", "db-2", "replica-a", "replica-b"],
    "redis-cache": ["sessions", "carts", "rate-limits"],
    "auth-sso": ["saml", "oidc", "password", "mfa"],
    "object-storage": ["images", "invoices", "exports"],
    "backup-vault": ["nightly", "wal", "snapshots"],
    "edge-network": ["eu-west", "us-east", "ap-south", "pop-3"],
    "internal-dns": ["eu-west", "us-east"],
    "search": ["indexer", "suggest", "query"],
    "data-pipeline": ["ingest", "nightly", "exports", "warehouse"],
}
DEFAULT_TARGETS = ["main", "secondary", "batch"]
PRIORITY_WEIGHTS = {"P1": 3, "P2": 12, "P3": 35, "P4": 40, "P5": 10}
# Action template key, name, category, success rate when a human or a rule tries it. Service
# restart is the flaky one, so the "review that action" recommendation has something to say.
ACTIONS = [
    ("service-restart", "Service restart", Category.RESTART, 0.62),
    ("disk-cleanup", "Disk cleanup", Category.CLEANUP, 0.92),
    ("memory-cleanup", "Memory cleanup", Category.CLEANUP, 0.9),
    ("health-check", "Health check", Category.HEALTH, 0.97),
    ("log-collection", "Log collection", Category.DIAGNOSTICS, 0.99),
]
AUTO_FIXES = {
    ServiceType.WEB: "service-restart",
    ServiceType.DATABASE: "disk-cleanup",
    ServiceType.AUTH: "service-restart",
    ServiceType.STORAGE: "disk-cleanup",
    ServiceType.NETWORK: "service-restart",
    ServiceType.OTHER: "memory-cleanup",
}
AUTO_RATE = {
    ServiceType.WEB: 0.14,
    ServiceType.DATABASE: 0.16,
    ServiceType.AUTH: 0.06,
    ServiceType.STORAGE: 0.22,
    ServiceType.NETWORK: 0.05,
    ServiceType.OTHER: 0.18,
}
RESPONDERS = [
    ("sre-dana", "Dana"),
    ("sre-erik", "Erik"),
    ("sre-fatima", "Fatima"),
    ("sre-goran", "Goran"),
    ("sre-hana", "Hana"),
    ("sre-ivo", "Ivo"),
]
ROOT_CAUSE_TEXT = {
    R.CONFIGURATION_CHANGE: "A configuration change rolled out to every instance at once, without a canary.",
    R.DEPLOYMENT: "A release shipped a regression that the staging tests did not cover.",
    R.RESOURCE_EXHAUSTION: "A resource ran out (disk, memory, connections) after growth nobody watched.",
    R.CAPACITY: "Traffic outgrew the provisioned capacity during a peak.",
    R.DEPENDENCY: "An upstream dependency degraded and our timeouts let it take us down with it.",
    R.NETWORK: "Packet loss between zones after a provider's maintenance.",
    R.HARDWARE: "A failing disk on one host slowed the whole pool.",
    R.SECURITY: "A credential was rotated by the provider before ours was updated.",
    R.UNKNOWN: "The cause was not found; the symptoms stopped after a restart.",
}
ITEM_TEXT = {
    ActionItemKind.MONITORING: "Alert on the leading signal, before customers notice",
    ActionItemKind.RUNBOOK: "Write the runbook section for this failure mode",
    ActionItemKind.AUTOMATION: "Automate the manual fix used during the incident",
    ActionItemKind.CONFIGURATION: "Add a guard rail to the configuration that allowed this",
    ActionItemKind.PROCESS: "Add a canary stage to the rollout process",
    ActionItemKind.TRAINING: "Walk the on-call rotation through this incident",
}

"""Mitigate settings, read from the environment (and `.env` when present).

Embedded default: SQLite and Celery's filesystem broker under `var/`, so nothing needs installing.
Production: set DATABASE_URL (PostgreSQL) and REDIS_URL (broker and cache).
"""

import ipaddress
import os
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from config import celery_schedule
from config.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. `make run` writes one to .env; in production set it in the environment."
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Fernet keys for secrets at rest, newest first (see common/crypto.py). Unset: derived from
# SECRET_KEY, which then must never change; `make` writes a real key into .env.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEY", default=[])
# Running commands on the worker's own machine: for development and demos only.
ALLOW_LOCAL_PROVIDER = env.bool("ALLOW_LOCAL_PROVIDER", default=False)
ACTION_APPROVAL_TTL = timedelta(minutes=env.int("ACTION_APPROVAL_TTL_MINUTES", default=60))
ACTION_OUTPUT_CAP_BYTES = env.int("ACTION_OUTPUT_CAP_BYTES", default=256 * 1024)
ACTION_MAX_PARALLEL_HOSTS = env.int("ACTION_MAX_PARALLEL_HOSTS", default=50)
# Grace on top of a run's step timeouts before the sweeper calls it abandoned (and kills what its
# dead worker left running). With a sweep every ACTION_SWEEP_SECONDS, a dead worker is noticed
# within margin + sweep interval (a minute by default) of the run's timeouts.
ACTION_ABANDON_MARGIN = timedelta(seconds=env.int("ACTION_ABANDON_MARGIN_SECONDS", default=30))
VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)
# Prometheus metrics (observability/): each web process writes its counters to files here, read
# together at /metrics. Set before anything imports prometheus_client, which reads it at import;
# gunicorn.conf.py and `make run` empty it at start.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(VAR_DIR / "prometheus"))
Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
# Report charts use matplotlib, which caches its font list: keep that under var/, not in $HOME.
os.environ.setdefault("MPLCONFIGDIR", str(VAR_DIR / "matplotlib"))

INSTALLED_APPS = [
    # django.contrib.admin with the ops home as its first page (common/adminsite.py).
    "common.adminsite.OpsAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "csp",
    "common",
    "incidents",
    "actions",
    "alerts",
    "postmortems",
    "notifications",
    "oncall",
    "statuspage",
    "analytics",
    "drills",
    "observability",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The alert webhook is answered from here: it needs none of the middleware below.
    "common.middleware.LeanPathMiddleware",
    # Static files in production, without a separate web server (right after SecurityMiddleware,
    # so they get HSTS too).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "common.middleware.ApiRequestLimitsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as axes requires: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database: SQLite by default, PostgreSQL via DATABASE_URL ---------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'mitigate.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN, so the web process and the worker queue up instead
    # of failing with "database is locked" when both write.
    # WAL lets the web process read while the worker writes step output.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # A file, not the in-memory default: shared-cache memory databases fail at once with "table
    # is locked" when worker threads write together, instead of waiting like a real file does.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-mitigate.sqlite3")}
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    # A persistent connection the server dropped (restart, failover, an idle timeout) is noticed at
    # the start of the next request and replaced, instead of failing that request.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # PostgreSQL's JIT compiles any query its planner thinks costly, which for our short queries
    # costs more than it saves: 300 ms of compiling for a 90 ms analytics query at a million
    # incidents (bench/analytics.py). A DATABASE_URL that sets `options` keeps its own.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
# The webhook's statement is prepared once per connection (alerts.services.ingest_upsert), once
# the alerts table is large enough for its generic plan; false behind a pooler that cannot keep
# prepared statements (PgBouncer before 1.21 in transaction mode).
DB_PREPARED_STATEMENTS = env.bool("DB_PREPARED_STATEMENTS", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and Celery: Redis via REDIS_URL, otherwise files under var/ -------------------------
REDIS_URL = env("REDIS_URL", default="")
# Publishing gives up quickly when the broker is down: the webhook must answer, and what it stored
# stays unprocessed for the sweeper. (Workers reconnect on their own terms, not with these options.)
BROKER_FAIL_FAST = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "socket_connect_timeout": 2}
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # A Redis that hangs must not hang requests: callers (the webhook's rate limiter) fail open.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = BROKER_FAIL_FAST
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
    # A host name the transport ignores: without one kombu warns "No hostname was supplied" on every
    # connection, into the console of `make run`.
    CELERY_BROKER_URL = "filesystem://localhost/"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Producer and consumer share one folder: messages are files, moved once consumed.
        "data_folder_in": str(VAR_DIR / "broker" / "queue"),
        "data_folder_out": str(VAR_DIR / "broker" / "queue"),
        "processed_folder": str(VAR_DIR / "broker" / "processed"),
        "control_folder": str(VAR_DIR / "broker" / "control"),
        "store_processed": False,
    }
    # The filesystem transport has no broadcast exchange for remote control.
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
    for _folder in ("queue", "processed", "control"):
        (VAR_DIR / "broker" / _folder).mkdir(parents=True, exist_ok=True)

CELERY_TASK_DEFAULT_QUEUE = "default"
PERIODIC_QUEUE = celery_schedule.PERIODIC_QUEUE
CELERY_TASK_ROUTES = celery_schedule.TASK_ROUTES
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes every database connection before and after every task unless this is
# set, then only every this many tasks; config/celery.py recycles them as Django does per request.
CELERY_DB_REUSE_MAX = 1000
CELERY_TASK_IGNORE_RESULT = True
# What a task prints is output, not a warning (celery's default level for it).
CELERY_WORKER_REDIRECT_STDOUTS_LEVEL = "INFO"
CELERY_BEAT_SCHEDULE = celery_schedule.beat_schedule(env)
CELERY_TIMEZONE = "UTC"

# --- Auth, API ---------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

# Login lockout (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one username from one
# address, that pair is refused for LOGIN_LOCKOUT_MINUTES. Admins unlock early by deleting the
# row under Axes > Access attempts (or `manage.py axes_reset_username NAME`).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "common.throttles.client_ip"
AXES_LOCKOUT_CALLABLE = "common.views.login_locked_out"
# Proxies in front of the web server that append to X-Forwarded-For (0: none, the client connects
# directly). Client addresses for throttling and lockout are read accordingly; a client cannot
# choose its own by sending the header.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)

# API tokens (common.ApiToken): only their SHA-256 is stored.
API_TOKEN_TTL = timedelta(days=env.int("API_TOKEN_TTL_DAYS", default=90))
# Bad credentials (API tokens, webhook tokens) per client address within a window before 429.
AUTH_FAILURE_LIMIT = env.int("AUTH_FAILURE_LIMIT", default=20)
AUTH_FAILURE_WINDOW_SECONDS = env.int("AUTH_FAILURE_WINDOW_SECONDS", default=300)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "common.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["common.api.permissions.ModelPermissions"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "common.api.pagination.OrderedPageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "common.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "common.api.exceptions.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "NUM_PROXIES": NUM_PROXIES,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Mitigate API",
    "DESCRIPTION": "Incidents, alerts, remediation actions and post-mortems.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # JSON is the API's documented body format; form posts are for the browsable API only.
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "common.api.schema.add_error_responses",
    ],
    # Choice sets whose field names collide across apps (status, kind) get a name of their own.
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "incidents.choices.IncidentStatus",
        "RunStatusEnum": "actions.choices.RunStatus",
        "StepStatusEnum": "actions.choices.StepStatus",
        "ProviderKindEnum": "actions.choices.ProviderKind",
        "KindEnum": "incidents.choices.EventKind",
        "SourceEnum": "common.actor.Source",
        "AlertStatusEnum": "alerts.choices.AlertStatus",
        "SourceKindEnum": "alerts.choices.SourceKind",
        "PostmortemStatusEnum": "postmortems.choices.PostmortemStatus",
        "ActionItemStatusEnum": "postmortems.choices.ActionItemStatus",
        "ActionItemKindEnum": "postmortems.choices.ActionItemKind",
        "EntrySourceEnum": "postmortems.choices.EntrySource",
        "ReportTypeEnum": "analytics.models.ReportType",
        "PriorityCodeEnum": "oncall.choices.PRIORITY_CODES",
        # Kept under its earlier name now that reports also have a "type".
        "TypeEnum": "incidents.choices.ServiceType",
        "ReportRunStatusEnum": "analytics.models.RunStatus",
        "DrillScenarioKindEnum": "drills.choices.ScenarioKind",
        "DrillStartModeEnum": "drills.choices.StartMode",
        "DrillStatusEnum": "drills.choices.DrillStatus",
        "ApiTokenStatusEnum": "common.models.ApiTokenStatus",
        "ChannelKindEnum": "notifications.choices.ChannelKind",
        "ContactKindEnum": "notifications.choices.ContactKind",
        "NotificationEventKindEnum": "notifications.choices.EventKind",
        "DeliveryStatusEnum": "notifications.choices.DeliveryStatus",
        "RecipientRoleEnum": "notifications.choices.RecipientRole",
        "AudienceEnum": "notifications.choices.Audience",
        "ComponentStatusEnum": "statuspage.choices.ComponentStatus",
        "PublicStatusEnum": "statuspage.choices.PublicStatus",
        "ImpactEnum": "statuspage.choices.Impact",
        "PublicIncidentKindEnum": "statuspage.choices.Kind",
        "SubscriberKindEnum": "statuspage.choices.SubscriberKind",
        "SubscriberStatusEnum": "statuspage.choices.SubscriberStatus",
    },
}

# --- /metrics (observability/) ------------------------------------------------------------------
# Who may scrape: a bearer token, or clients in these networks (CIDR, comma-separated; addresses as
# NUM_PROXIES reads them). Neither set: /metrics refuses everyone.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
try:
    METRICS_ALLOWED_NETWORKS = [
        ipaddress.ip_network(network.strip(), strict=False)
        for network in env.list("METRICS_ALLOWED_NETWORKS", default=[])
        if network.strip()
    ]
except ValueError as error:
    raise ImproperlyConfigured(f"METRICS_ALLOWED_NETWORKS: {error}") from None

# --- Requests ----------------------------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MAX_REQUEST_BYTES", default=1024 * 1024)

# Defaults for new alert sources; each source can change its own.
ALERT_RATE_LIMIT_PER_MINUTE = env.int("ALERT_RATE_LIMIT_PER_MINUTE", default=600)
ALERT_MAX_BODY_BYTES = env.int("ALERT_MAX_BODY_BYTES", default=1024 * 1024)
ALERT_MAX_LABELS = env.int("ALERT_MAX_LABELS", default=64)
ALERT_MAX_LABEL_NAME_LENGTH = env.int("ALERT_MAX_LABEL_NAME_LENGTH", default=256)
ALERT_MAX_LABEL_VALUE_LENGTH = env.int("ALERT_MAX_LABEL_VALUE_LENGTH", default=2048)
ALERT_MAX_ANNOTATION_VALUE_LENGTH = env.int("ALERT_MAX_ANNOTATION_VALUE_LENGTH", default=16384)
# Wrong tokens one client (by address, as DRF's throttles see it) may send the webhook in a minute
# before getting 429 for the rest of that minute.
ALERT_WEBHOOK_AUTH_FAILURES_PER_MINUTE = env.int("ALERT_WEBHOOK_AUTH_FAILURES_PER_MINUTE", default=30)
# Processing attempts an alert gets before it is marked failed (with its error) and left alone.
ALERT_PROCESSING_MAX_ATTEMPTS = env.int("ALERT_PROCESSING_MAX_ATTEMPTS", default=5)

# --- Email and links in it ---------------------------------------------------------------------
# Production: smtp://user:password@host:587 (smtp+tls:// or smtp+ssl:// for encryption). Unset: each
# email is written to a file under var/mail/, so they neither bury the console nor get lost.
if env("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Mitigate <mitigate@localhost>")
# The port `make run`'s web server listens on. honcho hands every process a PORT of its own (the
# worker gets PORT+100), so the Makefile passes the web server's as MITIGATE_WEB_PORT too.
WEB_PORT = env.int("MITIGATE_WEB_PORT", default=env.int("PORT", default=8000))
# Where links in emails point: the address people reach the admin at.
SITE_URL = env("SITE_URL", default=f"http://127.0.0.1:{WEB_PORT}").rstrip("/")

# --- On call (oncall/) -------------------------------------------------------------------------
# Escalation delays are configured in minutes; tests compress a minute to a second or less.
ONCALL_MINUTE_SECONDS = env.float("ONCALL_MINUTE_SECONDS", default=60.0)
ONCALL_ACK_LINK_MAX_AGE = timedelta(hours=env.int("ONCALL_ACK_LINK_MAX_AGE_HOURS", default=24))
# Acknowledge by opening an SMS's link, without logging in (the link is the credential): off by default.
ONCALL_SMS_ONE_CLICK_ACK = env.bool("ONCALL_SMS_ONE_CLICK_ACK", default=False)
# The sweeper sends again the message of an escalation step this late (a lost message, a dead worker).
ONCALL_SWEEP_GRACE_SECONDS = env.float("ONCALL_SWEEP_GRACE_SECONDS", default=10.0)
# Slack interactivity (Acknowledge / Resolve buttons): requests are verified with this secret.
SLACK_SIGNING_SECRET = env("SLACK_SIGNING_SECRET", default="")
# --- Status page (statuspage/) ------------------------------------------------------------------
# How long a subscriber's confirmation link works.
STATUSPAGE_CONFIRM_MAX_AGE_HOURS = env.int("STATUSPAGE_CONFIRM_MAX_AGE_HOURS", default=48)
# The public subscribe form: requests per client address an hour, confirmation emails per address a day.
STATUSPAGE_SUBSCRIBE_PER_IP_PER_HOUR = env.int("STATUSPAGE_SUBSCRIBE_PER_IP_PER_HOUR", default=5)
STATUSPAGE_CONFIRM_EMAILS_PER_DAY = env.int("STATUSPAGE_CONFIRM_EMAILS_PER_DAY", default=3)
# Everyone who gets every published post-mortem, besides the incident's people and service owners.
POSTMORTEM_STAKEHOLDERS = env.list("POSTMORTEM_STAKEHOLDERS", default=[])
# Action items due within this many days are in the owner's daily digest along with overdue ones.
ACTION_ITEM_DUE_SOON_DAYS = env.int("ACTION_ITEM_DUE_SOON_DAYS", default=3)
# The cost of an incident (analytics.cost): the hourly rate of teams without one of their own (set
# in the admin), and the one currency all rates are in, so costs add up across teams.
COST_DEFAULT_HOURLY_RATE = env.str("COST_DEFAULT_HOURLY_RATE", default="100")
COST_CURRENCY = env.str("COST_CURRENCY", default="USD")

# --- Notifications -----------------------------------------------------------------------------
# Where messages link for the public status (the status page, or your own); empty leaves it out.
STATUS_PAGE_URL = env("STATUS_PAGE_URL", default="")
# Attempts a delivery gets on transient failures (backing off from the base, doubling, up to an
# hour) before it is dead; permanent failures in a row that disable a channel.
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=6)
NOTIFICATIONS_RETRY_BASE_SECONDS = env.int("NOTIFICATIONS_RETRY_BASE_SECONDS", default=30)
NOTIFICATIONS_DISABLE_AFTER = env.int("NOTIFICATIONS_DISABLE_AFTER", default=3)
# The sweeper re-sends what is this late; a send claimed this long ago without an outcome is lost.
NOTIFICATIONS_SWEEP_GRACE_SECONDS = env.int("NOTIFICATIONS_SWEEP_GRACE_SECONDS", default=30)
NOTIFICATIONS_SEND_TIMEOUT_SECONDS = env.int("NOTIFICATIONS_SEND_TIMEOUT_SECONDS", default=300)
# Provider endpoints (tests point them at local receivers) and SMS to people's own phones.
NOTIFICATIONS_SLACK_API_URL = env("NOTIFICATIONS_SLACK_API_URL", default="https://slack.com/api/")
NOTIFICATIONS_TWILIO_API_URL = env("NOTIFICATIONS_TWILIO_API_URL", default="")
# "ACCOUNT_SID:AUTH_TOKEN" and the sending number for SMS to contact methods (channels have their own).
NOTIFICATIONS_TWILIO_CREDENTIALS = env("NOTIFICATIONS_TWILIO_CREDENTIALS", default="")
NOTIFICATIONS_SMS_FROM = env("NOTIFICATIONS_SMS_FROM", default="")

# --- HTTPS and browser security -----------------------------------------------------------------
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Behind a proxy that terminates TLS: trust its X-Forwarded-Proto to tell HTTPS requests apart.
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
# Load balancers probe over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Sent on HTTPS responses only. Preloading commits the whole domain to HTTPS in browsers' source
# code: the domain owner's decision, so off unless asked for (and check --deploy's reminder silenced).
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = ["security.W021"]
X_FRAME_OPTIONS = "DENY"
# No inline or third-party script anywhere (the admin, the dashboard and Swagger UI load theirs
# from /static/). Inline styles stay allowed: status badges and charts use style attributes, and
# a style cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where `collectstatic` gathers the files that WhiteNoise serves.
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Production serves hashed, compressed copies made by `manage.py collectstatic` (WhiteNoise gives
# them far-future cache headers); DEBUG serves the apps' files as they are.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

LOGGING = logging_config(level=env("LOG_LEVEL", default="INFO"))

"""The logging configuration (dictConfig), read by config.settings."""


def logging_config(*, level: str) -> dict:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            # Request paths in Django's own log lines lose their secrets: a source token is the webhook path.
            "redact_secrets": {
                "()": "common.logfilters.RedactSecrets",
                "paths": [
                    r"/hooks/(?P<secret>[^/?#\s\"']+)",
                    # A calendar feed's token is its URL's last part, before ".ics".
                    r"/oncall/feeds/(?P<secret>[^/?#\s\"'.]+)",
                    # A page's acknowledge link, in its path and in a login redirect's ?next=.
                    r"(?i:/|%2F)oncall(?i:/|%2F)ack(?i:/|%2F)(?P<secret>(?:%3A|[^/?#&%\s\"'])+)",
                    # Status page subscribers' confirm and unsubscribe links.
                    r"/status/(?:subscribe/confirm|unsubscribe)/(?P<secret>[^/?#\s\"']+)",
                ],
            },
            "require_debug_true": {"()": "django.utils.log.RequireDebugTrue"},
        },
        "formatters": {
            "django.server": {
                "()": "django.utils.log.ServerFormatter",
                "format": "[{server_time}] {message}",
                "style": "{",
            },
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler"},
            # Django's own runserver handler, redefined here because its logger gets the filter below.
            "django.server": {
                "class": "logging.StreamHandler",
                "formatter": "django.server",
                "filters": ["require_debug_true"],
            },
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # paramiko logs every connection at INFO and failed handshakes as tracebacks; runs record both.
            "paramiko": {"level": "WARNING"},
            # Axes logs every login and its start-up banner at INFO; lockouts are WARNING.
            "axes": {"level": "WARNING"},
            # HTTP clients log request URLs and bodies at DEBUG/INFO, and a Slack, Teams or apprise
            # URL is the channel's secret; the delivery ledger records what was sent instead.
            "urllib3": {"level": "WARNING"},
            "slack_sdk": {"level": "WARNING"},
            "twilio": {"level": "WARNING"},
            "apprise": {"level": "WARNING"},
            "django.request": {"filters": ["redact_secrets"]},
            "django.server": {
                "handlers": ["django.server"],
                "level": "INFO",
                "propagate": False,
                "filters": ["redact_secrets"],
            },
        },
    }

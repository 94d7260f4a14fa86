from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "common"
    # Its admin holds API tokens.
    verbose_name = "Access"

from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data for `make run` (seed_demo, generate_history, the banner). It sits above every app
    and nothing imports it."""

    name = "demo"
    verbose_name = "Demo"

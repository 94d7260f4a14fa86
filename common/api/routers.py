from rest_framework.routers import DefaultRouter


class Router(DefaultRouter):
    """DRF's router without the `.json` format-suffix routes: custom actions do not take the
    `format` argument those routes pass (a 500), and the API speaks JSON only anyway."""

    include_format_suffixes = False

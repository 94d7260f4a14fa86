from django.db import models

from common.models import BaseModel
from oncall.models.schedule import validate_time_zone
from statuspage.validators import validate_colour, validate_http_url


class PageSettings(BaseModel):
    """The status page's branding and access: one row (pk 1), created by the migration.

    The logo is stored in the database and served by the page itself, so the page loads nothing from
    elsewhere. With `private` set, every page, feed and JSON URL asks for a staff login."""

    name = models.CharField(max_length=100, default="Status")
    logo = models.BinaryField(blank=True, default=b"", editable=True)
    logo_content_type = models.CharField(max_length=40, blank=True)
    accent_colour = models.CharField(max_length=7, default="#175cd3", validators=[validate_colour])
    support_url = models.CharField(max_length=300, blank=True, validators=[validate_http_url])
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="Times on the page, and the days of the history bars, are in this zone.",
    )
    private = models.BooleanField(
        default=False, help_text="Internal status page: a staff login is needed to read it."
    )
    history_days = models.PositiveSmallIntegerField(default=90)

    class Meta:
        verbose_name = "page settings"
        verbose_name_plural = "page settings"

    def __str__(self) -> str:
        return "Status page settings"

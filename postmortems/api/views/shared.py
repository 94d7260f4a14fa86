"""What the post-mortem and action item endpoints share."""

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse

from common.api.serializers import ErrorSerializer
from common.api.views import BAD_INPUT, FORBIDDEN

REFUSED = OpenApiResponse(
    ErrorSerializer,
    description="code transition_not_allowed: not possible from the current status (a published "
    "post-mortem no longer changes); code conflict: someone changed it meanwhile (reload and retry).",
)
TRANSITION_ERRORS = {400: BAD_INPUT, 403: FORBIDDEN, 409: REFUSED}


class ListFiltersOnly:
    """Query parameters filter the list only, never the object an action works on."""

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        return super().filter_queryset(queryset) if self.action == "list" else queryset

"""Pieces every app's API views share: body parsers, input validation and error responses."""

from drf_spectacular.utils import OpenApiResponse
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.request import Request
from rest_framework.serializers import Serializer

from common.api.serializers import ErrorSerializer

BAD_INPUT = OpenApiResponse(ErrorSerializer, description="Invalid input: detail, code and field errors.")
FORBIDDEN = OpenApiResponse(ErrorSerializer, description="Not allowed for this user.")
WRITE_ERRORS = {400: BAD_INPUT, 403: FORBIDDEN}

# Both read the body through Django, which enforces DATA_UPLOAD_MAX_MEMORY_SIZE (413). Multipart is
# left out: nothing here takes files, and uploaded files would bypass that limit.
PARSERS = [JSONParser, FormParser]


def validated(serializer_class: type[Serializer], request: Request) -> dict:
    """The request body checked by an input serializer (400 with field errors otherwise)."""
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)

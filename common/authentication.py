"""`Authorization: Token <key>` for the REST API, against hashed keys (common.ApiToken)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from common.selectors import api_token_authenticate
from common.throttles import AuthFailureThrottle


class ApiTokenAuthentication(BaseAuthentication):
    """Tooling's authentication. A client address that sends too many bad tokens is refused (429)
    for the rest of the window, so keys cannot be guessed at speed."""

    keyword = "Token"

    def authenticate(self, request: Request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None  # Not ours: session authentication may still apply.
        throttle = AuthFailureThrottle("api-token")
        throttle.check(request)
        # The header arrives as Latin-1 bytes; any byte string decodes, and only real keys match.
        token = api_token_authenticate(key=parts[1].decode("latin-1")) if len(parts) == 2 else None
        if token is None or not token.user.is_active:
            throttle.record_failure(request)
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema (and Swagger UI's Authorize button) describes the header."""

    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Token")

"""How the OpenAPI schema (drf-spectacular) describes Kefu's own authentication."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class IntegrationTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "tickets.authentication.IntegrationTokenAuthentication"
    name = "integrationToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'An integration token, sent as "Authorization: Token <key>" '
            "(manage.py issue_token).",
        }

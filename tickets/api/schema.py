"""How the OpenAPI schema (drf-spectacular) describes Kefu's own authentication: the
integration token's security scheme with its scopes, and on each endpoint the scope a token
needs, read from the view's `HasScope` permission."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema

from tickets.authentication import required_scopes
from tickets.models import TokenScope


class ScopedAutoSchema(AutoSchema):
    """Adds `x-required-scopes` and a sentence naming the scopes to every operation that needs
    a token scope. OpenAPI 3.0 allows scopes in a security requirement only for OAuth, so
    the requirement itself stays `{"integrationToken": []}`."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        scopes = required_scopes(self.view)
        if operation is None or not scopes:
            return operation
        named = ", ".join(f"`{scope}`" for scope in scopes)
        sentence = f"Needs an integration token with the scope {named}; without it: 403."
        description = operation.get("description", "")
        operation["description"] = f"{description}\n\n{sentence}" if description else sentence
        operation["x-required-scopes"] = scopes
        # A staff session is refused there; only the token is a way in.
        operation["security"] = [{IntegrationTokenScheme.name: []}]
        return operation


class IntegrationTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "tickets.authentication.IntegrationTokenAuthentication"
    name = "integrationToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        scopes = "\n".join(f"- `{scope.value}`: {scope.label}" for scope in TokenScope)
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'An integration token, sent as "Authorization: Token <key>" '
            "(`manage.py issue_token NAME --scope SCOPE`, or the admin). A token opens only "
            "the endpoints of its scopes:\n" + scopes,
        }

"""Token authentication for integrations (shop systems, PBXs, gateways).

Every integration call is authenticated, so each process keeps the active tokens (by hash) in
a cache that follows the "tokens" revision: issuing, revoking or editing a token bumps it
(tickets/apps.py) and every process sees the change within seconds.
"""

import threading
import time
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.permissions import BasePermission

from kefu.revisions import RevisionCache
from tickets.models import IntegrationToken, TokenScope
from tickets.services.tokens import token_hash

TOKENS_REVISION = "tokens"
# How often a token's last use is written, per process.
LAST_USED_EVERY = 60.0


def _active_tokens() -> dict[str, IntegrationToken]:
    return {token.key_hash: token for token in IntegrationToken.objects.filter(is_active=True)}


token_cache: RevisionCache[dict[str, IntegrationToken]] = RevisionCache(
    (TOKENS_REVISION,), _active_tokens
)
_last_written: dict[int, float] = {}
_last_written_lock = threading.Lock()


def _note_use(token: IntegrationToken) -> None:
    """Record the token's last use, at most once a minute per token and process, so busy
    integrations do not write on every call."""
    now = time.monotonic()
    with _last_written_lock:
        if now - _last_written.get(token.pk, -LAST_USED_EVERY) < LAST_USED_EVERY:
            return
        _last_written[token.pk] = now
    IntegrationToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())


class IntegrationUser:
    """The request's user for an integration token: authenticated, but no staff role."""

    is_authenticated = True
    is_active = True
    is_superuser = False
    is_staff = False
    pk = None
    id = None

    def __init__(self, token: IntegrationToken) -> None:
        self.token = token
        self.username = f"integration:{token.name}"

    def __str__(self) -> str:
        return self.username


class IntegrationTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request: Any) -> tuple[IntegrationUser, IntegrationToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Malformed token header."))
        try:
            key = header[1].decode()
        except UnicodeDecodeError as error:
            raise exceptions.AuthenticationFailed(_("Malformed token header.")) from error
        token = token_cache.get().get(token_hash(key))
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid or inactive token."))
        _note_use(token)
        return IntegrationUser(token), token

    def authenticate_header(self, request: Any) -> str:
        return self.keyword


class HasScope(BasePermission):
    """DRF permission: the request carries an active integration token holding the scope.

    Declared on the view as `permission_classes = [HasScope.of(TokenScope.INBOUND_APP)]`.
    The schema (tickets/api/schema.py) reads the scope from here, so the documented and the
    enforced scope cannot differ. A staff session is refused too: these endpoints act for an
    integration, not for a person.
    """

    code = "missing_scope"
    scope = ""

    @classmethod
    def of(cls, scope: TokenScope) -> type["HasScope"]:
        return type(f"HasScope_{scope.name}", (cls,), {"scope": scope.value})

    @property
    def message(self) -> str:
        # Read when refusing, so it is in the language of the request.
        return _("This needs an integration token with the scope “%(scope)s”.") % {
            "scope": self.scope
        }

    def has_permission(self, request: Any, view: Any) -> bool:
        token = request.auth
        return isinstance(token, IntegrationToken) and token.has_scope(self.scope)


def required_scopes(view: Any) -> list[str]:
    """The scopes a view's permissions ask of a token, in the order declared."""
    return [
        permission.scope
        for permission in getattr(view, "permission_classes", ())
        if isinstance(permission, type) and issubclass(permission, HasScope)
    ]

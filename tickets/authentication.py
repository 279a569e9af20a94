"""Token authentication for integrations (shop systems, PBXs, gateways)."""

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.permissions import BasePermission

from tickets.models import IntegrationToken
from tickets.services import token_hash


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
        token = IntegrationToken.objects.filter(key_hash=token_hash(key), is_active=True).first()
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid or inactive token."))
        now = timezone.now()
        # Written at most once a minute per token, so busy integrations do not write per call.
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            IntegrationToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return IntegrationUser(token), token

    def authenticate_header(self, request: Any) -> str:
        return self.keyword


class IsIntegration(BasePermission):
    """DRF permission: the request carries an active integration token."""

    def has_permission(self, request: Any, view: Any) -> bool:
        return isinstance(request.auth, IntegrationToken)

"""Integration tokens: issued once, kept only as hashes."""

import hashlib
import secrets

from django.contrib.auth.models import User

from tickets.models import (
    AuditEntry,
    IntegrationToken,
)


def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_issue(*, name: str, actor: User | None) -> tuple[IntegrationToken, str]:
    """Create a token and return it with its key, which is not stored and cannot be shown
    again."""
    key = secrets.token_urlsafe(32)
    token = IntegrationToken.objects.create(name=name, prefix=key[:8], key_hash=token_hash(key))
    AuditEntry.objects.create(
        actor=actor, action="token_issued", object_type="token", object_id=str(token.pk)
    )
    return token, key

"""Integration tokens: issued once with their scopes, kept only as hashes."""

import hashlib
import secrets
from collections.abc import Sequence

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from tickets.models import AuditEntry, IntegrationToken, TokenScope


def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_scopes_clean(scopes: Sequence[str]) -> list[str]:
    """The scopes in the order given, without repeats; ValidationError names an unknown one."""
    unknown = [scope for scope in scopes if scope not in TokenScope.values]
    if unknown:
        raise ValidationError(
            _("Unknown scope %(scope)s; the scopes are: %(known)s.")
            % {"scope": ", ".join(unknown), "known": ", ".join(TokenScope.values)}
        )
    return list(dict.fromkeys(scopes))


def token_issue(
    *, name: str, scopes: Sequence[str], actor: User | None
) -> tuple[IntegrationToken, str]:
    """Create a token that may do what its scopes allow and return it with its key, which is
    not stored and cannot be shown again. Raises ValidationError for an unknown scope."""
    cleaned = token_scopes_clean(scopes)
    key = secrets.token_urlsafe(32)
    token = IntegrationToken.objects.create(
        name=name, prefix=key[:8], key_hash=token_hash(key), scopes=cleaned
    )
    AuditEntry.objects.create(
        actor=actor,
        action="token_issued",
        object_type="token",
        object_id=str(token.pk),
        data={"scopes": cleaned},
    )
    return token, key


def token_change(
    *,
    token: IntegrationToken,
    name: str,
    is_active: bool,
    scopes: Sequence[str],
    actor: User | None,
) -> IntegrationToken:
    """Rename, revoke or re-activate a token, or change its scopes; a change of scopes is
    audited with the scopes before and after. Every process sees the change within seconds
    (the "tokens" revision, tickets/apps.py)."""
    cleaned = token_scopes_clean(scopes)
    before = list(IntegrationToken.objects.filter(pk=token.pk).values_list("scopes", flat=True))
    token.name, token.is_active, token.scopes = name, is_active, cleaned
    token.save(update_fields=["name", "is_active", "scopes"])
    if before and before[0] != cleaned:
        AuditEntry.objects.create(
            actor=actor,
            action="token_scopes_changed",
            object_type="token",
            object_id=str(token.pk),
            data={"before": before[0], "after": cleaned},
        )
    return token

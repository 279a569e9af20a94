"""PBXs and their tokens, blocked callers, and which team hears a queue."""

import hmac
import secrets

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction

from channels_ingest.models import BlockedNumber, Pbx, PbxQueue
from tickets.identity import normalise_phone
from tickets.models import AuditEntry, Team
from tickets.services.tokens import token_hash


def pbx_issue(*, name: str, default_team: Team | None, actor: User | None) -> tuple[Pbx, str]:
    """Create a PBX and return it with its token, which is not stored and cannot be shown
    again. Raises ValidationError for a name that cannot be in a URL, IntegrityError when
    the name is taken."""
    validate_slug(name)
    pbx = Pbx(name=name, default_team=default_team)
    key = pbx_save_with_new_token(pbx=pbx, actor=actor)
    return pbx, key


def pbx_save_with_new_token(*, pbx: Pbx, actor: User | None) -> str:
    """Save the PBX (new, or existing: its old token stops working at once) with a fresh
    token, and return the token."""
    key = secrets.token_urlsafe(32)
    pbx.prefix, pbx.key_hash = key[:8], token_hash(key)
    with transaction.atomic():
        adding = pbx._state.adding
        pbx.save()
        AuditEntry.objects.create(
            actor=actor,
            action="pbx_token_issued" if adding else "pbx_token_rotated",
            object_type="pbx",
            object_id=str(pbx.pk),
        )
    return key


def pbx_authenticate(*, name: str, key: str) -> Pbx | None:
    """The active PBX of that name, if `key` is its token."""
    pbx = Pbx.objects.filter(name=name, is_active=True).first()
    if pbx is None or not key:
        return None
    if not hmac.compare_digest(pbx.key_hash, token_hash(key)):
        return None
    return pbx


def team_for_queue(*, pbx: Pbx | None, queue: str) -> Team | None:
    """The team mapped to the PBX's queue, else the PBX's default team (else None, and the
    core uses Kefu's default team)."""
    if pbx is None:
        return None
    if queue:
        mapped = PbxQueue.objects.select_related("team").filter(pbx=pbx, queue=queue).first()
        if mapped is not None:
            return mapped.team
    return pbx.default_team


def is_blocked(raw: str) -> bool:
    try:
        phone = normalise_phone(raw)
    except ValidationError:
        return False
    return BlockedNumber.objects.filter(phone=phone).exists()

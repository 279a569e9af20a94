"""Writes of the app channel: the devices the shop's app registers for push."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from channels_ingest.models import PushToken


def push_token_register(*, user_id: str, platform: str, token: str) -> tuple[PushToken, bool]:
    """Register a device token for an app user. Idempotent: the same token again changes
    nothing; a token registered for another user moves to this one (the device changed
    hands). Returns the token and whether anything changed."""
    for _attempt in range(2):
        existing = PushToken.objects.filter(platform=platform, token=token).first()
        if existing is not None:
            if existing.user_id == user_id:
                # Seen again: it is the device's current token, so it sorts first.
                PushToken.objects.filter(pk=existing.pk).update(updated_at=timezone.now())
                return existing, False
            moved = PushToken.objects.filter(pk=existing.pk).update(user_id=user_id)
            existing.user_id = user_id
            return existing, bool(moved)
        try:
            with transaction.atomic():
                return (
                    PushToken.objects.create(user_id=user_id, platform=platform, token=token),
                    True,
                )
        except IntegrityError:
            # Registered at the same moment by another request: the unique key decided; read
            # what it stored and go round once more.
            continue
    raise RuntimeError("push token registration did not settle")


def push_token_remove(*, platform: str, token: str) -> bool:
    """Forget a device token (the app logged out, or the push service rejected it)."""
    deleted, _detail = PushToken.objects.filter(platform=platform, token=token).delete()
    return deleted > 0

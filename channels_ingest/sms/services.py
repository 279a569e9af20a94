"""SMS writes: opt-outs, and the status Twilio reports for messages we sent."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from channels_ingest.models import SmsChannel, SmsOptOut
from kefu.revisions import RevisionCache
from tickets.identity import normalise_phone
from tickets.models import DeliveryStatus, Direction, Message
from tickets.services.delivery import message_delivery_update

# Twilio's MessageStatus values → ours.
TWILIO_STATUS = {
    "queued": DeliveryStatus.QUEUED,
    "accepted": DeliveryStatus.QUEUED,
    "sending": DeliveryStatus.QUEUED,
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.DELIVERED,
    "undelivered": DeliveryStatus.FAILED,
    "failed": DeliveryStatus.FAILED,
}


def sms_opt_out(*, phone: str, keyword: str) -> SmsOptOut:
    try:
        with transaction.atomic():
            return SmsOptOut.objects.create(phone=phone, keyword=keyword[:20])
    except IntegrityError:
        return SmsOptOut.objects.get(phone=phone)


def sms_opt_in(*, phone: str) -> bool:
    return SmsOptOut.objects.filter(phone=phone).delete()[0] > 0


def is_opted_out(phone: str) -> bool:
    return SmsOptOut.objects.filter(phone=phone).exists()


def opted_out(phones: list[str]) -> set[str]:
    """The numbers among `phones` that opted out, in one statement."""
    return set(SmsOptOut.objects.filter(phone__in=phones).values_list("phone", flat=True))


def sms_status_update(
    *, message_sid: str, status: str, error_code: str, provider: str = "Twilio"
) -> Message | None:
    """Apply a delivery status callback to the message we sent with that SID. Statuses only
    move forward (a late "sent" does not undo "delivered")."""
    ours = DeliveryStatus(TWILIO_STATUS.get(status, DeliveryStatus.QUEUED))
    message = (
        Message.objects.select_related("ticket")
        .filter(delivery_ref=message_sid, direction=Direction.OUT)
        .first()
    )
    if message is None:
        return None
    order = [DeliveryStatus.QUEUED, DeliveryStatus.SENT, DeliveryStatus.DELIVERED]
    current = DeliveryStatus(message.delivery_status)
    if current == DeliveryStatus.FAILED or (
        ours in order and current in order and order.index(ours) <= order.index(current)
    ):
        return message
    return message_delivery_update(
        message=message,
        status=ours,
        reference=message_sid,
        error=f"{provider} error {error_code}" if error_code else "",
    )


def auth_token_for(*, account_sid: str, our_number: str) -> str:
    """The auth token that signs a webhook: the SMS channel's (admin) found by the account
    SID Twilio sends, else by our number; else TWILIO_AUTH_TOKEN (single provider)."""
    from django.conf import settings

    channels = sms_channel_cache.get()
    if account_sid:
        by_account = next((c for c in channels if c.account_sid == account_sid), None)
        if by_account is not None:
            return by_account.auth_token
    try:
        number = normalise_phone(our_number)
    except ValidationError:
        number = our_number
    by_number = next((c for c in channels if c.number == number), None)
    if by_number is not None:
        return by_number.auth_token
    return settings.TWILIO_AUTH_TOKEN


SMS_CHANNELS_REVISION = "sms_channels"


def _active_channels() -> list[SmsChannel]:
    return list(SmsChannel.objects.filter(is_active=True).order_by("pk"))


# Every webhook needs a channel's token: kept per process, following the "sms_channels"
# revision, which any save or delete of an SMS channel bumps (channels_ingest/apps.py).
sms_channel_cache: RevisionCache[list[SmsChannel]] = RevisionCache(
    (SMS_CHANNELS_REVISION,), _active_channels
)

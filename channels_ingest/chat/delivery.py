"""Outbound chat messages: pushed to the visitor's open widgets over the channel layer."""

from channels_ingest.chat.services import chat_reply_push
from tickets.delivery import DeliveryResult, Outbound
from tickets.models import DeliveryStatus


class ChatSocketBackend:
    """Publishes the message to the visitor's chat group and reports it `sent`. It becomes
    `delivered` when a widget confirms it has shown it, at once when the visitor is there,
    otherwise when they come back and the history shows it."""

    def send(self, outbound: Outbound) -> DeliveryResult:
        chat_reply_push(outbound=outbound)
        return DeliveryResult(status=DeliveryStatus.SENT, provider_id=outbound.reference)

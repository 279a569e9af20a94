"""The outbox delivery backend: stores the message instead of sending it."""

from channels_ingest.models import OutboxEntry
from tickets.delivery import DeliveryResult, Outbound
from tickets.models import DeliveryStatus


class OutboxBackend:
    def send(self, outbound: Outbound) -> DeliveryResult:
        entry = OutboxEntry.objects.create(
            channel=outbound.channel,
            to=outbound.to,
            subject=outbound.subject[:255],
            body=outbound.body,
            kind=outbound.kind,
            ticket_number=outbound.ticket_number,
            reference=outbound.reference,
        )
        return DeliveryResult(status=DeliveryStatus.SENT, provider_id=f"outbox-{entry.pk}")

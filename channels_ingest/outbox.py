"""The outbox delivery backend: stores the message instead of sending it; and how the outbox
is shown to supervisors: contact details masked as on the ticket page, one-time codes hidden,
until someone reveals an entry (audited)."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from channels_ingest.models import OutboxEntry, SmsOptOut
from tickets.delivery import DeliveryResult, Outbound
from tickets.identity import mask_identity
from tickets.models import Channel, DeliveryStatus, IdentityKind


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


class SmsOutboxBackend(OutboxBackend):
    """The outbox for SMS, honouring opt-outs as the gateway's backend does."""

    def accepts(self, to: str) -> bool:
        return not SmsOptOut.objects.filter(phone=to).exists()

    def accepts_many(self, addresses: list[str]) -> set[str]:
        opted_out = SmsOptOut.objects.filter(phone__in=addresses).values_list("phone", flat=True)
        return set(addresses) - set(opted_out)

    def send(self, outbound: Outbound) -> DeliveryResult:
        if not self.accepts(outbound.to):
            return DeliveryResult(status=DeliveryStatus.FAILED, error="the number opted out")
        return super().send(outbound)


# What an entry's `to` is, by channel (tickets.delivery.Outbound): the app's and chat's are
# user and session ids, shown as the ticket page shows them.
_ADDRESS_KIND: dict[str, str] = {
    Channel.SMS: IdentityKind.PHONE,
    Channel.PHONE: IdentityKind.PHONE,
    Channel.EMAIL: IdentityKind.EMAIL,
}

CODE_KIND = "code"


@dataclass(frozen=True)
class OutboxRow:
    """One outbox entry as a page shows it."""

    entry: OutboxEntry
    to: str
    body: str
    # Something is held back that a reveal would show.
    is_masked: bool


def outbox_row(entry: OutboxEntry, *, revealed: bool) -> OutboxRow:
    if revealed:
        return OutboxRow(entry=entry, to=entry.to, body=entry.body, is_masked=False)
    kind = _ADDRESS_KIND.get(entry.channel, "")
    to = mask_identity(kind, entry.to) if kind else entry.to
    # A one-time code opens a customer's ticket on the self-service page: whoever reads it
    # could. Its message is nothing but the code, so all of it is held back.
    body = _("(one-time code, hidden)") if entry.kind == CODE_KIND else entry.body
    return OutboxRow(entry=entry, to=to, body=body, is_masked=(to, body) != (entry.to, entry.body))

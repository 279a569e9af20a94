from django.utils.dateparse import parse_datetime

from channels_ingest.models import InboundRecord
from tickets.inbound import Identity, InboundMessage
from tickets.models import Channel, IdentityKind


def app_inbound(record: InboundRecord) -> InboundMessage:
    payload = record.payload
    identities = []
    for field, kind in (
        ("user_id", IdentityKind.APP_USER),
        ("phone", IdentityKind.PHONE),
        ("email", IdentityKind.EMAIL),
    ):
        value = payload.get(field)
        if value:
            identities.append(Identity(kind=kind, value=str(value)))
    sent_at = parse_datetime(payload["sent_at"]) if payload.get("sent_at") else None
    return InboundMessage(
        channel=Channel.APP,
        provider_id=record.provider_id,
        identities=identities,
        text=str(payload.get("text", "")),
        name=str(payload.get("name") or ""),
        sent_at=sent_at,
        promised_ticket_number=record.ticket_number,
    )

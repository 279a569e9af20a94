from channels_ingest.models import InboundRecord
from tickets.inbound import Identity, InboundMessage
from tickets.models import Channel, IdentityKind


def sms_inbound(record: InboundRecord) -> InboundMessage:
    payload = record.payload
    media = int(payload.get("NumMedia") or 0)
    urls = [payload.get(f"MediaUrl{index}", "") for index in range(min(media, 10))]
    text = str(payload.get("Body", ""))
    if urls:
        text = "\n".join([text, *[f"[media] {url}" for url in urls if url]]).strip()
    return InboundMessage(
        channel=Channel.SMS,
        provider_id=record.provider_id,
        identities=[Identity(kind=IdentityKind.PHONE, value=str(payload.get("From", "")))],
        text=text or "(empty SMS)",
    )

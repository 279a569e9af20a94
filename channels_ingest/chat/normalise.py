from channels_ingest.models import ChatSite, InboundRecord
from tickets.inbound import Identity, InboundMessage
from tickets.models import Channel, IdentityKind


def chat_inbound(record: InboundRecord) -> InboundMessage:
    """A stored widget frame as a message. The payload holds the frame as it arrived and the
    identity the socket proved when it connected (a signed user id or `visitor:<id>`); both
    kinds are app-user identities, so a signed-in shop user is the same customer in the app
    and in the widget, and replies on chat are addressed to that identity."""
    payload = record.payload
    frame = payload.get("frame") or {}
    site = ChatSite.objects.filter(key=str(payload.get("site", ""))).only("team_id").first()
    return InboundMessage(
        channel=Channel.CHAT,
        provider_id=record.provider_id,
        identities=[Identity(kind=IdentityKind.APP_USER, value=str(payload.get("address", "")))],
        text=str(frame.get("text", "")).strip(),
        name=str(payload.get("name") or ""),
        # The site's team answers, as the widget told the visitor (its hours, its agents).
        team_id=site.team_id if site is not None else None,
    )

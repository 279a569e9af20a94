from typing import Any

from django.core.files.storage import default_storage

from channels_ingest.models import ChatSite, InboundRecord
from tickets.inbound import Identity, InboundAttachment, InboundMessage
from tickets.models import Channel, IdentityKind

# Where the upload endpoint keeps a visitor's files (channels_ingest/chat/uploads.py).
UPLOAD_PREFIX = "chat-uploads/"


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
        attachments=_frame_files(frame),
        name=str(payload.get("name") or ""),
        # The site's team answers, as the widget told the visitor (its hours, its agents).
        team_id=site.team_id if site is not None else None,
    )


def _frame_files(frame: dict[str, Any]) -> list[InboundAttachment]:
    """The files the upload endpoint stored and named in the frame (checked and re-encoded
    there). A name outside the upload folder is never read: a frame only names files its
    own endpoint wrote."""
    files = []
    for item in frame.get("files") or []:
        path = str(item.get("path", ""))
        if not path.startswith(UPLOAD_PREFIX) or ".." in path:
            continue
        try:
            with default_storage.open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            data = None
        files.append(
            InboundAttachment(
                filename=str(item.get("name", "file"))[:255],
                content_type=str(item.get("type", "application/octet-stream"))[:127],
                size=int(item.get("size", 0)),
                md5=str(item.get("md5", "")),
                sha256=str(item.get("sha256", "")),
                data=data,
                refused_reason="" if data is not None else "stored upload missing",
            )
        )
    return files
